#pragma once
// Edit to prefer (issue 31): the annotator rewrites one of the two responses
// on screen into the one they would prefer. The edited text is stored as the
// chosen response against the original (a correction pair, both texts kept;
// storage/records.h PreferredEditRow), as TRL's and Argilla's correction
// workflows do. The dialog only edits: LabelingView sends the result. UI thread.
#include <QDialog>

class QDialogButtonBox;
class QPlainTextEdit;
class QRadioButton;

namespace preflab {

class EditResponseDialog : public QDialog {
    Q_OBJECT
public:
    // The texts on screen, left and right, as given (raw, not rendered).
    EditResponseDialog(const QString& left, const QString& right, QWidget* parent = nullptr);
    bool fromLeft() const;  // which response the edit starts from
    QString text() const;   // the edited text
    void setText(const QString& text);  // as typing would (tests)
    void startFromRight();              // as the radio button would (tests)

private:
    void sideChanged();
    void textChanged();

    QString m_left, m_right;
    QRadioButton* m_leftButton;
    QRadioButton* m_rightButton;
    QPlainTextEdit* m_edit;
    QDialogButtonBox* m_buttons;
};

}  // namespace preflab
