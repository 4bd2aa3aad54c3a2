#include "ui/run_comparison.h"

#include "core/values/metric_names.h"

#include <QCoreApplication>

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <map>

#include "ui/qcustomplot_include.h"

namespace preflab {
namespace {

// The metrics a comparison offers, in the menu's order; their names and
// cadence come from the metric table. Per-step metrics (noisy) are drawn as
// means over kBin steps.
const Metric kMetrics[] = {Metric::GoldReward,         Metric::KlExact,          Metric::EvalRewardsAccuracies,
                           Metric::EvalRewardsMargins, Metric::EvalResponseTokens, Metric::ObjectiveEntropy,
                           Metric::Loss,               Metric::RewardsMargins,   Metric::JudgeUntrainableShare};
constexpr int kBin = 10;

bool perStep(Metric m) {
    return metricInfo(m).cadence == MetricCadence::Step;
}

const QColor kPalette[] = {QColor(31, 119, 180), QColor(255, 127, 14), QColor(44, 160, 44), QColor(214, 39, 40),
                           QColor(148, 103, 189), QColor(140, 86, 75), QColor(227, 119, 194), QColor(127, 127, 127)};

// (step, value) of one metric in step order; per-step metrics as bin means.
std::vector<std::pair<double, double>> seriesOf(const QVector<MetricRow>& rows, const std::string& name, bool perStep) {
    std::vector<std::pair<double, double>> out;
    if (!perStep) {
        for (const MetricRow& r : rows) {
            if (r.name == name && std::isfinite(r.value)) out.emplace_back(static_cast<double>(r.step), r.value);
        }
        return out;
    }
    std::map<int64_t, std::pair<double, int>> bins;  // last step of the bin -> (sum, count)
    for (const MetricRow& r : rows) {
        if (r.name != name || !std::isfinite(r.value)) continue;
        auto& b = bins[((r.step + kBin - 1) / kBin) * kBin];
        b.first += r.value;
        b.second += 1;
    }
    for (const auto& [step, b] : bins) out.emplace_back(static_cast<double>(step), b.first / b.second);
    return out;
}

// Linear interpolation of (step, value) points at `step`; NaN outside them.
double interpolate(const std::vector<std::pair<double, double>>& s, double step) {
    for (size_t i = 0; i + 1 < s.size(); ++i) {
        if (step >= s[i].first && step <= s[i + 1].first) {
            const double span = s[i + 1].first - s[i].first;
            const double t = span > 0 ? (step - s[i].first) / span : 0;
            return s[i].second + t * (s[i + 1].second - s[i].second);
        }
    }
    if (!s.empty() && step == s.back().first) return s.back().second;
    return std::nan("");
}

}  // namespace

RunComparison::RunComparison(DatabaseReader* reader, QWidget* parent) : QWidget(parent), m_reader(reader) {
    m_metricBox = new QComboBox;
    for (const Metric m : kMetrics) {
        const MetricInfo& info = metricInfo(m);
        QString label = QCoreApplication::translate("Metric", info.title);
        if (perStep(m)) label += tr(" (mean over %1 steps)").arg(kBin);
        m_metricBox->addItem(label, QString::fromLatin1(info.key));
    }
    m_axisBox = new QComboBox;
    m_axisBox->addItem(tr("training step"));
    m_axisBox->addItem(tr("exact KL to reference"));
    m_axisBox->setToolTip(tr("Against KL, runs are compared where they have moved equally far from the reference "
                             "model: a method that gains more reward for the same KL is the better one. "
                             "Each run is a curve through its evaluations, in step order."));
    m_status = new QLabel(tr("Select runs in Run history and press Compare."));
    m_plot = new QCustomPlot;
    m_plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    m_plot->legend->setVisible(true);
    m_plot->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignLeft);
    m_plot->legend->setBrush(QColor(255, 255, 255, 210));

