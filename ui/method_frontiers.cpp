#include "ui/method_frontiers.h"

#include <QCheckBox>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPointer>
#include <QPushButton>
#include <QSplitter>
#include <QTableWidget>
#include <QThreadPool>
#include <QVBoxLayout>

#include <cmath>

#include "ui/qcustomplot_include.h"

namespace preflab {
namespace {

const QColor kPalette[] = {QColor(31, 119, 180), QColor(255, 127, 14), QColor(44, 160, 44),  QColor(214, 39, 40),
                           QColor(148, 103, 189), QColor(140, 86, 75), QColor(227, 119, 194), QColor(127, 127, 127),
                           QColor(188, 189, 34),  QColor(23, 190, 207), QColor(0, 0, 0),       QColor(255, 187, 120)};

constexpr int kGridPoints = 40;

QColor verdictColour(const QString& verdict) {
    if (verdict == QLatin1String("reproduced")) return QColor(30, 130, 60);
    if (verdict == QLatin1String("refuted")) return QColor(190, 40, 40);
    return QColor(110, 110, 110);
}

}  // namespace

MethodFrontiers::MethodFrontiers(QWidget* parent) : QWidget(parent) {
    auto* open = new QPushButton(tr("Open comparison..."));
    open->setToolTip(tr("The folder preflab-compare wrote (its --out, compare-results by default)"));
    connect(open, &QPushButton::clicked, this, &MethodFrontiers::chooseFolder);
    m_status = new QLabel(tr("Methods compared at matched KL: run build/release/bench/preflab-compare, then open its folder."));
    m_status->setWordWrap(true);
    m_zoom = new QCheckBox(tr("Only the KL every method reached"));
    m_zoom->setChecked(true);
    m_zoom->setToolTip(tr("Where methods can be compared at matched KL. Unticked: each frontier as far as its method went."));
    connect(m_zoom, &QCheckBox::toggled, this, [this] { applyRange(); });
    auto* top = new QHBoxLayout;
    top->addWidget(open);
    top->addWidget(m_status, 1);
    top->addWidget(m_zoom);

    m_plot = new QCustomPlot;
    m_plot->setMinimumHeight(280);
    m_plot->xAxis->setLabel(tr("exact KL to the reference (nats per response)"));
    m_plot->yAxis->setLabel(tr("gold reward (frontier)"));
    m_plot->legend->setVisible(true);
    m_plot->legend->setFont(QFont(font().family(), 8));
    // The legend beside the plot, not over the curves, its rows at the top.
    auto* side = new QCPLayoutGrid;
    m_plot->plotLayout()->addElement(0, 1, side);
    side->addElement(0, 0, m_plot->legend);
    side->addElement(1, 0, new QCPLayoutElement(m_plot));
    side->setRowStretchFactor(0, 0.01);
    m_plot->plotLayout()->setColumnStretchFactor(1, 0.001);
    // A click on a method's legend entry hides or shows its curve and band.
    connect(m_plot, &QCustomPlot::legendClick, this, [this](QCPLegend*, QCPAbstractLegendItem* item, QMouseEvent*) {
        auto* entry = qobject_cast<QCPPlottableLegendItem*>(item);
        if (!entry) return;
        QCPAbstractPlottable* line = entry->plottable();
        const bool visible = !line->visible();
        for (int i = 0; i < m_plot->graphCount(); ++i) {
            if (m_plot->graph(i) == line) {
                for (int k = std::max(0, i - 2); k <= i; ++k) m_plot->graph(k)->setVisible(visible);  // band low, band high, line
            }
        }
        entry->setTextColor(visible ? Qt::black : Qt::gray);
        m_plot->replot();
    });
    m_plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    m_plot->setToolTip(tr("Each method's frontier: at each KL, the best gold reward any of its settings (beta, PPO's KL "
                          "coefficient, the CPO family's learning rate) reached when it first crossed that KL; the line "
                          "is the mean over seeds and the band its 95 % t interval. A method's curve ends where its "
                          "first seed stopped moving away from the reference. Click a method in the legend to hide or "
                          "show it."));

    m_claims = new QTableWidget(0, 3);
    m_claims->setHorizontalHeaderLabels({tr("Claim"), tr("Verdict"), tr("Evidence (at matched exact KL)")});
    m_claims->horizontalHeader()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
    m_claims->horizontalHeader()->setSectionResizeMode(1, QHeaderView::ResizeToContents);
    m_claims->horizontalHeader()->setStretchLastSection(true);
    m_claims->verticalHeader()->setVisible(false);
    m_claims->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_claims->setWordWrap(true);
    m_claims->setToolTip(tr("Each claim is judged by where the whole 95 % interval of the paired difference lies: "
                            "reproduced, refuted, or inconclusive when it straddles the line."));

    auto* split = new QSplitter(Qt::Vertical);
    split->addWidget(m_plot);
    split->addWidget(m_claims);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 2);
    split->setSizes({560, 300});
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(top);
    layout->addWidget(split, 1);
}

void MethodFrontiers::chooseFolder() {
    const QString folder = QFileDialog::getExistingDirectory(this, tr("The folder preflab-compare wrote"));
    if (!folder.isEmpty()) openFolder(folder);
}

