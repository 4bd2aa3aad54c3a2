#include "ui/preferences_dialog.h"

#include <QCheckBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QKeySequenceEdit>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QVBoxLayout>

namespace preflab {

PreferencesDialog::PreferencesDialog(const UiPreferences& prefs, QWidget* parent) : QDialog(parent) {
    setWindowTitle(tr("Preferences"));
    m_annotator = new QLineEdit(prefs.annotator);
    m_annotator->setObjectName(QStringLiteral("annotator"));
    m_annotator->setPlaceholderText(tr("stored with every label you give"));
    m_reveal = new QCheckBox(tr("After I label a pair, show the model's implicit rewards and the task judge's verdict"));
    m_reveal->setChecked(prefs.revealOpinions);
    m_monospace = new QCheckBox(tr("Show responses in a monospace font"));
    m_monospace->setChecked(prefs.monospace);

    auto* general = new QFormLayout;
    general->addRow(tr("Annotator name"), m_annotator);
    general->addRow(m_reveal);
    general->addRow(m_monospace);

    auto* keysBox = new QGroupBox(tr("Labeling keys (click a field and press the new key)"));
    auto* keys = new QFormLayout(keysBox);
    for (LabelAction a : KeyBindings::actions()) {
        const QList<QKeySequence> current = prefs.keys.keys(a);
        auto* first = new QKeySequenceEdit(current.value(0));
        auto* second = new QKeySequenceEdit(current.value(1));
        // Named for tests and accessibility tools: "key:choose_a:0" and ":1".
        first->setObjectName(QStringLiteral("key:%1:0").arg(KeyBindings::settingsKey(a).section('/', 1)));
        second->setObjectName(QStringLiteral("key:%1:1").arg(KeyBindings::settingsKey(a).section('/', 1)));
        auto* row = new QHBoxLayout;
        row->addWidget(first);
        row->addWidget(second);
        keys->addRow(KeyBindings::actionName(a), row);
        m_edits[a] = {first, second};
    }
    auto* defaults = new QPushButton(tr("Restore default keys"));
    connect(defaults, &QPushButton::clicked, this, [this] {
        const KeyBindings d;
        for (LabelAction a : KeyBindings::actions()) {
            m_edits[a].first->setKeySequence(d.keys(a).value(0));
            m_edits[a].second->setKeySequence(d.keys(a).value(1));
        }
    });
    keys->addRow(defaults);

    m_error = new QLabel;
    m_error->setObjectName(QStringLiteral("error"));
    m_error->setStyleSheet(QStringLiteral("color: #b00020;"));
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel);
    connect(buttons, &QDialogButtonBox::accepted, this, &PreferencesDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(general);
    layout->addWidget(keysBox);
    layout->addWidget(m_error);
    layout->addWidget(buttons);
}

UiPreferences PreferencesDialog::preferences() const {
    UiPreferences p;
    p.annotator = m_annotator->text().trimmed();
    p.revealOpinions = m_reveal->isChecked();
    p.monospace = m_monospace->isChecked();
    for (LabelAction a : KeyBindings::actions()) {
        QList<QKeySequence> k;
        for (QKeySequenceEdit* e : {m_edits[a].first, m_edits[a].second}) {
            if (!e->keySequence().isEmpty()) k << e->keySequence();
        }
        p.keys.setKeys(a, k);
    }
    return p;
}

void PreferencesDialog::accept() {
    const UiPreferences p = preferences();
    const QString conflict = p.keys.conflict();
    if (!conflict.isEmpty()) {
        m_error->setText(tr("Not saved: %1.").arg(conflict));
        return;
    }
    for (LabelAction a : KeyBindings::actions()) {
        if (p.keys.keys(a).isEmpty()) {
            m_error->setText(tr("Not saved: \"%1\" needs a key.").arg(KeyBindings::actionName(a)));
            return;
        }
    }
    QDialog::accept();
}

}  // namespace preflab
