#pragma once
// The live curves of a run: reward margin, KL to the reference (exact, with
// its 95 % interval, and the k3 estimate), loss, reward accuracy, gold (true) reward with the mean response
// length, and rewards/chosen with rewards/rejected.
// Samples are appended as they arrive and drawn on a ~40 ms single-shot timer
// with a queued replot, so a burst of updates costs one redraw. Plots zoom and
// pan with the mouse; clicking a point asks for the pairs trained at that step.
// UI thread.
#include "core/values/loop_types.h"
#include "core/values/method_registry.h"
#include "core/values/metric_names.h"
#include "core/values/run_state.h"

#include <QMap>
#include <QString>
#include <QVector>
#include <QWidget>

#include <limits>
#include <optional>

class QCustomPlot;
class QCPGraph;
class QLabel;
class QTimer;

class QCPTextElement;
class QCPErrorBars;

namespace preflab {

class MetricPlots : public QWidget {
    Q_OBJECT
public:
    explicit MetricPlots(QWidget* parent = nullptr);

    // Starts a fresh set of curves (a new run, or a stored run being opened).
    // Clears the plots for a run of `algorithm`: pairwise methods plot reward
    // margin, accuracy and implicit rewards; PPO its scores, clip fraction and
    // value loss; CPO, DR-CPO and OO-RLHF their value estimate, effective
    // sample size and largest weight. Loss, KL and gold reward always.
    void reset(const QString& title, const QString& algorithm);
    // The evaluation's names for the run shown (core/values/win_rate.h): the
    // win-rate panel's title ("win rate vs reference (judge: X)") and the
    // proxy gold's ("proxy gold (reward model X)"; empty: no gold_model, the
    // panel is hidden). Call after reset.
    void setEvaluationNames(const QString& winRateTitle, const QString& proxyGoldTitle);
    void addSamples(const QVector<preflab::MetricSample>& samples);
    // Points held by the curve of one metric (for tests and the screenshot).
    int pointCount(Metric metric) const;
    double lastValue(Metric metric) const;
    // The plots' titles, in grid order (for tests and the screenshot).
    QStringList plotTitles() const;
    // The largest training step shown so far.
    qint64 maxStep() const { return m_maxStep; }

    // Frames the plot that holds the metric stored under `key` (a lesson's
    // "look here"); an empty or unplotted key clears the frame. False when
    // the metric has no plot here.
    bool highlightMetric(const QString& key);
    // The key highlighted now (empty: none).
    QString highlightedMetric() const { return m_highlighted; }

    bool exportImage(const QString& path, QString* error) const;  // .png, .svg or .pdf by suffix
    bool exportCsv(const QString& path, QString* error) const;

public Q_SLOTS:
    void resetView();

Q_SIGNALS:
    void stepClicked(qint64 step);

private:
    struct Series {
        QCustomPlot* plot = nullptr;
        QCPGraph* raw = nullptr;
        QCPGraph* smooth = nullptr;  // exponential moving average of a noisy per-step metric
        double ema = 0;
        bool hasEma = false;
        std::optional<MethodFamily> family;  // the method family whose runs show it; none: every run
    };
    struct PlotTitles {  // a plot's title and axis label in each family
        QCPTextElement* element = nullptr;
        QStringList titles, axes;
    };
    QCustomPlot* makePlot(const QString& title, const QString& yLabel, const QString& help);
    // The metric's curve (its legend, family and smoothing from the metric table).
    void addSeries(QCustomPlot* plot, Metric metric, const QColor& color);
    QCPGraph* series(Metric metric) const;
    // Titles and y-axis labels of `plot` for the pairwise, PPO and CPO families.
    void setFamilyTitles(QCustomPlot* plot, const QStringList& titles, const QStringList& axes);
    void scheduleReplot();
    void replotNow();
    void chooseExport();

    QVector<QCustomPlot*> m_plots;
    QMap<QString, Series> m_series;
    QMap<QCustomPlot*, PlotTitles> m_familyTitles;
    MethodFamily m_family = MethodFamily::Pairwise;
    QCustomPlot* m_fractionPlot = nullptr;
    QCPErrorBars* m_winRateErrors = nullptr;  // the Wilson interval around each win-rate point
    double m_winRateLow = std::numeric_limits<double>::quiet_NaN();  // the evaluation's low end, until its high end comes
    QCustomPlot* m_winRatePlot = nullptr;
    QCustomPlot* m_proxyGoldPlot = nullptr;
    QCPErrorBars* m_klErrors = nullptr;  // kl/exact_ci95 around each exact-KL point  // accuracy / clip fraction: y from 0 to 1
    QMap<QCustomPlot*, bool> m_userView;  // the person zoomed or panned: stop autoscaling
    QTimer* m_replotTimer;
    QLabel* m_title;
    qint64 m_maxStep = 0;
    QString m_highlighted;
};

}  // namespace preflab
