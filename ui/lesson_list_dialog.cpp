#include "ui/lesson_list_dialog.h"

#include <QCheckBox>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

namespace preflab {

LessonListDialog::LessonListDialog(std::vector<Lesson> lessons, QWidget* parent)
    : QDialog(parent), m_lessons(std::move(lessons)) {
    setWindowTitle(tr("PrefLab \u2014 lessons"));
    resize(760, 460);
    m_list = new QListWidget;
    for (const Lesson& l : m_lessons) {
        auto* item = new QListWidgetItem(QString::fromStdString(l.title) +
                                         (l.needsPerson ? tr("  (you label the pairs)") : QString()));
        item->setData(Qt::UserRole, QString::fromStdString(l.id));
        item->setToolTip(QString::fromStdString(l.summary));
        m_list->addItem(item);
    }
    m_details = new QLabel;
    m_details->setWordWrap(true);
    m_details->setAlignment(Qt::AlignTop | Qt::AlignLeft);
    m_details->setMinimumWidth(300);
    m_seed = new QSpinBox;
    m_seed->setRange(0, 1000000);
    m_seed->setToolTip(tr("The runs' seed. Another seed gives other samples and curves; the lesson checks its story on "
                          "whatever the run does."));
    m_stepMode = new QCheckBox(tr("Pause at each cue (step mode)"));
    m_stepMode->setChecked(true);

    auto* buttons = new QDialogButtonBox;
    QPushButton* start = buttons->addButton(tr("Start lesson"), QDialogButtonBox::AcceptRole);
    QPushButton* open = buttons->addButton(tr("Open saved lesson\u2026"), QDialogButtonBox::ActionRole);
    buttons->addButton(QDialogButtonBox::Close);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(start, &QPushButton::clicked, this, [this] {
        if (chosenLesson()) accept();
    });
    connect(open, &QPushButton::clicked, this, [this] {
        const QString file = QFileDialog::getOpenFileName(this, tr("Open a saved lesson"), QString(),
                                                          tr("PrefLab lessons (*.preflab-lesson);;All files (*)"));
        if (file.isEmpty()) return;
        m_savedState = file;
        m_list->clearSelection();
        accept();
    });
    connect(m_list, &QListWidget::currentRowChanged, this, &LessonListDialog::showDetails);
    connect(m_list, &QListWidget::itemDoubleClicked, this, [this] { accept(); });

    auto* seedRow = new QHBoxLayout;
    seedRow->addWidget(new QLabel(tr("Seed:")));
    seedRow->addWidget(m_seed);
    seedRow->addSpacing(16);
    seedRow->addWidget(m_stepMode);
    seedRow->addStretch(1);
    auto* top = new QHBoxLayout;
    top->addWidget(m_list, 1);
    top->addWidget(m_details, 1);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(new QLabel(tr("Each lesson starts real runs on the built-in task and narrates them as they go. "
                                    "What it says is checked on your run: where the run does something else, it says so "
                                    "with the numbers.")));
    layout->addLayout(top, 1);
    layout->addLayout(seedRow);
    layout->addWidget(buttons);
    if (!m_lessons.empty()) m_list->setCurrentRow(0);
}

const Lesson* LessonListDialog::chosenLesson() const {
    if (!m_savedState.isEmpty()) return nullptr;
    const int row = m_list->currentRow();
    if (row < 0 || row >= static_cast<int>(m_lessons.size())) return nullptr;
    return &m_lessons[static_cast<size_t>(row)];
}

qint64 LessonListDialog::seed() const {
    return m_seed->value();
}

bool LessonListDialog::stepMode() const {
    return m_stepMode->isChecked();
}

bool LessonListDialog::select(const QString& id) {
    for (int i = 0; i < m_list->count(); ++i) {
        if (m_list->item(i)->data(Qt::UserRole).toString() == id) {
            m_list->setCurrentRow(i);
            return true;
        }
    }
    return false;
}

void LessonListDialog::showDetails() {
    const Lesson* l = chosenLesson();
    if (!l) return m_details->clear();
    QString runs;
    for (const LessonRun& r : l->runs) {
        runs += QStringLiteral("<li>%1%2</li>")
                    .arg(QString::fromStdString(r.title).toHtmlEscaped(),
                         r.kind == LessonRunKind::BestOfN ? tr(" (best-of-n sampling, seconds)")
                                                          : tr(" (%1 steps)").arg(r.steps));
    }
    m_details->setText(tr("<b>%1</b><p>%2</p><p>Runs:</p><ul>%3</ul><p>%4 claims checked on your run.%5</p>")
                           .arg(QString::fromStdString(l->title).toHtmlEscaped(),
                                QString::fromStdString(l->summary).toHtmlEscaped(), runs)
                           .arg(l->checks.size())
                           .arg(l->needsPerson ? tr(" You label the pairs in the labeling view above the plots.")
                                               : QString()));
    m_seed->setValue(static_cast<int>(l->seed));
}

}  // namespace preflab
