#pragma once
// Reads the database for the UI on a thread of its own, with its own
// connection, so that the UI thread never waits on disk. Requests are posted
// (they return at once); results come back as queued signals carrying value
// types, tagged with the request's id so a view can drop stale answers.
// Create and use it on the UI thread; the destructor joins the thread.
#include "storage/preference_store.h"
#include "storage/pair_browser_store.h"
#include "storage/records.h"
#include "storage/run_store.h"

#include <QObject>
#include <QThread>
#include <QVector>

namespace preflab {

class DatabaseReaderWorker;

class DatabaseReader : public QObject {
    Q_OBJECT
public:
    explicit DatabaseReader(const QString& databasePath, QObject* parent = nullptr);
    ~DatabaseReader() override;

    // Each returns the request id its answer will carry.
    quint64 listRuns();
    quint64 loadMetrics(qint64 runId);
    quint64 loadEvalSamples(qint64 runId);
    quint64 fetchPairs(const preflab::PairFilter& filter, qint64 afterPairId, int limit);
    quint64 countPairs(const preflab::PairFilter& filter);
    quint64 findPair(qint64 pairId);
    // Each annotator's latest label of each pair of run `runId` (0: every
    // pair), then the judges' verdicts on those pairs (rows marked judge).
    quint64 loadAnnotatorLabels(qint64 runId);
    // The pairs of run `runId` (0: every pair) on which annotators disagree.
    quint64 loadDisagreements(qint64 runId);

Q_SIGNALS:
    void runsListed(quint64 request, const QVector<preflab::RunSummary>& runs);
    void metricsLoaded(quint64 request, qint64 runId, const QVector<preflab::MetricRow>& rows);
    void evalSamplesLoaded(quint64 request, qint64 runId, const QVector<preflab::EvalSampleRow>& rows);
    void pairsFetched(quint64 request, const QVector<preflab::PairListRow>& rows);
    void pairsCounted(quint64 request, qint64 count);
    void pairFound(quint64 request, const preflab::PairListRow& row);
    void annotatorLabelsLoaded(quint64 request, const QVector<preflab::AnnotatorLabelRow>& rows);
    void disagreementsLoaded(quint64 request, const QVector<preflab::Disagreement>& rows);
    void failed(quint64 request, const QString& message);

private:
    // Runs work(worker, requestId, database) on the reader thread.
    template <typename Work>
    quint64 post(Work work);

    quint64 m_nextRequest = 1;
    QThread m_thread;
    DatabaseReaderWorker* m_worker = nullptr;
};

}  // namespace preflab

Q_DECLARE_METATYPE(preflab::MetricRow)
Q_DECLARE_METATYPE(QVector<preflab::MetricRow>)
Q_DECLARE_METATYPE(preflab::EvalSampleRow)
Q_DECLARE_METATYPE(QVector<preflab::EvalSampleRow>)
Q_DECLARE_METATYPE(preflab::RunSummary)
Q_DECLARE_METATYPE(QVector<preflab::RunSummary>)
Q_DECLARE_METATYPE(preflab::PairListRow)
Q_DECLARE_METATYPE(QVector<preflab::PairListRow>)
Q_DECLARE_METATYPE(preflab::PairFilter)
Q_DECLARE_METATYPE(preflab::AnnotatorLabelRow)
Q_DECLARE_METATYPE(QVector<preflab::AnnotatorLabelRow>)
Q_DECLARE_METATYPE(preflab::Disagreement)
Q_DECLARE_METATYPE(QVector<preflab::Disagreement>)
