#include "ui/metric_plots.h"
#include "core/values/metric_names.h"

#include <QCoreApplication>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QGridLayout>
#include <QLabel>
#include <QMenu>
#include <QPdfWriter>
#include <QPushButton>
#include <QSvgGenerator>
#include <QTextStream>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>

#include "core/values/run_config.h"
#include "core/values/method_registry.h"
#include "ui/qcustomplot_include.h"

namespace preflab {
namespace {

constexpr int kReplotDelayMs = 40;
constexpr double kEmaWeight = 0.9;  // smoothing of noisy per-step metrics

const QColor kBlue(31, 119, 180), kOrange(255, 127, 14), kGreen(44, 160, 44), kRed(214, 39, 40),
    kPurple(148, 103, 189), kBrown(140, 86, 75);

// Each plotted metric's colour: within a panel, a run's own-sample curve and
// its held-out counterpart differ, and the families reuse the same places.
QColor colorOf(Metric m) {
    switch (m) {
    case Metric::RewardsMargins: case Metric::ObjectiveScores: case Metric::CpoValueEstimate: case Metric::GroupReward:
        return kBlue;
    case Metric::FracRewardZeroStd: return kGreen;
    case Metric::ClipRatioRegion: return kOrange;
    case Metric::GroupRewardStd: return kPurple;
    case Metric::EvalRewardsMargins: case Metric::ObjectiveRlhfReward: case Metric::EvalRewardsAccuracies: return kOrange;
    case Metric::RewardsAccuracies: case Metric::PolicyClipFraction: case Metric::CpoEss: case Metric::RewardsChosen: return kGreen;
    case Metric::KlExact: case Metric::KlK3: return kPurple;
    case Metric::GoldReward: return kBrown;
    case Metric::EvalResponseTokens: case Metric::WinRateTies: return Qt::gray;
    case Metric::WinRateVsRef: return kBlue;
    case Metric::JudgeFlipRate: return kRed;
    case Metric::ProxyGoldReward: return kBrown;
    default: return kRed;
    }
}

// Family titles are listed pairwise, PPO, CPO (setFamilyTitles).
int familyIndex(MethodFamily f) {
    switch (f) {
    case MethodFamily::Pairwise: return 0;
    case MethodFamily::Ppo: return 1;
    case MethodFamily::Causal: return 2;
    case MethodFamily::Group: return 3;
    }
    return 0;
}

}  // namespace

MetricPlots::MetricPlots(QWidget* parent) : QWidget(parent) {
    m_replotTimer = new QTimer(this);
    m_replotTimer->setSingleShot(true);
    m_replotTimer->setInterval(kReplotDelayMs);
    connect(m_replotTimer, &QTimer::timeout, this, &MetricPlots::replotNow);

    m_title = new QLabel;
    QFont tf = m_title->font();
    tf.setBold(true);
    m_title->setFont(tf);
    auto* resetButton = new QPushButton(tr("Reset view"));
    resetButton->setToolTip(tr("Fit every plot to its data again (after zooming with the wheel or panning by dragging)"));
    connect(resetButton, &QPushButton::clicked, this, &MetricPlots::resetView);
    auto* exportButton = new QPushButton(tr("Export..."));
    exportButton->setToolTip(tr("Save the plots as PNG, SVG or PDF, or their data as CSV"));
    connect(exportButton, &QPushButton::clicked, this, &MetricPlots::chooseExport);
    auto* header = new QHBoxLayout;
    header->addWidget(m_title, 1);
    header->addWidget(resetButton);
    header->addWidget(exportButton);

    const QString marginHelp =
        tr("Reward margin: the chosen response's implicit reward minus the rejected one's, "
           "beta * (log pi/pi_ref(chosen) - log pi/pi_ref(rejected)). DPO pushes it up.\n\n"
           "'own samples' is measured on each step's pairs, which the policy itself just sampled. A sample the "
           "reference finds unlikely carries a large log-ratio just because it was drawn, and the judge mostly "
           "rejects such samples, so this curve can fall while the policy gets better. "
           "'held-out pairs' is measured at each evaluation on a fixed set of pairs the run never trains on: "
           "sampled once from the reference and labelled by the task's true reward (judge task or self) or by the "
           "reward model (judge reward_model), or, with a person judging, the share of their labels held back "
           "(held_out_share). It says whether the policy ranks responses as its judge does.");
    const QString klHelp =
        tr("KL(policy || reference) per response on fresh samples at each evaluation. "
           "'exact' sums the full token distributions along each sampled response (the evaluation computes both "
           "distributions anyway, so it is cheap here), with the 95 % interval of the mean over the samples as error "
           "bars (1.96 standard errors). 'k3' is the sampled estimate most trainers log (objective/kl by default): "
           "never negative, but heavy-tailed once the policy has moved far, so it can jump between evaluations. "
           "k1 (log pi - log pi_ref) is unbiased but can be negative on a few samples.");
    const QString rewardsHelp =
        tr("Implicit rewards of the chosen and rejected responses. Both can fall while the margin rises: "
           "DPO only pushes their difference, and lowering the probability of both responses (most of all the "
           "rejected one) is a common way to do it.");

    // The panels; which metric each shows comes from the metric table
    // (core/values/metric_names.h): its panel, legend, family and cadence.
    QMap<MetricPlot, QCustomPlot*> panel;
    QCustomPlot* margin = panel[MetricPlot::Margin] = makePlot(tr("Reward margin"), tr("beta * log-ratio (nats)"), marginHelp);
    setFamilyTitles(margin, {tr("Reward margin"), tr("Rollout scores"), tr("Value estimate"), tr("Group rewards")},
                    {tr("beta * log-ratio (nats)"), tr("score per response"), tr("outcome per response"),
                     tr("score per response")});
    QCustomPlot* kl = panel[MetricPlot::Kl] = makePlot(tr("KL to reference"), tr("nats per response (exact)"), klHelp);
    QCustomPlot* loss = panel[MetricPlot::Loss] =
        makePlot(tr("Loss"), tr("nats per pair"), tr("The preference loss of each step (ln 2 = 0.693 at the start of DPO)."));
    setFamilyTitles(loss, {tr("Loss"), tr("Loss"), tr("Loss"), tr("Loss")},
                    {tr("nats per pair"), tr("policy + 0.1 x value loss"), tr("minus the objective (outcome units)"),
                     tr("clipped surrogate (+ KL)")});
    QCustomPlot* accuracy = panel[MetricPlot::Accuracy] =
        makePlot(tr("Reward accuracy"), tr("fraction of pairs"),
                 tr("Share of pairs whose chosen response has the strictly higher implicit reward "
                    "(0 at the start, when the policy is the reference).\n\n"
                    "'own samples': the batch's pairs, sampled by the policy itself (see the margin "
                    "plot's help for why this can fall while the policy improves). "
                    "'held-out pairs': a fixed set the run never trains on, labelled as its judge "
                    "labels (the true reward, the reward model, or a person's held-back labels), "
                    "measured at each evaluation."));
    setFamilyTitles(accuracy, {tr("Reward accuracy"), tr("Clip fraction"), tr("Effective sample size"),
                               tr("Tied groups and clipping")},
                    {tr("fraction of pairs"), tr("fraction of tokens"), tr("responses (1 / sum w^2)"),
                     tr("fraction (groups; tokens)")});
    accuracy->yAxis->setRange(0, 1.05);
    m_fractionPlot = accuracy;
    QCustomPlot* gold = panel[MetricPlot::Gold] =
        makePlot(tr("Gold reward and length"), tr("task points per response"),
                 tr("Mean true reward of fresh samples, scored by the built-in task's rules "
                    "(on topic, answers, kind, concise, no repetition, well formed).\n\n"
                    "Mean response length (right axis), on the same samples: length is the most common "
                    "confound in preference optimisation. A margin that rises with length while gold "
                    "reward does not is the judge rewarding length."));
    QCustomPlot* rewards = panel[MetricPlot::Rewards] = makePlot(tr("Implicit rewards"), tr("beta * log-ratio (nats)"), rewardsHelp);
    setFamilyTitles(rewards, {tr("Implicit rewards"), tr("Value loss"), tr("Largest importance weight"),
                              tr("Reward spread within groups")},
                    {tr("beta * log-ratio (nats)"), tr("squared error"), tr("w = n softmax(log P^f - log P^R)"),
                     tr("standard deviation (score)")});
    QCustomPlot* winRate = m_winRatePlot = panel[MetricPlot::WinRate] =
        makePlot(tr("Win rate vs reference"), tr("share of prompts"),
                 tr("At each evaluation, the policy's response and the reference model's response to the same "
                    "evaluation prompt (the first win_rate_prompts of them; the reference's responses are sampled "
                    "once), judged by the run's machine judge (a person's run: its machine fallback). "
                    "Win rate = (wins + ties / 2) / n; the error bars are Wilson's 95 % score interval of that "
                    "proportion over the n prompts. 0.5 is parity with the reference. "
                    "It is the curve to read when there is no true reward."));
    QCustomPlot* proxyGold = m_proxyGoldPlot = panel[MetricPlot::ProxyGold] =
        makePlot(tr("Proxy gold"), tr("reward-model score (proxy, not the true reward)"),
                 tr("Mean score of the gold_model reward model on the evaluation's fresh samples: a proxy for the "
                    "true reward, as good as that reward model. Shown beside the task's true reward (the gold "
                    "panel), never in its place: a proxy that rises while the true reward falls is the reward "
                    "model being exploited."));
    for (const MetricInfo& m : metricTable()) {
        if (m.plot != MetricPlot::None) addSeries(panel.value(m.plot), m.id, colorOf(m.id));
    }
    // What the table cannot say: the k3 estimate drawn faint beside the exact
    // KL with its interval, and the length on the gold plot's right axis.
    QCPGraph* k3 = series(Metric::KlK3);
    k3->setPen(QPen(QColor(148, 103, 189, 120), 1, Qt::DashLine));
    k3->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCross, QColor(148, 103, 189, 140), 5));
    m_klErrors = new QCPErrorBars(kl->xAxis, kl->yAxis);
    m_klErrors->setDataPlottable(series(Metric::KlExact));
    m_klErrors->setPen(QPen(kPurple, 1));
    m_klErrors->removeFromLegend();
    m_winRateErrors = new QCPErrorBars(winRate->xAxis, winRate->yAxis);
    m_winRateErrors->setDataPlottable(series(Metric::WinRateVsRef));
    m_winRateErrors->setPen(QPen(kBlue, 1));
    m_winRateErrors->removeFromLegend();
    QCPGraph* ties = series(Metric::WinRateTies);
    ties->setPen(QPen(Qt::gray, 1, Qt::DashLine));
    QCPItemStraightLine* parity = new QCPItemStraightLine(winRate);
    parity->point1->setCoords(0, 0.5);
    parity->point2->setCoords(1, 0.5);
    parity->setPen(QPen(QColor(0, 0, 0, 80), 1, Qt::DotLine));
    (void)proxyGold;
    QCPGraph* length = series(Metric::EvalResponseTokens);
    length->setValueAxis(gold->yAxis2);
    length->setPen(QPen(Qt::gray, 1.5, Qt::DashLine));
    length->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssSquare, Qt::gray, Qt::white, 5));
    gold->yAxis2->setVisible(true);
    gold->yAxis2->setLabel(tr("tokens per response"));

    auto* grid = new QGridLayout;
    grid->setSpacing(6);
    for (int i = 0; i < m_plots.size(); ++i) grid->addWidget(m_plots[i], i / 3, i % 3);

    auto* hint = new QLabel(
        tr("<small>Drag to pan, wheel to zoom, click a point to see the pairs trained at that step. "
           "<i>Why is KL (k1) sometimes negative?</i> It is an unbiased estimate from a few samples; hover a plot for "
           "more. <i>Why do both rewards fall while the margin rises?</i> DPO only moves their difference.</small>"));
    hint->setWordWrap(true);
    hint->setToolTip(klHelp + QStringLiteral("\n\n") + rewardsHelp);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addLayout(header);
    layout->addLayout(grid, 1);
    layout->addWidget(hint);
    reset(tr("No run yet"), QString::fromStdString(RunConfig{}.algorithm));
}

