#include "ui/run_panel.h"

#include "core/values/method_registry.h"
#include "core/values/hf_cache.h"

#include <QCheckBox>
#include <QApplication>
#include <QComboBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QPointer>
#include <QPushButton>
#include <QScrollArea>
#include <QThreadPool>
#include <QToolButton>
#include <QVBoxLayout>

namespace preflab {
namespace {

// Sections open when the panel is first shown: what most runs change. The
// rest (adapters, method settings, compute) fold away until asked for.
bool openByDefault(const std::string& group) {
    return group == "Model and judge" || group == "Optimisation";
}

// An editor with a chooser button to its right.
QWidget* withButton(QWidget* editor, QWidget* button) {
    auto* row = new QWidget;
    auto* h = new QHBoxLayout(row);
    h->setContentsMargins(0, 0, 0, 0);
    h->setSpacing(2);
    h->addWidget(editor, 1);
    h->addWidget(button);
    return row;
}

// The section of a method family's own settings.
std::string familySection(MethodFamily family, Method m) {
    switch (family) {
    case MethodFamily::Ppo: return "PPO";
    case MethodFamily::Causal: return "CPO family";
    case MethodFamily::Group: return "Group methods (GRPO, RLOO)";
    case MethodFamily::Pairwise: break;
    }
    const MethodInfo& info = methodInfo(m);
    return info.data == MethodData::PairsOnlineOrOffline ? "DPO family" : "SAIL";
}

}  // namespace

void RunPanel::openMethodSection() {
    // Choosing a method opens the section with its own settings.
    const MethodInfo* m = findMethod(fieldText(QStringLiteral("algorithm")).toStdString());
    if (!m) return;
    if (QToolButton* t = m_sections.value(QString::fromStdString(familySection(m->family, m->id)))) t->setChecked(true);
}

RunPanel::RunPanel(QWidget* parent) : QWidget(parent) {
    auto* content = new QWidget;
    auto* contentLayout = new QVBoxLayout(content);
    contentLayout->setContentsMargins(0, 0, 4, 0);
    QMap<QString, QFormLayout*> groups;
    // Every run setting, from the config's field table (run_config.h): its
    // section, name, editor and help all come from there.
    for (const ConfigField& fieldSpec : runConfigFields()) {
        const ConfigField* f = &fieldSpec;
        const QString group = QString::fromStdString(f->group);
        if (!groups.contains(group)) {
            auto* box = new QGroupBox;
            auto* form = new QFormLayout(box);
            form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
            form->setRowWrapPolicy(QFormLayout::WrapLongRows);
            form->setVerticalSpacing(4);
            groups[group] = form;
            // A section header that folds the section.
            auto* toggle = new QToolButton;
            toggle->setText(tr(f->group.c_str()));
            toggle->setObjectName(QStringLiteral("section:") + group);
            toggle->setCheckable(true);
            toggle->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
            toggle->setAutoRaise(true);
            QFont bold = toggle->font();
            bold.setBold(true);
            toggle->setFont(bold);
            connect(toggle, &QToolButton::toggled, box, [box, toggle](bool on) {
                box->setVisible(on);
                toggle->setArrowType(on ? Qt::DownArrow : Qt::RightArrow);
            });
            const bool open = openByDefault(f->group);
            toggle->setChecked(open);
            box->setVisible(open);
            toggle->setArrowType(open ? Qt::DownArrow : Qt::RightArrow);
            m_sections.insert(group, toggle);
            contentLayout->addWidget(toggle);
            contentLayout->addWidget(box);
        }
        Field field;
        field.spec = f;
        QWidget* editor = nullptr;
        const QString key = QString::fromStdString(f->key);
        if (!f->choices.empty()) {
            field.combo = new QComboBox;
            QStringList helpLines;
            for (size_t i = 0; i < f->choices.size(); ++i) {
                const QString value = QString::fromStdString(f->choices[i]);
                const QString shown = i < f->choiceLabels.size() ? tr(f->choiceLabels[i].c_str()) : value;
                field.combo->addItem(shown, value);
                if (i < f->choiceHelp.size()) {
                    helpLines << QStringLiteral("<b>%1</b>: %2").arg(shown.toHtmlEscaped(),
                                                                     QString::fromStdString(f->choiceHelp[i]).toHtmlEscaped());
                }
            }
            connect(field.combo, &QComboBox::currentIndexChanged, this, &RunPanel::validate);
            editor = field.combo;
            if (!helpLines.isEmpty()) {
                field.combo->setToolTip(QString::fromStdString(f->help).toHtmlEscaped() + QStringLiteral("<br><br>") +
                                        helpLines.join(QStringLiteral("<br>")));
            }
            if (f->editor == FieldEditor::Method) {
                connect(field.combo, &QComboBox::currentIndexChanged, this, &RunPanel::openMethodSection);
            }
        } else if (f->isFlag()) {
            field.check = new QCheckBox;
            connect(field.check, &QCheckBox::toggled, this, &RunPanel::validate);
            editor = field.check;
        } else {
            field.edit = new QLineEdit;
            connect(field.edit, &QLineEdit::textChanged, this, &RunPanel::validate);
            editor = field.edit;
            if (!f->placeholder.empty()) field.edit->setPlaceholderText(tr(f->placeholder.c_str()));
            if (f->editor == FieldEditor::File) {
                auto* browse = new QToolButton;
                browse->setText(QStringLiteral("..."));
                browse->setToolTip(tr("Choose a file"));
                QLineEdit* edit = field.edit;
                connect(browse, &QToolButton::clicked, this, [this, edit, f] {
                    const QString file = QFileDialog::getOpenFileName(this, QString::fromStdString(f->label));
                    if (!file.isEmpty()) edit->setText(file);
                });
                editor = withButton(field.edit, browse);
            }
            if (f->editor == FieldEditor::Model) {
                auto* browse = new QToolButton;
                browse->setText(QStringLiteral("..."));
                browse->setToolTip(tr("Choose a PrefLab model file (.pt), a Hugging Face model folder "
                                      "(config.json, safetensors, tokenizer.json: GPT-2, Llama, Qwen2, Mistral), "
                                      "or a model in the local Hugging Face cache"));
                browse->setPopupMode(QToolButton::InstantPopup);
                QLineEdit* edit = field.edit;
                auto* menu = new QMenu(browse);
                menu->addAction(tr("PrefLab model file (.pt)..."), this, [this, edit] {
                    const QString file = QFileDialog::getOpenFileName(this, tr("Model file"), QString(), tr("PrefLab models (*.pt)"));
                    if (!file.isEmpty()) edit->setText(file);
                });
                menu->addAction(tr("Hugging Face model folder..."), this, [this, edit] {
                    const QString dir = QFileDialog::getExistingDirectory(this, tr("Hugging Face model folder"));
                    if (!dir.isEmpty()) edit->setText(dir);
                });
                // Models already downloaded by huggingface_hub, found offline ($HF_HOME).
                // The cache can be large or on a slow disk: it is read on a pool
                // thread and the menu filled when the list arrives.
                QMenu* cached = menu->addMenu(tr("Hugging Face cache"));
                connect(cached, &QMenu::aboutToShow, this, [cached, edit] {
                    cached->clear();
                    const QString hub = QString::fromStdString(hfHubCacheDir());
                    cached->addAction(tr("(reading %1 ...)").arg(hub))->setEnabled(false);
                    QPointer<QMenu> menu(cached);
                    QThreadPool::globalInstance()->start([menu, edit, hub] {
                        std::vector<CachedModel> models = listCachedModels();
                        QMetaObject::invokeMethod(qApp, [menu, edit, hub, models = std::move(models)] {
                            if (!menu) return;
                            menu->clear();
                            if (models.empty()) menu->addAction(tr("(no models in %1)").arg(hub))->setEnabled(false);
                            for (const CachedModel& m : models) {
                                const QString id = QString::fromStdString(m.repoId);
                                menu->addAction(id, edit, [edit, id] { edit->setText(id); });
                            }
                        }, Qt::QueuedConnection);
                    });
                });
                browse->setMenu(menu);
                editor = withButton(field.edit, browse);
            }
        }
    if (editor->toolTip().isEmpty()) editor->setToolTip(QString::fromStdString(f->help));
        field.error = new QLabel;
        field.error->setWordWrap(true);
        field.error->setStyleSheet(QStringLiteral("color: #b00020; font-size: small;"));
        field.error->hide();
        auto* cell = new QWidget;
        auto* v = new QVBoxLayout(cell);
        v->setContentsMargins(0, 0, 0, 0);
        v->setSpacing(1);
        v->addWidget(editor);
        v->addWidget(field.error);
        auto* label = new QLabel(tr(f->label.c_str()));
        label->setWordWrap(true);
        label->setToolTip(QString::fromStdString(f->help));
        groups[group]->addRow(label, cell);
        field.form = groups[group];
        field.label = label;
        m_fields.insert(key, field);
        m_fieldOrder << key;
    }
    contentLayout->addStretch(1);

    auto* scroll = new QScrollArea;
    scroll->setWidget(content);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);

