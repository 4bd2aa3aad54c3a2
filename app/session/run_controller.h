#pragma once
// What the GUI drives: starts one run at a time on its training thread,
// passes pause/resume/stop on, carries a person's labels to the run (and takes
// the last one back on undo), and owns the database's one writer, through
// which the run's rows, corrections after undo and the data browser's
// relabels all go, in order. Lives on the UI thread; every call returns at once.
//
// The run's own signals (metrics, progress, state, the newest pair, errors)
// are the worker's: runStarting() hands it over before it starts, so a caller
// connects to it directly.
#include "app/session/training_session.h"

#include <QObject>
#include <QVector>

#include <deque>
#include <unordered_map>

#include <memory>

namespace preflab {

class RunController : public QObject {
    Q_OBJECT
public:
    RunController(QString databasePath, QString dataDir, QObject* parent = nullptr);
    ~RunController() override;  // stops the run, waits for its writes, then returns

    const QString& databasePath() const { return m_databasePath; }
    const QString& dataDir() const { return m_dataDir; }
    // The model a config's "model" names (resolveModel): the cached starter, a
    // file or folder as given, or a model id's snapshot in the local Hugging
    // Face cache. Empty, with *error saying where it looked, when none exists.
    QString resolveModelPath(const RunConfig& config, QString* error = nullptr) const;
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

    // Labels a waiting pair (choice, and ratings in rating mode). False when the
    // pair is no longer waiting (a fallback judge took it). The label is
    // queued for the database at once, before the run uses it; labelsSaved()
    // says when it is on disk.
    bool label(const Judgement& judgement);
    // Takes back the last label this session gave. AlreadyUsed: the run had
    // collected it; *pair is filled so the person can correct it (correct()).
    UndoResult undoLastLabel(PairForJudging* pair);
    // Stores a corrected label for a pair of the active run that the run already
    // collected; the newest label is the one in force for exports and browsing.
    void correct(const PairForJudging& pair, const Judgement& judgement);
    // Relabels any stored pair (the data browser).
    void relabel(qint64 pairId, Choice choice, const QString& annotator);
    // Edit to prefer on the active run's pair: side `side` rewritten into
    // `text`, stored as preferred to the original (a correction pair).
    void edit(qint64 pairIndex, Choice side, const QString& text, const QString& annotator, qint64 timeMs,
              std::optional<double> seconds);
    // A reviewer's final label of a pair on which annotators disagree.
    void adjudicate(qint64 pairId, Choice choice, const QString& reviewer);
    // New guidelines (Markdown) for every stored pair, typed in the workbench;
    // empty text takes them away.
    void saveGuidelines(const QString& markdown, const QString& author);
    // Blocks until every write queued so far is on disk (for shutdown and tests).
    bool flushWrites();

    // The process's one writer to the database (opened on first use): runs,
    // labeling projects and relabels all write through it.
    std::shared_ptr<StorageWriter> sharedWriter();

Q_SIGNALS:
    // A run's worker exists and is about to start: connect to its signals now.
    void runStarting(preflab::TrainingWorker* worker);
    void runStarted(qint64 runId, const preflab::RunConfig& config);
    void runEnded(qint64 runId, preflab::RunState state);
    // The pairs waiting for a person, oldest first (empty when none or no run).
    void labelQueueChanged(const QVector<preflab::PairForJudging>& waiting);
    void writeFailed(const QString& message);
    // How many of the labels given to the active run through this controller
    // (label(), correct()) are on disk now, less those taken back by undo.
    void labelsSaved(qint64 count);

private:
    void queueLabel(const Judgement& judgement, int64_t pairIndex);
    void onAcknowledged(uint64_t acknowledged);
    StorageWriter& writer();
    void endSession();
    void onQueueSnapshot(const HumanLabelQueue* queue, const LabelQueueSnapshot& snapshot);

    QString m_databasePath, m_dataDir;
    std::unique_ptr<TrainingSession> m_session;
    std::shared_ptr<HumanLabelQueue> m_queue;
    std::shared_ptr<StorageWriter> m_writer;
    RunConfig m_config;
    qint64 m_runId = 0;
    RunState m_state = RunState::Finished;
    uint64_t m_queueVersion = 0;
    std::vector<PairForJudging> m_labeledThisRun;  // for undo, newest last
    // Labels written but not yet acknowledged by the writer: the writer's row
    // count at which each is on disk, and its pair.
    struct PendingLabel {
        uint64_t ticket;
        int64_t pairIndex;
    };
    std::deque<PendingLabel> m_unsavedLabels;
    struct GivenLabel {
        int64_t timeMs;
        std::string annotator;
    };
    std::unordered_map<int64_t, GivenLabel> m_givenLabels;  // pair index -> this session's newest label, as written
    qint64 m_labelsSaved = 0;
};

}  // namespace preflab
