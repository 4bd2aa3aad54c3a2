#pragma once
// Reads the database for the UI on a thread of its own, with its own
// connection, so that the UI thread never waits on disk. Requests are posted
// (they return at once); results come back as queued signals carrying the
// value structs of read_models.h, tagged with the request's id so a view can
// drop stale answers. Adding a query is one method (its post()) and one
// signal. Create and use it on the UI thread; the destructor joins the thread.
#include "storage/read_models.h"

#include <QObject>
#include <QString>
#include <QThread>
#include <QVector>

namespace preflab {

class DatabaseReaderWorker;

class DatabaseReader : public QObject {
    Q_OBJECT
public:
    explicit DatabaseReader(const QString& databasePath, QObject* parent = nullptr);
    ~DatabaseReader() override;

    // A short name of the database read, for window titles (databaseTitle).
    const QString& title() const { return m_title; }

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
    // The labeling guidelines in force for run `runId`'s pairs (0: every
    // stored pair's, a labeling project's); empty text when none are set.
    quint64 loadGuidelines(qint64 runId);
    // The pairs of run `runId` (0: every pair) on which annotators disagree.
    quint64 loadDisagreements(qint64 runId);
    // A labeling project's next `limit` pairs for `annotator` (in their own
    // A/B order; storage/labeling_project.h) and how many pairs have
    // `overlap` annotators, of all.
    quint64 loadProjectQueue(const QString& annotator, int overlap, int limit);
    // The thumbs mode's next `limit` responses for `annotator` and how many
    // responses have `overlap` annotators, of all.
    quint64 loadResponseQueue(const QString& annotator, int overlap, int limit);

Q_SIGNALS:
    void runsListed(quint64 request, const QVector<preflab::RunSummary>& runs);
    void metricsLoaded(quint64 request, qint64 runId, const QVector<preflab::MetricRow>& rows);
    void evalSamplesLoaded(quint64 request, qint64 runId, const QVector<preflab::EvalSampleRow>& rows);
    void pairsFetched(quint64 request, const QVector<preflab::PairListRow>& rows);
    void pairsCounted(quint64 request, qint64 count);
    void pairFound(quint64 request, const preflab::PairListRow& row);
    void annotatorLabelsLoaded(quint64 request, const QVector<preflab::AnnotatorLabelRow>& rows);
    void guidelinesLoaded(quint64 request, const QString& markdown);
    void disagreementsLoaded(quint64 request, const QVector<preflab::Disagreement>& rows);
    void projectQueueLoaded(quint64 request, const QString& annotator, const QVector<preflab::ProjectPair>& waiting,
                            qint64 complete, qint64 total);
    void responseQueueLoaded(quint64 request, const QString& annotator, const QVector<preflab::ProjectResponse>& waiting,
                             qint64 complete, qint64 total);
    void failed(quint64 request, const QString& message);

private:
    // Runs work(requestId, database) on the reader thread; the work emits
    // this reader's signals from there (queued to the receivers' threads).
    template <typename Work>
    quint64 post(Work work);

    QString m_title;
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
Q_DECLARE_METATYPE(preflab::ProjectPair)
Q_DECLARE_METATYPE(QVector<preflab::ProjectPair>)
Q_DECLARE_METATYPE(preflab::ProjectResponse)
Q_DECLARE_METATYPE(QVector<preflab::ProjectResponse>)
