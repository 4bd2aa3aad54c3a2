#include "ui/edit_response_dialog.h"

#include <QDialogButtonBox>
#include <QFontDatabase>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRadioButton>
#include <QShortcut>
#include <QVBoxLayout>

namespace preflab {

EditResponseDialog::EditResponseDialog(const QString& left, const QString& right, QWidget* parent)
    : QDialog(parent), m_left(left), m_right(right) {
    setWindowTitle(tr("Edit a response to the one you prefer"));
    auto* intro = new QLabel(tr("Rewrite one response into the answer you would prefer. It is stored as a correction: "
                                "your text preferred over the original, both kept, under your name. The pair itself "
                                "stays on screen to label as usual."));
    intro->setWordWrap(true);
    m_leftButton = new QRadioButton(tr("Start from the left response"));
    m_rightButton = new QRadioButton(tr("Start from the right response"));
    m_leftButton->setChecked(true);
    auto* sides = new QHBoxLayout;
    sides->addWidget(m_leftButton);
    sides->addWidget(m_rightButton);
    sides->addStretch();
    m_edit = new QPlainTextEdit(left);
    // The raw text (Markdown as written): a monospace font keeps code and tables aligned.
    m_edit->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_edit->setMinimumSize(640, 360);
    m_buttons = new QDialogButtonBox(QDialogButtonBox::Save | QDialogButtonBox::Cancel);
    m_buttons->button(QDialogButtonBox::Save)->setText(tr("Save as preferred  [Ctrl+Return]"));
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(intro);
    layout->addLayout(sides);
    layout->addWidget(m_edit, 1);
    layout->addWidget(m_buttons);
    connect(m_buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(m_leftButton, &QRadioButton::toggled, this, &EditResponseDialog::sideChanged);
    connect(m_edit, &QPlainTextEdit::textChanged, this, &EditResponseDialog::textChanged);
    auto* save = new QShortcut(QKeySequence(Qt::CTRL | Qt::Key_Return), this);
    connect(save, &QShortcut::activated, this, [this] {
        if (m_buttons->button(QDialogButtonBox::Save)->isEnabled()) accept();
    });
    textChanged();
    m_edit->setFocus();
}

bool EditResponseDialog::fromLeft() const {
    return m_leftButton->isChecked();
}

QString EditResponseDialog::text() const {
    return m_edit->toPlainText();
}

void EditResponseDialog::setText(const QString& text) {
    m_edit->setPlainText(text);
}

void EditResponseDialog::startFromRight() {
    m_rightButton->setChecked(true);
}

void EditResponseDialog::sideChanged() {
    // Only an unedited text follows the side: an edit in progress is never
    // thrown away (the side buttons are disabled while it differs).
    m_edit->setPlainText(fromLeft() ? m_left : m_right);
}

void EditResponseDialog::textChanged() {
    const QString original = fromLeft() ? m_left : m_right;
    const bool edited = m_edit->toPlainText() != original;
    // Nothing to store until the text differs from the one it started from,
    // and an empty response is no answer.
    m_buttons->button(QDialogButtonBox::Save)->setEnabled(edited && !m_edit->toPlainText().trimmed().isEmpty());
    m_leftButton->setEnabled(!edited);
    m_rightButton->setEnabled(!edited);
    const QString why = edited ? tr("Your edit is of this response: undo your changes to start from the other one.") : QString();
    m_leftButton->setToolTip(why);
    m_rightButton->setToolTip(why);
}

}  // namespace preflab