    m_start = new QPushButton(tr("Start"));
    m_start->setToolTip(tr("Start a new run with these settings"));
    m_pause = new QPushButton(tr("Pause"));
    m_stop = new QPushButton(tr("Stop"));
    m_stop->setToolTip(tr("Stop the run; the last step is saved as a checkpoint and every label is kept"));
    auto* defaults = new QPushButton(tr("Defaults"));
    defaults->setToolTip(tr("Reset every field to its default"));
    connect(defaults, &QPushButton::clicked, this, [this] { setConfig(RunConfig{}); });
    connect(m_start, &QPushButton::clicked, this, [this] {
        if (problems().isEmpty()) Q_EMIT startRequested(config());
    });
    connect(m_pause, &QPushButton::clicked, this, [this] {
        if (m_state == RunState::Paused) Q_EMIT resumeRequested();
        else Q_EMIT pauseRequested();
    });
    connect(m_stop, &QPushButton::clicked, this, &RunPanel::stopRequested);
    auto* buttons = new QHBoxLayout;
    buttons->addWidget(m_start, 2);
    buttons->addWidget(m_pause, 1);
    buttons->addWidget(m_stop, 1);
    m_summary = new QLabel;
    m_summary->setWordWrap(true);
    m_summary->setStyleSheet(QStringLiteral("color: #b00020;"));
    auto* openRuns = new QPushButton(tr("Open a stored run..."));
    connect(openRuns, &QPushButton::clicked, this, &RunPanel::openRunsRequested);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(scroll, 1);
    layout->addWidget(m_summary);
    layout->addLayout(buttons);
    auto* lower = new QHBoxLayout;
    lower->addWidget(defaults);
    lower->addWidget(openRuns, 1);
    layout->addLayout(lower);
    setConfig(RunConfig{});
    setRunState(false, RunState::Finished);
}

