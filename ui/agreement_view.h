#pragma once
// How far annotators agree, as labels arrive: Krippendorff's alpha over
// everyone (nominal over a, b, tie and both_bad; skips are missing values),
// Cohen's kappa for each two annotators as a heatmap, and each annotator's
// labels and mean kappa with the others (core/values/agreement.h). Labels
// are read through the DatabaseReader (never on the UI thread). UI thread.
#include "storage/database_reader.h"

#include <QWidget>

class QCustomPlot;
class QLabel;
class QTableWidget;

namespace preflab {

class PolledRequest;

class AgreementView : public QWidget {
    Q_OBJECT
public:
    explicit AgreementView(DatabaseReader* reader, QWidget* parent = nullptr);

    // The labels of run `runId` (0: every stored label, imported ones included).
    void setRun(qint64 runId);
    void refresh();

    // For tests and the screenshot.
    QString summary() const;
    int annotatorCount() const { return m_annotators.size(); }
    double kappa(int row, int column) const;  // NaN where undefined
    QCustomPlot* plot() const { return m_plot; }
    QString cellText(int row, int column) const;  // the annotators' table
    QString qualityText(int row, int column) const;  // the quality table

Q_SIGNALS:
    void loaded();

protected:
    // While shown it re-reads every two seconds, so the figures follow the labels as they arrive.
    void showEvent(QShowEvent* event) override;
    void hideEvent(QHideEvent* event) override;

private:
    void show(const QVector<AnnotatorLabelRow>& rows);
    void showQuality(const QVector<AnnotatorLabelRow>& rows);

    DatabaseReader* m_reader;
    qint64 m_run = 0;
    QLabel* m_summary;
    QCustomPlot* m_plot;
    QTableWidget* m_table;
    QTableWidget* m_quality;
    QStringList m_annotators;
    QVector<double> m_kappa;  // row-major, annotators x annotators
    PolledRequest* m_poll;
};

}  // namespace preflab
