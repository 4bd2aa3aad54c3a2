#pragma once
// The workbench's lesson (issue 29): plays a lesson's runs one after another
// through the run controller, as `preflab lesson` plays them through a
// TrainingSession, and feeds the LessonEngine every metric the runs emit, so
// that what the lesson view narrates is true of the runs on screen. In step
// mode it pauses at every cue (otherwise at the cues whose file asks to, and
// at a question until it is answered) until continueLesson(): the run pauses
// within a step of the cue's metrics, and a cue at a run's start or end holds
// the next run back. A run's preparation (a reward model, sampled pairs,
// best-of-n) runs on a worker thread. Lives on the UI thread; every call
// returns at once.
#include "app/session/lesson_preparation.h"
#include "core/values/lesson_engine.h"
#include "core/values/lesson_state.h"
#include "core/values/run_config.h"
#include "core/values/run_state.h"

#include <QObject>
#include <QTemporaryDir>
#include <QVector>

#include <atomic>

#include <functional>
#include <map>
#include <memory>
#include <optional>

class QThread;

namespace preflab {

class RunController;
class TrainingWorker;

class LessonSession : public QObject {
    Q_OBJECT
public:
    // `startRun` starts a run as the window's Start does (false: refused, the
    // reason shown by whoever started it).
    using StartRun = std::function<bool(const RunConfig&)>;
    LessonSession(RunController* controller, StartRun startRun, QObject* parent = nullptr);
    ~LessonSession() override;  // stops the lesson's run; waits for a preparation thread

    // Starts `lesson` with `seed`. With `resumeAt` (a saved state's cue), the
    // lesson runs without pausing until that cue, and pauses there.
    void start(const Lesson& lesson, int64_t seed, bool stepMode, const std::string& resumeAt = {});
    // Goes on after a pause (the run resumes, or the next run starts).
    void continueLesson();
    void answer(const QString& cueId, const QString& choice);
    void setStepMode(bool on) { m_stepMode = on; }
    bool stepMode() const { return m_stepMode; }
    // Ends the lesson (stopping its run, if one is on).
    void stop();

    bool active() const { return m_active; }
    bool waiting() const { return m_waiting; }
    const LessonEngine* engine() const { return m_engine.get(); }
    int64_t seed() const { return m_seed; }
    // The run being played (index into lesson().runs).
    int runIndex() const { return m_runIndex; }
    // Where the student is, for Save lesson.
    LessonState state() const;

Q_SIGNALS:
    void started(const QString& title, const QString& summary, qint64 seed);
    void runBegins(int index, int count, const QString& title);
    // A slow preparation step is running (empty: it is done).
    void preparing(const QString& what);
    void eventsReady(const QVector<preflab::LessonEvent>& events);
    void bestOfNReady(const preflab::BestOfNTable& table);
    // Paused at a cue (true) until continueLesson(); false when it goes on.
    void waitingChanged(bool waiting);
    // Every run is done: the engine's checks are final.
    void completed(const QVector<preflab::LessonCheckResult>& checks);
    // The lesson ended early (a run was stopped or failed, a preparation failed).
    void stopped(const QString& reason);

private:
    // What Continue does after a pause.
    enum class After { Nothing, Resume, Launch, Train, NextRun };
    struct Prepared {
        std::optional<PreparedRewardModel> rewardModel;
        std::string pairs;
        std::optional<BestOfNTable> bestOfN;
        std::string error;
    };
    // Emits the events; true when one of them pauses the lesson.
    bool show(const std::vector<LessonEvent>& events);
    void setWaiting(bool waiting, After after);
    void startNext();
    void launch();
    void prepare(const LessonRun& run);
    void onPrepared(const Prepared& prepared);
    void startTraining(const LessonRun& run, const std::string& rewardModel, const std::string& pairs);
    void onRunStarting(TrainingWorker* worker);
    void onRunEnded(qint64 runId, RunState state);
    void onMetrics(const QVector<MetricSample>& samples);
    void finishLesson();
    void end(const QString& reason);

    RunController* m_controller;
    StartRun m_startRun;
    std::optional<Lesson> m_lesson;
    std::unique_ptr<LessonEngine> m_engine;
    int64_t m_seed = 1;
    bool m_stepMode = true;
    std::string m_resumeAt;  // a saved state's cue: no pauses before it
    std::string m_lastCue;
    bool m_active = false;
    bool m_waiting = false;
    After m_after = After::Nothing;
    bool m_answerContinues = false;  // the pause is for a question only (not step mode): the answer goes on
    bool m_launching = false;  // inside startRun: the run starting is the lesson's
    bool m_runActive = false;  // the lesson's run is on
    int m_runIndex = -1;
    uint64_t m_generation = 0;  // a restarted lesson ignores an older preparation's result
    QTemporaryDir m_scratch;    // prepared files live as long as the session
    std::map<std::string, std::string> m_rewardModels;  // run id -> prepared reward model
    std::string m_pendingPairs;                         // prepared pairs of a run waiting to train
    QThread* m_prepThread = nullptr;
    std::atomic_bool m_cancelPrep{false};
};

}  // namespace preflab
