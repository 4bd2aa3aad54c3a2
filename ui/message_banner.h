#pragma once
// A non-blocking banner across the top of the window for errors and notices
// (a training error pauses the run and appears here; nothing is lost).
// UI thread.
#include <QFrame>

class QLabel;

namespace preflab {

class MessageBanner : public QFrame {
    Q_OBJECT
public:
    enum class Kind { Info, Warning, Error };
    explicit MessageBanner(QWidget* parent = nullptr);
    void showMessage(const QString& text, Kind kind);
    QString text() const;
    Kind kind() const { return m_kind; }

private:
    Kind m_kind = Kind::Info;
    QLabel* m_text;
};

}  // namespace preflab