QCustomPlot* MetricPlots::makePlot(const QString& title, const QString& yLabel, const QString& help) {
    auto* p = new QCustomPlot;
    p->setMinimumSize(220, 160);
    p->setToolTip(help);
    p->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom | QCP::iSelectPlottables);
    p->setNoAntialiasingOnDrag(true);
    p->plotLayout()->insertRow(0);
    auto* t = new QCPTextElement(p, title, QFont(font().family(), font().pointSize() + 1, QFont::Bold));
    p->plotLayout()->addElement(0, 0, t);
    p->xAxis->setLabel(tr("training step"));
    p->yAxis->setLabel(yLabel);
    QFont small = font();
    small.setPointSizeF(small.pointSizeF() * 0.9);
    p->legend->setVisible(true);
    p->legend->setFont(small);
    p->legend->setBrush(QColor(255, 255, 255, 200));
    p->legend->setRowSpacing(-3);
    p->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignLeft);
    connect(p, &QCustomPlot::mouseWheel, this, [this, p] { m_userView[p] = true; });
    connect(p, &QCustomPlot::mouseMove, this, [this, p](QMouseEvent* e) {
        if (e->buttons() & Qt::LeftButton) m_userView[p] = true;
    });
    connect(p, &QCustomPlot::plottableClick, this, [this](QCPAbstractPlottable* plottable, int index, QMouseEvent*) {
        auto* g = qobject_cast<QCPGraph*>(plottable);
        if (g && index >= 0 && index < g->data()->size()) Q_EMIT stepClicked(static_cast<qint64>(g->data()->at(index)->key));
    });
    m_plots.push_back(p);
    return p;
}

