#pragma once
// Several stored runs' curves overlaid on one plot: pick a metric (gold
// reward, exact KL, held-out accuracy, margin, loss, length, ...) and the x
// axis, training step or exact KL to the reference. Against KL, each run is a
// curve through its evaluations (in step order, since KL need not grow), so
// runs are compared where they have moved equally far from the reference, not
// at equal steps. Metrics are read through the DatabaseReader (never on the UI
// thread). UI thread.
#include "storage/database_reader.h"

#include <QMap>
#include <QVector>
#include <QWidget>

class QComboBox;
class QCustomPlot;
class QLabel;

namespace preflab {

class RunComparison : public QWidget {
    Q_OBJECT
public:
    explicit RunComparison(DatabaseReader* reader, QWidget* parent = nullptr);

    // Loads these runs (label: how the legend names each) and overlays them.
    void compare(const QVector<qint64>& runIds, const QStringList& labels);
    enum class XAxis { Step, ExactKl };
    void setMetric(const QString& metric);
    void setXAxis(XAxis axis);

    // For tests and the screenshot: the runs drawn and one run's (x, y) points.
    int curveCount() const;
    QVector<QPointF> points(qint64 runId) const;
    QCustomPlot* plot() const { return m_plot; }

Q_SIGNALS:
    void loaded();  // every requested run's metrics have arrived and are drawn

private:
    void redraw();

    DatabaseReader* m_reader;
    QComboBox* m_metricBox;
    QComboBox* m_axisBox;
    QLabel* m_status;
    QCustomPlot* m_plot;
    QVector<qint64> m_runs;
    QStringList m_labels;
    QMap<quint64, qint64> m_pending;  // request -> run
    QMap<qint64, QVector<MetricRow>> m_metrics;
    QMap<qint64, QVector<QPointF>> m_drawn;
};

}  // namespace preflab
