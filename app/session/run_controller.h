#pragma once
// What the GUI drives: starts one run at a time on its training thread,
// passes pause/resume/stop on, carries a person's labels to the run (and takes
// the last one back on undo), and writes relabels from the data browser on a
// writer thread. Lives on the UI thread; every call returns at once.
#include "app/session/training_session.h"

#include <QObject>
#include <QVector>

#include <memory>

namespace preflab {

class StorageWriter;

class RunController : public QObject {
    Q_OBJECT
public:
    RunController(QString databasePath, QString dataDir, QObject* parent = nullptr);
    ~RunController() override;  // stops the run, waits for its writes, then returns

    const QString& databasePath() const { return m_databasePath; }
    const QString& dataDir() const { return m_dataDir; }
    // The model file a config's "model" names (the cached starter for "starter").
    QString resolveModelPath(const RunConfig& config) const;
    bool starterModelReady() const;
    QString starterModelPath() const;

    // Starts a run; false with a reason when the config or model is unusable
    // or a run is already active.
    bool startRun(const RunConfig& config, QString* error);
    void pause();
    void resume();
    void stop();
    bool hasActiveRun() const { return m_session != nullptr; }
    qint64 activeRunId() const { return m_runId; }
    const RunConfig& activeConfig() const { return m_config; }
    RunState state() const { return m_state; }

    // Pairs waiting for the person, oldest first (empty unless the judge is a person).
    std::vector<PairForJudging> pendingPairs() const;
    // Labels a waiting pair (choice, and ratings in rating mode). False when the
    // pair is no longer waiting.
    bool label(const Judgement& judgement);
    enum class UndoResult { Nothing, Retracted, AlreadyUsed };
    // Takes back the last label this session gave. Retracted: the pair waits
    // again and the label never reaches the database. AlreadyUsed: the run had
    // collected it; *pair is filled so the person can correct it (correct()).
    UndoResult undoLastLabel(PairForJudging* pair);
    // Stores a corrected label for a pair of the active run that the run already
    // collected; the newest label is the one in force for exports and browsing.
    void correct(const PairForJudging& pair, const Judgement& judgement);
    // Relabels any stored pair (the data browser).
    void relabel(qint64 pairId, Choice choice, const QString& annotator);
    // Blocks until the UI's own writes are on disk (for shutdown and tests).
    bool flushWrites();

Q_SIGNALS:
    void runStarted(qint64 runId, const QString& configJson);
    void metricsReady(const QVector<preflab::MetricSample>& samples);
    void pairGenerated(const preflab::PairForJudging& pair);
    void progress(qint64 step, qint64 totalSteps);
    void stateChanged(preflab::RunState state, const QString& message);
    void failed(const QString& message);
    void runEnded(qint64 runId, preflab::RunState state);
    void labelQueueChanged();
    void writeFailed(const QString& message);

private:
    StorageWriter& writer();
    void endSession();

    QString m_databasePath, m_dataDir;
    std::unique_ptr<TrainingSession> m_session;
    std::shared_ptr<HumanLabelQueue> m_queue;
    std::unique_ptr<StorageWriter> m_writer;
    RunConfig m_config;
    qint64 m_runId = 0;
    RunState m_state = RunState::Finished;
    std::vector<PairForJudging> m_labeledThisRun;  // for undo, newest last
};

}  // namespace preflab