QString RunPanel::fieldText(const QString& key) const {
    const Field& f = m_fields[key];
    if (f.combo) return f.combo->currentData().toString();
    if (f.check) return f.check->isChecked() ? QStringLiteral("1") : QStringLiteral("0");
    QString text = f.edit->text().trimmed();
    if (text.isEmpty()) text = QString::fromStdString(f.spec->blankValue);
    return text;
}

void RunPanel::setFieldText(const QString& key, const QString& text) {
    const auto it = m_fields.find(key);
    if (it == m_fields.end()) return;
    if (it->combo) {
        const int i = it->combo->findData(text);
        if (i >= 0) it->combo->setCurrentIndex(i);
    } else if (it->check) {
        it->check->setChecked(text == QLatin1String("1"));
    } else {
        it->edit->setText(text);
    }
    validate();
}

QString RunPanel::fieldError(const QString& key) const {
    const auto it = m_fields.find(key);
    return it == m_fields.end() || it->error->isHidden() ? QString() : it->error->text();
}

RunConfig RunPanel::config() const {
    RunConfig c;
    for (auto it = m_fields.cbegin(); it != m_fields.cend(); ++it) {
        setRunConfigValue(c, it.key().toStdString(), fieldText(it.key()).toStdString());
    }
    return c;
}