    connect(m_metricBox, &QComboBox::currentIndexChanged, this, [this] { redraw(); });
    connect(m_axisBox, &QComboBox::currentIndexChanged, this, [this] { redraw(); });
    connect(reader, &DatabaseReader::metricsLoaded, this, [this](quint64 request, qint64 runId, const QVector<MetricRow>& rows) {
        if (!m_pending.contains(request)) return;
        m_pending.remove(request);
        m_metrics.insert(runId, rows);
        if (m_pending.isEmpty()) {
            redraw();
            Q_EMIT loaded();
        }
    });

    auto* controls = new QHBoxLayout;
    controls->addWidget(new QLabel(tr("Metric")));
    controls->addWidget(m_metricBox, 1);
    controls->addSpacing(12);
    controls->addWidget(new QLabel(tr("against")));
    controls->addWidget(m_axisBox);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(controls);
    layout->addWidget(m_plot, 1);
    layout->addWidget(m_status);
}

void RunComparison::compare(const QVector<qint64>& runIds, const QStringList& labels) {
    m_runs = runIds;
    m_labels = labels;
    m_metrics.clear();
    m_pending.clear();
    m_status->setText(tr("Loading %n run(s)...", nullptr, static_cast<int>(runIds.size())));
    for (qint64 id : runIds) m_pending.insert(m_reader->loadMetrics(id), id);
    if (runIds.isEmpty()) redraw();
}

void RunComparison::setMetric(const QString& metric) {
    const int i = m_metricBox->findData(metric);
    if (i >= 0) m_metricBox->setCurrentIndex(i);
}

void RunComparison::setXAxis(XAxis axis) {
    m_axisBox->setCurrentIndex(axis == XAxis::Step ? 0 : 1);
}

int RunComparison::curveCount() const {
    return m_plot->plottableCount();
}

QVector<QPointF> RunComparison::points(qint64 runId) const {
    return m_drawn.value(runId);
}

void RunComparison::redraw() {
    m_plot->clearPlottables();
    m_drawn.clear();
    const Metric choice = kMetrics[std::max(0, m_metricBox->currentIndex())];
    const bool againstKl = m_axisBox->currentIndex() == 1;
    int missing = 0;
    for (int i = 0; i < m_runs.size(); ++i) {
        const qint64 id = m_runs[i];
        const QVector<MetricRow> rows = m_metrics.value(id);
        const auto values = seriesOf(rows, metricKey(choice), perStep(choice));
        const auto kl = seriesOf(rows, metricKey(Metric::KlExact), false);
        QVector<double> xs, ys;
        for (const auto& [step, value] : values) {
            const double x = againstKl ? interpolate(kl, step) : step;
            if (!std::isfinite(x)) continue;
            xs << x;
            ys << value;
            m_drawn[id] << QPointF(x, value);
        }
        if (xs.isEmpty()) {
            ++missing;
            continue;
        }
        auto* curve = new QCPCurve(m_plot->xAxis, m_plot->yAxis);
        QVector<double> order(xs.size());
        for (int k = 0; k < order.size(); ++k) order[k] = k;
        curve->setData(order, xs, ys);
        const QColor color = kPalette[i % (sizeof kPalette / sizeof kPalette[0])];
        curve->setPen(QPen(color, 2));
        curve->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, color, Qt::white, perStep(choice) ? 3 : 6));
        curve->setName(m_labels.value(i, tr("run %1").arg(id)));
    }
    m_plot->xAxis->setLabel(againstKl ? tr("exact KL to reference (nats per response)") : tr("training step"));
    m_plot->yAxis->setLabel(m_metricBox->currentText());
    m_plot->rescaleAxes();
    m_plot->yAxis->scaleRange(1.1, m_plot->yAxis->range().center());
    m_plot->replot(QCustomPlot::rpQueuedReplot);
    if (m_runs.isEmpty()) {
        m_status->setText(tr("Select runs in Run history and press Compare."));
    } else {
        QString text = tr("%n run(s) overlaid.", nullptr, static_cast<int>(m_runs.size() - missing));
        if (missing > 0) text += QLatin1Char(' ') + tr("%n run(s) have no such metric.", nullptr, missing);
        if (againstKl) text += QLatin1Char(' ') + tr("Points between evaluations take KL interpolated between them.");
        m_status->setText(text);
    }
}

}  // namespace preflab