void MethodFrontiers::openFolder(const QString& folder) {
    const quint64 request = ++m_request;
    m_status->setText(tr("Reading %1 ...").arg(folder));
    QPointer<MethodFrontiers> self(this);
    const std::string path = folder.toStdString();
    QThreadPool::globalInstance()->start([self, request, path] {
        try {
            ComparisonResults r = readComparisonFolder(path);
            QMetaObject::invokeMethod(self, [self, request, r] {
                if (self && request == self->m_request) self->show(r);
            }, Qt::QueuedConnection);
        } catch (const std::exception& e) {
            const QString message = QString::fromUtf8(e.what());
            QMetaObject::invokeMethod(self, [self, request, message] {
                if (!self || request != self->m_request) return;
                self->m_status->setText(message);
                Q_EMIT self->failed(message);
            }, Qt::QueuedConnection);
        }
    });
}

void MethodFrontiers::show(const ComparisonResults& results) {
    m_plot->clearGraphs();
    m_curves = 0;
    const KlFrontier frontier(results.runs);
    int colour = 0;
    double maxX = 0, minY = INFINITY, maxY = -INFINITY;
    m_sharedKl = frontier.sharedKl(frontier.methods());
    for (const std::string& method : frontier.methods()) {
        const double reach = frontier.sharedKl({method});
        if (!(reach > 0)) continue;
        QVector<double> x, mean, low, high;
        for (int i = 0; i <= kGridPoints; ++i) {
            const double kl = reach * i / kGridPoints;
            const Estimate e = frontier.frontier(method, kl);
            if (e.n == 0 || !std::isfinite(e.mean)) continue;
            x << kl;
            mean << e.mean;
            low << e.low();
            high << e.high();
            minY = std::min(minY, e.low());
            maxY = std::max(maxY, e.high());
        }
        if (x.isEmpty()) continue;
        maxX = std::max(maxX, reach);
        const QColor c = kPalette[colour++ % std::size(kPalette)];
        QColor band = c;
        band.setAlpha(24);
        QCPGraph* lo = m_plot->addGraph();
        lo->setData(x, low, true);
        lo->setPen(Qt::NoPen);
        lo->removeFromLegend();
        QCPGraph* hi = m_plot->addGraph();
        hi->setData(x, high, true);
        hi->setPen(Qt::NoPen);
        hi->setBrush(band);
        hi->setChannelFillGraph(lo);
        hi->removeFromLegend();
        QCPGraph* line = m_plot->addGraph();
        line->setData(x, mean, true);
        line->setPen(QPen(c, 2));
        const int seeds = static_cast<int>(frontier.seeds(method).size());
        line->setName(QStringLiteral("%1 (%2 seed%3)").arg(QString::fromStdString(method)).arg(seeds).arg(seeds == 1 ? "" : "s"));
        ++m_curves;
    }
    m_maxKl = maxX;
    m_minGold = minY;
    m_maxGold = maxY;
    applyRange();

    m_claims->setRowCount(static_cast<int>(results.claims.size()));
    for (int row = 0; row < static_cast<int>(results.claims.size()); ++row) {
        const Claim& c = results.claims[static_cast<size_t>(row)];
        auto* claim = new QTableWidgetItem(QString::fromStdString(c.claim));
        claim->setToolTip(QString::fromStdString(c.source));
        auto* verdict = new QTableWidgetItem(QString::fromStdString(c.verdict));
        verdict->setForeground(verdictColour(verdict->text()));
        QFont bold = verdict->font();
        bold.setBold(true);
        verdict->setFont(bold);
        auto* evidence = new QTableWidgetItem(QString::fromStdString(c.evidence));
        evidence->setToolTip(QString::fromStdString(c.evidence));
        m_claims->setItem(row, 0, claim);
        m_claims->setItem(row, 1, verdict);
        m_claims->setItem(row, 2, evidence);
    }
    m_claims->resizeRowsToContents();
    size_t evaluations = 0;
    for (const CompareRun& r : results.runs) evaluations += r.trajectory.size();
    m_status->setText(tr("%1: %2 methods, %3 runs, %4 evaluations; %5 claims")
                          .arg(QString::fromStdString(results.folder))
                          .arg(frontier.methods().size())
                          .arg(results.runs.size())
                          .arg(evaluations)
                          .arg(results.claims.size()));
    Q_EMIT loaded();
}

void MethodFrontiers::applyRange() {
    if (m_curves > 0) {
        const bool zoom = m_zoom->isChecked() && m_sharedKl > 0;
        const double right = zoom ? m_sharedKl : m_maxKl;
        // The gold range of what is shown.
        double low = INFINITY, high = -INFINITY;
        for (int i = 0; i < m_plot->graphCount(); ++i) {
            for (auto it = m_plot->graph(i)->data()->constBegin(); it != m_plot->graph(i)->data()->constEnd(); ++it) {
                if (it->key > right * 1.0001) break;
                low = std::min(low, it->value);
                high = std::max(high, it->value);
            }
        }
        if (!std::isfinite(low)) low = m_minGold, high = m_maxGold;
        const double pad = std::max(0.05, 0.05 * (high - low));
        m_plot->xAxis->setRange(0, right);
        m_plot->yAxis->setRange(low - pad, high + pad);
    }
    m_plot->replot();
}

int MethodFrontiers::curveCount() const {
    return m_curves;
}

int MethodFrontiers::claimCount() const {
    return m_claims->rowCount();
}

QString MethodFrontiers::verdict(int row) const {
    const QTableWidgetItem* item = m_claims->item(row, 1);
    return item ? item->text() : QString();
}

QString MethodFrontiers::status() const {
    return m_status->text();
}

}  // namespace preflab