bool RunPanel::fieldShown(const QString& key) const {
    const auto it = m_fields.constFind(key);
    return it != m_fields.cend() && !it->label->isHidden();
}

void RunPanel::setConfig(const RunConfig& c) {
    for (auto it = m_fields.begin(); it != m_fields.end(); ++it) {
        const ConfigField* f = findConfigField(it.key().toStdString());
        const QString text = QString::fromStdString(configValueText(c, *f));
        QObject* editor = it->combo ? static_cast<QObject*>(it->combo) : it->check ? static_cast<QObject*>(it->check) : it->edit;
        QSignalBlocker block(editor);
        if (it->combo) it->combo->setCurrentIndex(std::max(0, it->combo->findData(text)));
        else if (it->check) it->check->setChecked(text == QLatin1String("1"));
        else it->edit->setText(!f->blankValue.empty() && text == QString::fromStdString(f->blankValue) ? QString() : text);
    }
    validate();
}

QStringList RunPanel::problems() const {
    QStringList out;
    for (auto it = m_fields.cbegin(); it != m_fields.cend(); ++it) {
        if (!it->error->isHidden()) out << it->error->text();
    }
    for (const std::string& p : validateRunConfig(config())) {
        const QString s = QString::fromStdString(p);
        if (!out.contains(s)) out << s;
    }
    return out;
}

void RunPanel::validate() {
    RunConfig probe;
    for (auto it = m_fields.begin(); it != m_fields.end(); ++it) {
        const std::string err = setRunConfigValue(probe, it.key().toStdString(), fieldText(it.key()).toStdString());
        it->error->setText(QString::fromStdString(err));
        it->error->setVisible(!err.empty());
        if (it->edit) it->edit->setStyleSheet(err.empty() ? QString() : QStringLiteral("border: 1px solid #b00020;"));
    }
    // A judge's own fields only with that judge (configFieldShown), unless they hold a value.
    const RunConfig current = config();
    for (auto it = m_fields.begin(); it != m_fields.end(); ++it) {
        const bool shown = configFieldShown(current, it.key().toStdString()) || (it->edit && !it->edit->text().isEmpty());
        it->form->setRowVisible(it->label, shown);
    }
    // Cross-field rules (an annotator for a person's labels, ...).
    QStringList cross;
    for (const std::string& p : validateRunConfig(current)) cross << QString::fromStdString(p);
    const QStringList all = problems();
    m_summary->setText(cross.isEmpty() ? QString() : cross.join(QLatin1Char('\n')));
    m_summary->setVisible(!cross.isEmpty());
    m_start->setEnabled(!m_active && all.isEmpty());
}

void RunPanel::setRunState(bool active, RunState state) {
    m_active = active;
    m_state = state;
    m_pause->setEnabled(active && state != RunState::Starting);
    m_pause->setText(state == RunState::Paused ? tr("Resume") : tr("Pause"));
    m_stop->setEnabled(active);
    for (auto& f : m_fields) {
        if (f.edit) f.edit->setReadOnly(active);
        if (f.combo) f.combo->setEnabled(!active);
        if (f.check) f.check->setEnabled(!active);
    }
    validate();
}

}  // namespace preflab