void MetricPlots::setFamilyTitles(QCustomPlot* plot, const QStringList& titles, const QStringList& axes) {
    PlotTitles t;
    t.element = qobject_cast<QCPTextElement*>(plot->plotLayout()->element(0, 0));
    t.titles = titles;
    t.axes = axes;
    m_familyTitles.insert(plot, t);
}

void MetricPlots::addSeries(QCustomPlot* plot, Metric metric, const QColor& color) {
    const MetricInfo& info = metricInfo(metric);
    const QString legend = QCoreApplication::translate("Metric", info.legend);
    const bool smooth = info.cadence == MetricCadence::Step;
    Series s;
    s.plot = plot;
    s.family = info.family;
    s.raw = plot->addGraph();
    s.raw->setName(legend);
    if (smooth) {
        // Raw per-step values faint, their moving average bold.
        QColor faint = color;
        faint.setAlpha(70);
        s.raw->setPen(QPen(faint, 1));
        s.raw->setName(legend + tr(" (per step)"));
        s.smooth = plot->addGraph();
        s.smooth->setPen(QPen(color, 2));
        s.smooth->setName(legend + tr(" (smoothed)"));
        s.smooth->setSelectable(QCP::stNone);
    } else {
        s.raw->setPen(QPen(color, 2));
        s.raw->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, color, Qt::white, 6));
    }
    s.raw->setSelectable(QCP::stSingleData);
    m_series.insert(QLatin1String(info.key), s);
}

