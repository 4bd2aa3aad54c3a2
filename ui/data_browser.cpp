#include "ui/data_browser.h"
#include "core/values/judge_registry.h"

#include "ui/pair_dialog.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QTableView>
#include <QVBoxLayout>

namespace preflab {

DataBrowser::DataBrowser(DatabaseReader* reader, QWidget* parent) : QWidget(parent), m_reader(reader) {
    m_model = new PairTableModel(reader, this);
    m_view = new QTableView;
    m_view->setModel(m_model);
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setSelectionMode(QAbstractItemView::SingleSelection);
    m_view->setAlternatingRowColors(true);
    m_view->setWordWrap(false);
    m_view->verticalHeader()->setVisible(false);
    m_view->verticalHeader()->setDefaultSectionSize(m_view->fontMetrics().height() + 8);
    m_view->horizontalHeader()->setSectionResizeMode(QHeaderView::Interactive);
    m_view->horizontalHeader()->setStretchLastSection(false);
    const int w = m_view->fontMetrics().horizontalAdvance(QLatin1Char('0'));
    const QList<int> widths = {7, 5, 6, 9, 30, 48, 48, 14, 12, 11, 9};
    for (int c = 0; c < widths.size(); ++c) m_view->setColumnWidth(c, widths[c] * w + 12);
    connect(m_view, &QTableView::doubleClicked, this, &DataBrowser::openPair);

    m_run = new QComboBox;
    m_run->setObjectName(QStringLiteral("run"));
    m_run->addItem(tr("All runs"), QVariant());
    m_source = new QComboBox;
    m_source->setObjectName(QStringLiteral("source"));
    m_source->addItem(tr("Any source"), QString());
    for (const LabelSource s : {LabelSource::Human, LabelSource::Task, LabelSource::Self, LabelSource::RewardModel,
                                LabelSource::Import, LabelSource::Adjudicated, LabelSource::Llm}) {
        QString shown = QString::fromStdString(labelSourceDisplayName(s));
        shown[0] = shown[0].toUpper();
        m_source->addItem(shown, QString::fromStdString(toString(s)));
    }
    m_source->addItem(tr("Unlabeled"), QStringLiteral("none"));
    m_choice = new QComboBox;
    m_choice->setObjectName(QStringLiteral("choice"));
    m_choice->addItem(tr("Any label"), QString());
    for (const char* c : {"a", "b", "tie", "both_bad", "skip"}) m_choice->addItem(QString::fromLatin1(c), QString::fromLatin1(c));
    m_stepChip = new QPushButton;
    m_stepChip->setVisible(false);
    m_stepChip->setToolTip(tr("Click to show all steps again"));
    connect(m_stepChip, &QPushButton::clicked, this, [this] {
        m_trainedStep.reset();
        m_stepChip->setVisible(false);
        applyFilter();
    });
    auto* refresh = new QPushButton(tr("Refresh"));
    refresh->setToolTip(tr("Load pairs stored since the table was opened"));
    connect(refresh, &QPushButton::clicked, this, &DataBrowser::applyFilter);
    m_count = new QLabel;
    for (QComboBox* box : {m_run, m_source, m_choice}) {
        connect(box, &QComboBox::activated, this, &DataBrowser::applyFilter);
    }
    connect(m_model, &PairTableModel::countChanged, this, [this](qint64 n) { m_count->setText(tr("%1 pairs").arg(n)); });
    connect(m_model, &PairTableModel::loadFailed, this, [this](const QString& m) { m_count->setText(tr("Could not read pairs: %1").arg(m)); });

    auto* bar = new QHBoxLayout;
    bar->addWidget(new QLabel(tr("Show")));
    bar->addWidget(m_run);
    bar->addWidget(m_source);
    bar->addWidget(m_choice);
    bar->addWidget(m_stepChip);
    bar->addStretch(1);
    bar->addWidget(m_count);
    bar->addWidget(refresh);
    auto* hint = new QLabel(tr("<small>Double-click a pair to read it in full and relabel it with the labeling keys.</small>"));
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(bar);
    layout->addWidget(m_view, 1);
    layout->addWidget(hint);
}

void DataBrowser::setRuns(const QVector<RunSummary>& runs) {
    const QVariant current = m_run->currentData();
    m_run->clear();
    m_run->addItem(tr("All runs"), QVariant());
    for (const RunSummary& r : runs) {
        m_run->addItem(tr("Run %1%2").arg(r.run.id).arg(r.run.name.empty() ? QString() : QStringLiteral(" (%1)").arg(QString::fromStdString(r.run.name))),
                       static_cast<qlonglong>(r.run.id));
    }
    const int i = m_run->findData(current);
    m_run->setCurrentIndex(i >= 0 ? i : 0);
}

void DataBrowser::showTrainedAt(qint64 runId, qint64 step) {
    int i = m_run->findData(static_cast<qlonglong>(runId));
    if (i < 0) {
        m_run->addItem(tr("Run %1").arg(runId), static_cast<qlonglong>(runId));
        i = m_run->count() - 1;
    }
    m_run->setCurrentIndex(i);
    m_source->setCurrentIndex(0);
    m_choice->setCurrentIndex(0);
    m_trainedStep = step;
    m_stepChip->setText(tr("trained at step %1  \u2715").arg(step));
    m_stepChip->setVisible(true);
    applyFilter();
}

void DataBrowser::applyFilter() {
    PairFilter f;
    if (m_run->currentData().isValid()) f.runId = m_run->currentData().toLongLong();
    f.labelSource = m_source->currentData().toString().toStdString();
    f.choice = m_choice->currentData().toString().toStdString();
    f.trainedStep = m_trainedStep;
    m_count->setText(tr("loading..."));
    m_model->setFilter(f);
}

void DataBrowser::openPair(const QModelIndex& index) {
    const PairListRow* row = m_model->rowAt(index.row());
    if (!row) return;
    auto* dialog = new PairDialog(*row, m_keys, this);
    m_openDialog = dialog;
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &PairDialog::relabel, this, [this](qint64 pairId, Choice c) {
        Q_EMIT relabelRequested(pairId, c, m_annotator);
        m_model->updateLabel(pairId, QString::fromStdString(toString(c)), QString::fromStdString(toString(LabelSource::Human)), m_annotator);
    });
    dialog->open();
}

}  // namespace preflab
