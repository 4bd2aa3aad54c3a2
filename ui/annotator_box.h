#pragma once
// The labeling view's annotator box: who is labeling, switchable at any time
// (also during a run). Type a name or pick one of the people who labeled
// here before; Enter or a pick applies it. A name is applied as storage
// stores it (trimmed, NFC), and one storage would refuse (control
// characters, over-long) is refused here, where it was typed, instead of
// failing its labels' writes. UI thread.
#include <QComboBox>

namespace preflab {

class AnnotatorBox : public QComboBox {
    Q_OBJECT
public:
    explicit AnnotatorBox(QWidget* parent = nullptr);

    QString name() const { return m_name; }
    // Sets the name without announcing it (the caller knows).
    void setName(const QString& name);
    // The names offered (people who labeled here before).
    void setProfiles(const QStringList& names);

Q_SIGNALS:
    // Entered or picked: a name different from the one before.
    void nameApplied(const QString& name);
    // Entered or picked and unchanged, or refused: the keys go back to labeling.
    void done();
    void refused(const QString& problem);

private:
    void apply();
    QString m_name;
};

}  // namespace preflab