bool MetricPlots::highlightMetric(const QString& key) {
    const auto it = m_series.constFind(key);
    const bool found = it != m_series.cend() && it->raw->visible();
    m_highlighted = found ? key : QString();
    for (QCustomPlot* p : m_plots) {
        const bool on = found && p == it->plot;
        p->setBackground(on ? QBrush(QColor(255, 248, 214)) : QBrush(Qt::white));
        p->axisRect()->setBackground(on ? QBrush(QColor(255, 252, 235)) : QBrush(Qt::NoBrush));
        p->replot(QCustomPlot::rpQueuedReplot);
    }
    return found;
}

QCPGraph* MetricPlots::series(Metric metric) const {
    return m_series.value(QLatin1String(metricKey(metric))).raw;
}

void MetricPlots::reset(const QString& title, const QString& algorithm) {
    m_title->setText(title);
    m_family = methodFamily(algorithm.toStdString());
    for (auto it = m_series.begin(); it != m_series.end(); ++it) {
        it->raw->data()->clear();
        if (it->smooth) it->smooth->data()->clear();
        it->hasEma = false;
        // Only this family's curves are drawn and listed in the legend.
        const bool shown = !it->family || *it->family == m_family;
        for (QCPGraph* g : {it->raw, it->smooth}) {
            if (!g) continue;
            g->setVisible(shown);
            if (shown) g->addToLegend();
            else g->removeFromLegend();
        }
    }
    for (auto it = m_familyTitles.begin(); it != m_familyTitles.end(); ++it) {
        if (it->element) it->element->setText(it->titles.value(familyIndex(m_family)));
        it.key()->yAxis->setLabel(it->axes.value(familyIndex(m_family)));
    }
    // Only an LLM judge reports order flips: listed once its first point arrives.
    series(Metric::JudgeFlipRate)->removeFromLegend();
    m_klErrors->data()->clear();
    m_winRateErrors->data()->clear();
    m_winRateLow = std::numeric_limits<double>::quiet_NaN();
    m_maxStep = 0;
    m_userView.clear();
    scheduleReplot();
}

