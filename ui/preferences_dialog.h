#pragma once
// Preferences: the annotator's name, the labeling keys (two per action),
// whether the model's and judges' opinions are revealed after labeling, and
// monospace responses. Refuses a key bound to two actions. UI thread.
#include "ui/key_bindings.h"

#include <QDialog>
#include <QMap>

class QCheckBox;
class QKeySequenceEdit;
class QLabel;
class QLineEdit;

namespace preflab {

struct UiPreferences {
    QString annotator;
    QStringList annotators;  // everyone who labeled here before, newest first (the labeling view offers them)
    KeyBindings keys;
    bool revealOpinions = true;
    bool monospace = false;
};

class PreferencesDialog : public QDialog {
    Q_OBJECT
public:
    PreferencesDialog(const UiPreferences& prefs, QWidget* parent = nullptr);
    UiPreferences preferences() const;

    void accept() override;

private:
    QLineEdit* m_annotator;
    QCheckBox* m_reveal;
    QCheckBox* m_monospace;
    QMap<LabelAction, QPair<QKeySequenceEdit*, QKeySequenceEdit*>> m_edits;
    QLabel* m_error;
};

}  // namespace preflab
