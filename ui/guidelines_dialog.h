#pragma once
// Typing the labeling guidelines in the workbench (Run -> Labeling
// guidelines): Markdown on the left, as annotators will see it on the right,
// and a file to start from (Import). UI thread.
#include <QDialog>

class QPlainTextEdit;
class QTextBrowser;

namespace preflab {

class GuidelinesDialog : public QDialog {
    Q_OBJECT
public:
    explicit GuidelinesDialog(const QString& markdown, QWidget* parent = nullptr);
    QString markdown() const;
    // Replaces the text with a file's; why not, when it cannot be read (else empty).
    QString importFile(const QString& path);
    QString preview() const;  // the rendered text, for tests

private:
    QPlainTextEdit* m_edit;
    QTextBrowser* m_preview;
};

}  // namespace preflab