void MetricPlots::setEvaluationNames(const QString& winRateTitle, const QString& proxyGoldTitle) {
    auto setTitle = [](QCustomPlot* p, const QString& title) {
        if (auto* t = qobject_cast<QCPTextElement*>(p->plotLayout()->element(0, 0))) t->setText(title);
    };
    QString w = winRateTitle;
    if (!w.isEmpty()) w[0] = w[0].toUpper();
    setTitle(m_winRatePlot, w.isEmpty() ? tr("Win rate vs reference") : w);
    QString g = proxyGoldTitle;
    if (!g.isEmpty()) g[0] = g[0].toUpper();
    setTitle(m_proxyGoldPlot, g.isEmpty() ? tr("Proxy gold (no gold_model)") : g);
    m_proxyGoldPlot->setHidden(proxyGoldTitle.isEmpty());
    scheduleReplot();
}

void MetricPlots::addSamples(const QVector<MetricSample>& samples) {
    for (const MetricSample& m : samples) {
        if (m.name == metricKey(Metric::WinRateVsRefLow)) {
            m_winRateLow = m.value;
            continue;
        }
        if (m.name == metricKey(Metric::WinRateVsRefHigh)) {
            // The interval of the win-rate point of the same evaluation (logged just before its ends).
            QCPGraph* rate = series(Metric::WinRateVsRef);
            const int points = rate->data()->size();
            while (m_winRateErrors->dataCount() < points - 1) m_winRateErrors->addData(0, 0);
            if (points > 0 && m_winRateErrors->dataCount() < points && std::isfinite(m.value) && std::isfinite(m_winRateLow)) {
                const double r = (rate->data()->constEnd() - 1)->value;
                m_winRateErrors->addData(std::max(0.0, r - m_winRateLow), std::max(0.0, m.value - r));
            }
            m_winRateLow = std::numeric_limits<double>::quiet_NaN();
            continue;
        }
        if (m.name == metricKey(Metric::KlExactCi95)) {
            // The interval of the exact-KL point of the same evaluation (logged just after it).
            const int points = series(Metric::KlExact)->data()->size();
            while (m_klErrors->dataCount() < points - 1) m_klErrors->addData(0);
            if (m_klErrors->dataCount() < points && std::isfinite(m.value)) m_klErrors->addData(m.value);
            continue;
        }
        auto it = m_series.find(QString::fromStdString(m.name));
        if (it == m_series.end() || !std::isfinite(m.value)) continue;
        const double step = static_cast<double>(m.step);
        if (it->raw->data()->isEmpty() && m.name == metricKey(Metric::JudgeFlipRate)) it->raw->addToLegend();
        it->raw->addData(step, m.value);
        if (it->smooth) {
            it->ema = it->hasEma ? kEmaWeight * it->ema + (1 - kEmaWeight) * m.value : m.value;
            it->hasEma = true;
            it->smooth->addData(step, it->ema);
        }
        m_maxStep = std::max<qint64>(m_maxStep, m.step);
    }
    scheduleReplot();
}

int MetricPlots::pointCount(Metric metric) const {
    const auto it = m_series.constFind(QLatin1String(metricKey(metric)));
    return it == m_series.cend() ? 0 : it->raw->data()->size();
}

double MetricPlots::lastValue(Metric metric) const {
    const auto it = m_series.constFind(QLatin1String(metricKey(metric)));
    if (it == m_series.cend() || it->raw->data()->isEmpty()) return std::nan("");
    return (it->raw->data()->constEnd() - 1)->value;
}

QStringList MetricPlots::plotTitles() const {
    QStringList out;
    for (QCustomPlot* p : m_plots) {
        auto* t = qobject_cast<QCPTextElement*>(p->plotLayout()->element(0, 0));
        out << (t ? t->text() : QString());
    }
    return out;
}

void MetricPlots::scheduleReplot() {
    if (!m_replotTimer->isActive()) m_replotTimer->start();
}

void MetricPlots::replotNow() {
    for (QCustomPlot* p : m_plots) {
        if (!m_userView.value(p)) {
            p->rescaleAxes(/*onlyVisiblePlottables=*/true);
            const bool fraction = (p == m_fractionPlot && m_family != MethodFamily::Causal) || p == m_winRatePlot;
            if (fraction) p->yAxis->setRange(-0.02, 1.02);
            else p->yAxis->scaleRange(1.12, p->yAxis->range().center());  // a margin around the data
            if (p->xAxis->range().size() < 1) p->xAxis->setRange(0, std::max(10.0, static_cast<double>(m_maxStep)));
        }
        p->replot(QCustomPlot::rpQueuedReplot);
    }
}

