#include "ui/run_history.h"
#include "core/values/metric_names.h"
#include "core/values/run_config.h"

#include <QDateTime>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QPushButton>
#include <QSplitter>
#include <QStandardItemModel>
#include <QTableView>
#include <QTextBrowser>
#include <QVBoxLayout>

#include <algorithm>

namespace preflab {
namespace {

// The headline metrics the table shows, after the run's own columns.
const Metric kColumns[] = {Metric::GoldReward, Metric::RewardsMargins, Metric::ObjectiveKl, Metric::RewardsAccuracies};

QStandardItem* number(double v, int decimals) {
    auto* item = new QStandardItem(QString::number(v, 'f', decimals));
    item->setData(v, Qt::UserRole + 1);
    item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    return item;
}

}  // namespace

RunHistory::RunHistory(DatabaseReader* reader, QWidget* parent) : QWidget(parent), m_reader(reader) {
    m_model = new QStandardItemModel(this);
    m_model->setHorizontalHeaderLabels({tr("Run"), tr("Name"), tr("Algorithm"), tr("Judge"), tr("Status"), tr("Step"),
                                        tr("Pairs"), tr("Labels"), tr("Gold reward"), tr("Margin"), tr("KL"),
                                        tr("Accuracy"), tr("Started")});
    m_view = new QTableView;
    m_view->setModel(m_model);
    m_view->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_view->verticalHeader()->setVisible(false);
    m_view->horizontalHeader()->setStretchLastSection(true);
    m_view->setSortingEnabled(true);
    m_config = new QTextBrowser;
    m_config->setPlaceholderText(tr("Select a run to see its full configuration."));

    auto* open = new QPushButton(tr("Open run"));
    open->setToolTip(tr("Show this run's curves (read-only when it has ended)"));
    auto* compare = new QPushButton(tr("Compare selected"));
    compare->setToolTip(tr("Overlay the selected runs' curves (Ctrl+click or Shift+click to select several), "
                           "against training step or against KL to the reference"));
    connect(compare, &QPushButton::clicked, this, &RunHistory::compareSelected);
    auto* refreshButton = new QPushButton(tr("Refresh"));
    connect(refreshButton, &QPushButton::clicked, this, &RunHistory::refresh);
    auto openSelected = [this] {
        const qint64 id = selectedRun();
        for (const RunSummary& r : m_runs) {
            if (r.run.id == id) Q_EMIT openRun(id, QString::fromStdString(r.run.configJson), QString::fromStdString(r.run.status));
        }
    };
    connect(open, &QPushButton::clicked, this, openSelected);
    connect(m_view, &QTableView::doubleClicked, this, openSelected);
    connect(m_view->selectionModel(), &QItemSelectionModel::currentRowChanged, this, [this] {
        const qint64 id = selectedRun();
        for (const RunSummary& r : m_runs) {
            if (r.run.id != id) continue;
            const QJsonDocument doc = QJsonDocument::fromJson(QByteArray::fromStdString(r.run.configJson));
            m_config->setPlainText(tr("Run %1 (%2), model %3, code %4\n%5\n\n%6")
                                       .arg(r.run.id)
                                       .arg(QString::fromStdString(r.run.status), QString::fromStdString(r.run.model),
                                            QString::fromStdString(r.run.codeVersion), QString::fromStdString(r.run.message),
                                            QString::fromUtf8(doc.toJson(QJsonDocument::Indented))));
        }
    });
    connect(reader, &DatabaseReader::runsListed, this, [this](quint64 request, const QVector<RunSummary>& runs) {
        if (request == m_request) showRuns(runs);
    });

    auto* buttons = new QHBoxLayout;
    buttons->addWidget(new QLabel(tr("Runs stored in this database. Double-click to open a run's curves; select "
                                     "several to compare them.")), 1);
    buttons->addWidget(refreshButton);
    buttons->addWidget(compare);
    buttons->addWidget(open);
    auto* split = new QSplitter(Qt::Vertical);
    split->addWidget(m_view);
    split->addWidget(m_config);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 1);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(buttons);
    layout->addWidget(split, 1);
}

void RunHistory::refresh() {
    m_request = m_reader->listRuns();
}

qint64 RunHistory::selectedRun() const {
    const QModelIndex i = m_view->currentIndex();
    return i.isValid() ? m_model->item(i.row(), 0)->data(Qt::UserRole + 1).toLongLong() : 0;
}

QVector<qint64> RunHistory::selectedRuns() const {
    QVector<qint64> ids;
    QModelIndexList rows = m_view->selectionModel()->selectedRows();
    std::sort(rows.begin(), rows.end(), [](const QModelIndex& a, const QModelIndex& b) { return a.row() < b.row(); });
    for (const QModelIndex& i : rows) ids << m_model->item(i.row(), 0)->data(Qt::UserRole + 1).toLongLong();
    return ids;
}

void RunHistory::selectRuns(const QVector<qint64>& runIds) {
    m_view->clearSelection();
    for (int row = 0; row < m_model->rowCount(); ++row) {
        if (!runIds.contains(m_model->item(row, 0)->data(Qt::UserRole + 1).toLongLong())) continue;
        m_view->selectionModel()->select(m_model->index(row, 0),
                                         QItemSelectionModel::Select | QItemSelectionModel::Rows);
    }
}

void RunHistory::compareSelected() {
    const QVector<qint64> ids = selectedRuns();
    if (ids.isEmpty()) return;
    QStringList labels;
    for (qint64 id : ids) {
        for (const RunSummary& r : m_runs) {
            if (r.run.id != id) continue;
            const QJsonObject c = QJsonDocument::fromJson(QByteArray::fromStdString(r.run.configJson)).object();
            // The settings that usually tell runs apart.
            RunConfig config;
            parseStoredRunConfigJson(r.run.configJson, config);
            labels << tr("run %1 %2 \u00b7 %3 \u00b7 %4 \u00b7 lr %5")
                          .arg(id)
                          .arg(QString::fromStdString(r.run.name), QString::fromStdString(config.algorithm),
                               QString::fromStdString(klKnobText(config)))
                          .arg(config.lr);
        }
    }
    Q_EMIT compareRuns(ids, labels);
}

void RunHistory::showRuns(const QVector<RunSummary>& runs) {
    m_runs = runs;
    m_model->setRowCount(0);
    for (const RunSummary& r : runs) {
        const QJsonObject config = QJsonDocument::fromJson(QByteArray::fromStdString(r.run.configJson)).object();
        QList<QStandardItem*> row;
        auto* id = new QStandardItem(QString::number(r.run.id));
        id->setData(static_cast<qlonglong>(r.run.id), Qt::UserRole + 1);
        row << id << new QStandardItem(QString::fromStdString(r.run.name))
            << new QStandardItem(config.value(QStringLiteral("algorithm")).toString())
            << new QStandardItem(config.value(QStringLiteral("judge")).toString())
            << new QStandardItem(QString::fromStdString(r.run.status))
            << number(static_cast<double>(r.run.lastStep), 0) << number(static_cast<double>(r.pairs), 0)
            << number(static_cast<double>(r.labels), 0);
        for (const Metric metric : kColumns) {
            const auto it = r.latest.find(metricKey(metric));
            row << (it == r.latest.end() ? new QStandardItem(QStringLiteral("-")) : number(it->second, 3));
        }
        row << new QStandardItem(QDateTime::fromMSecsSinceEpoch(r.run.createdMs).toString(QStringLiteral("yyyy-MM-dd hh:mm")));
        m_model->appendRow(row);
    }
    m_view->resizeColumnsToContents();
    Q_EMIT runsChanged(runs);
}

}  // namespace preflab