void MetricPlots::resetView() {
    m_userView.clear();
    replotNow();
}

void MetricPlots::chooseExport() {
    QMenu menu;
    struct Format {
        QString label, file, filter;
        bool image;
    };
    const Format formats[] = {
        {tr("Plots as PNG..."), QStringLiteral("preflab-plots.png"), tr("PNG images (*.png)"), true},
        {tr("Plots as SVG..."), QStringLiteral("preflab-plots.svg"), tr("SVG drawings (*.svg)"), true},
        {tr("Plots as PDF..."), QStringLiteral("preflab-plots.pdf"), tr("PDF documents (*.pdf)"), true},
        {tr("Data as CSV..."), QStringLiteral("preflab-metrics.csv"), tr("CSV files (*.csv)"), false},
    };
    for (const Format& f : formats) {
        menu.addAction(f.label, this, [this, f] {
            const QString path = QFileDialog::getSaveFileName(this, tr("Export"), f.file, f.filter);
            QString err;
            if (!path.isEmpty() && !(f.image ? exportImage(path, &err) : exportCsv(path, &err))) m_title->setText(err);
        });
    }
    menu.exec(QCursor::pos());
}

bool MetricPlots::exportImage(const QString& path, QString* error) const {
    // The grid's bounding box, each plot drawn at its place (vector output for SVG/PDF).
    QRect box;
    for (QCustomPlot* p : m_plots) {
        if (!p->isHidden()) box |= p->geometry();
    }
    const QString suffix = QFileInfo(path).suffix().toLower();
    auto drawAll = [&](QCPPainter& painter) {
        for (QCustomPlot* p : m_plots) {
            if (p->isHidden()) continue;
            painter.save();
            painter.translate(p->geometry().topLeft() - box.topLeft());
            p->toPainter(&painter, p->width(), p->height());
            painter.restore();
        }
    };
    if (suffix == QLatin1String("png")) {
        QImage image(box.size() * 2, QImage::Format_ARGB32);
        image.setDevicePixelRatio(2);
        image.fill(Qt::white);
        QCPPainter painter(&image);
        painter.setRenderHint(QPainter::Antialiasing);
        drawAll(painter);
        painter.end();
        if (image.save(path)) return true;
    } else if (suffix == QLatin1String("svg")) {
        QSvgGenerator svg;
        svg.setFileName(path);
        svg.setSize(box.size());
        svg.setViewBox(QRect(QPoint(0, 0), box.size()));
        svg.setTitle(m_title->text());
        QCPPainter painter;
        if (painter.begin(&svg)) {
            drawAll(painter);
            if (painter.end()) return true;
        }
    } else if (suffix == QLatin1String("pdf")) {
        QPdfWriter pdf(path);
        pdf.setResolution(72);
        pdf.setPageSize(QPageSize(QSizeF(box.size()), QPageSize::Point));
        pdf.setPageMargins(QMarginsF(0, 0, 0, 0));
        pdf.setTitle(m_title->text());
        QCPPainter painter;
        if (painter.begin(&pdf)) {
            drawAll(painter);
            if (painter.end()) return true;
        }
    } else {
        if (error) *error = tr("%1: unknown image type '%2' (use .png, .svg or .pdf)").arg(path, suffix);
        return false;
    }
    if (error) *error = tr("Could not write %1 (is the folder writable, is the disk full?)").arg(path);
    return false;
}

bool MetricPlots::exportCsv(const QString& path, QString* error) const {
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate | QIODevice::Text)) {
        if (error) *error = tr("Could not write %1: %2").arg(path, file.errorString());
        return false;
    }
    QTextStream out(&file);
    out << "step,metric,value\n";
    for (auto it = m_series.cbegin(); it != m_series.cend(); ++it) {
        for (auto d = it->raw->data()->constBegin(); d != it->raw->data()->constEnd(); ++d) {
            out << static_cast<qint64>(d->key) << ',' << it.key() << ',' << QString::number(d->value, 'g', 10) << '\n';
        }
    }
    out.flush();
    if (file.error() != QFileDevice::NoError) {
        if (error) *error = tr("Could not write %1: %2").arg(path, file.errorString());
        return false;
    }
    return true;
}

}  // namespace preflab
