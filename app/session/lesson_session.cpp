#include "app/session/lesson_session.h"

#include "app/session/run_controller.h"
#include "app/session/training_worker.h"

#include <QThread>

namespace preflab {

LessonSession::LessonSession(RunController* controller, StartRun startRun, QObject* parent)
    : QObject(parent), m_controller(controller), m_startRun(std::move(startRun)) {
    connect(m_controller, &RunController::runStarting, this, &LessonSession::onRunStarting);
    connect(m_controller, &RunController::runEnded, this, &LessonSession::onRunEnded);
}

LessonSession::~LessonSession() {
    stop();
    if (m_prepThread) {
        m_cancelPrep = true;
        m_prepThread->wait();
    }
}

void LessonSession::start(const Lesson& lesson, int64_t seed, bool stepMode, const std::string& resumeAt) {
    stop();
    ++m_generation;
    m_lesson = lesson;
    m_engine = std::make_unique<LessonEngine>(lesson);
    m_seed = seed;
    m_stepMode = stepMode;
    m_resumeAt = resumeAt;
    m_lastCue.clear();
    m_rewardModels.clear();
    m_runIndex = -1;
    m_active = true;
    setWaiting(false, After::Nothing);
    Q_EMIT started(QString::fromStdString(lesson.title), QString::fromStdString(lesson.summary), seed);
    startNext();
}

void LessonSession::setWaiting(bool waiting, After after) {
    m_after = after;
    if (m_waiting == waiting) return;
    m_waiting = waiting;
    Q_EMIT waitingChanged(waiting);
}

void LessonSession::continueLesson() {
    if (!m_active || !m_waiting) return;
    const After after = m_after;
    setWaiting(false, After::Nothing);
    switch (after) {
    case After::Resume:
        if (m_runActive) m_controller->resume();
        break;
    case After::Launch: launch(); break;
    case After::Train: {
        const LessonRun& run = m_lesson->runs[static_cast<size_t>(m_runIndex)];
        startTraining(run, m_rewardModels.count(run.id) ? m_rewardModels[run.id] : std::string(), m_pendingPairs);
        break;
    }
    case After::NextRun: startNext(); break;
    case After::Nothing: break;
    }
}

void LessonSession::answer(const QString& cueId, const QString& choice) {
    if (!m_engine) return;
    m_engine->answer(cueId.toStdString(), choice.toStdString());
    if (m_answerContinues && m_waiting) continueLesson();
}

void LessonSession::stop() {
    if (!m_active) return;
    m_active = false;
    m_cancelPrep = true;
    setWaiting(false, After::Nothing);
    if (m_runActive) m_controller->stop();
}

LessonState LessonSession::state() const {
    LessonState s;
    if (m_lesson) s.lesson = m_lesson->id;
    s.seed = m_seed;
    s.stepMode = m_stepMode;
    s.reachedCue = m_lastCue;
    return s;
}

bool LessonSession::show(const std::vector<LessonEvent>& events) {
    using K = LessonEvent::Kind;
    bool pauseForCue = false, pauseForQuestion = false;
    for (const LessonEvent& e : events) {
        // A cue firing (not a reveal or a miss at a run's end) is how far the lesson got.
        const bool fired = !e.cue.empty() && (e.kind == K::Narration || e.kind == K::Question || e.kind == K::Instead);
        if (!fired) {
            pauseForCue |= m_stepMode && e.kind == K::Reveal && m_resumeAt.empty();
            continue;
        }
        m_lastCue = e.cue;
        if (!m_resumeAt.empty()) {
            // Opening a saved state: no pauses until the cue it was saved at.
            if (e.cue == m_resumeAt) {
                pauseForCue = true;
                m_resumeAt.clear();
            }
            continue;
        }
        // Step mode pauses at every cue; a cue that asks to pauses in either
        // mode, and so does a question (the prediction comes before the run answers it).
        if (e.kind == K::Question) pauseForQuestion = true;
        else pauseForCue |= m_stepMode || e.pause;
    }
    if (!events.empty()) Q_EMIT eventsReady(QVector<LessonEvent>(events.begin(), events.end()));
    // Out of step mode, a pause only for a question ends with the answer.
    m_answerContinues = pauseForQuestion && !pauseForCue && !m_stepMode;
    return pauseForCue || pauseForQuestion;
}

void LessonSession::startNext() {
    if (!m_active) return;
    ++m_runIndex;
    if (m_runIndex >= static_cast<int>(m_lesson->runs.size())) return finishLesson();
    const LessonRun& run = m_lesson->runs[static_cast<size_t>(m_runIndex)];
    Q_EMIT runBegins(m_runIndex, static_cast<int>(m_lesson->runs.size()), QString::fromStdString(run.title));
    if (show(m_engine->startRun(run.id))) return setWaiting(true, After::Launch);
    launch();
}

void LessonSession::launch() {
    if (!m_active) return;
    const LessonRun& run = m_lesson->runs[static_cast<size_t>(m_runIndex)];
    if (run.kind == LessonRunKind::BestOfN || run.prepare.rewardModelPairs > 0 || run.prepare.offlinePairs > 0) {
        prepare(run);
        return;
    }
    startTraining(run, {}, {});
}

void LessonSession::prepare(const LessonRun& run) {
    if (m_prepThread) {  // a stopped lesson's preparation is still finishing: refuse rather than queue
        return end(tr("The previous lesson's preparation is still finishing; start again in a moment."));
    }
    QString what;
    if (run.kind == LessonRunKind::BestOfN) {
        what = tr("Best-of-n: sampling %1 responses to each of %2 prompts from the starter and scoring them...")
                   .arg(run.bestOfN.samples)
                   .arg(run.bestOfN.prompts);
    } else if (run.prepare.rewardModelPairs > 0) {
        what = tr("Training the reward model of run \u201c%1\u201d on %2 task pairs...")
                   .arg(QString::fromStdString(run.title))
                   .arg(run.prepare.rewardModelPairs);
    } else {
        what = tr("Sampling %1 task pairs from the starter for run \u201c%2\u201d...")
                   .arg(run.prepare.offlinePairs)
                   .arg(QString::fromStdString(run.title));
    }
    Q_EMIT preparing(what);
    auto prepared = std::make_shared<Prepared>();
    const std::string starter = m_controller->starterModelPath().toStdString();
    const std::string dir = m_scratch.path().toStdString();
    const uint64_t seed = static_cast<uint64_t>(m_seed);
    std::string rewardModel;
    if (run.kind == LessonRunKind::BestOfN) {
        const auto it = m_rewardModels.find(run.bestOfN.rewardModelOf);
        if (it == m_rewardModels.end())
            return end(tr("Run \u201c%1\u201d needs the reward model of run %2, which was not prepared.")
                           .arg(QString::fromStdString(run.title), QString::fromStdString(run.bestOfN.rewardModelOf)));
        rewardModel = it->second;
    }
    m_cancelPrep = false;
    const LessonRun runCopy = run;
    std::atomic_bool* cancel = &m_cancelPrep;
    m_prepThread = QThread::create([prepared, runCopy, starter, dir, seed, rewardModel, cancel] {
        try {
            if (runCopy.kind == LessonRunKind::BestOfN) {
                prepared->bestOfN = lessonBestOfN(runCopy, starter, rewardModel, seed);
                return;
            }
            if (runCopy.prepare.rewardModelPairs > 0)
                prepared->rewardModel = prepareLessonRewardModel(runCopy, starter, seed, dir, cancel);
            if (runCopy.prepare.offlinePairs > 0 && !cancel->load())
                prepared->pairs = prepareLessonOfflinePairs(runCopy, starter, seed, dir);
        } catch (const std::exception& e) {
            prepared->error = e.what();
        }
    });
    const uint64_t generation = m_generation;
    connect(m_prepThread, &QThread::finished, this, [this, prepared, generation] {
        m_prepThread->deleteLater();
        m_prepThread = nullptr;
        Q_EMIT preparing({});
        if (generation == m_generation) onPrepared(*prepared);
    });
    m_prepThread->start();
}

void LessonSession::onPrepared(const Prepared& prepared) {
    if (!m_active) return;
    const LessonRun& run = m_lesson->runs[static_cast<size_t>(m_runIndex)];
    if (!prepared.error.empty()) {
        return end(tr("Preparing run \u201c%1\u201d failed: %2")
                       .arg(QString::fromStdString(run.title), QString::fromStdString(prepared.error)));
    }
    if (prepared.bestOfN) {
        bool pause = false;
        for (const BestOfNPoint& row : prepared.bestOfN->rows) pause |= show(m_engine->observe(bestOfNLessonSamples(row)));
        Q_EMIT bestOfNReady(*prepared.bestOfN);
        pause |= show(m_engine->endRun());
        if (pause) return setWaiting(true, After::NextRun);
        return startNext();
    }
    if (prepared.rewardModel) {
        if (!prepared.rewardModel->report.completed) return end(tr("The reward model's training was cancelled."));
        const RewardModelReport& r = prepared.rewardModel->report;
        m_rewardModels[run.id] = prepared.rewardModel->path;
        LessonEvent note;
        note.run = run.id;
        note.text = tr("Reward model for run \u201c%1\u201d: trained on %2 task pairs; held-out accuracy %3 on %4 pairs "
                       "of another seed (training accuracy %5), %6 s.")
                        .arg(QString::fromStdString(run.title))
                        .arg(r.trainPairs)
                        .arg(r.heldOutAccuracy, 0, 'f', 3)
                        .arg(r.heldOutPairs)
                        .arg(r.trainAccuracy, 0, 'f', 3)
                        .arg(r.seconds, 0, 'f', 0)
                        .toStdString();
        Q_EMIT eventsReady({note});
        if (show(m_engine->observe(rewardModelLessonSamples(r)))) {
            m_pendingPairs = prepared.pairs;
            return setWaiting(true, After::Train);
        }
    }
    startTraining(run, m_rewardModels.count(run.id) ? m_rewardModels[run.id] : std::string(), prepared.pairs);
}

void LessonSession::startTraining(const LessonRun& run, const std::string& rewardModel, const std::string& pairs) {
    RunConfig config = lessonRunConfig(*m_lesson, run, m_seed);
    if (!rewardModel.empty()) config.rewardModel = rewardModel;
    if (!pairs.empty()) config.pairs = pairs;
    const std::vector<std::string> errors = validateRunConfig(config);
    if (!errors.empty()) {
        return end(QString::fromStdString(m_lesson->file + ": run " + run.id + ": " + errors.front()));
    }
    m_launching = true;
    const bool ok = m_startRun(config);
    m_launching = false;
    if (!ok) {
        return end(tr("Run \u201c%1\u201d could not start (the window says why); the lesson stops here.")
                       .arg(QString::fromStdString(run.title)));
    }
}

void LessonSession::onRunStarting(TrainingWorker* worker) {
    if (!m_launching) return;
    m_runActive = true;
    // Queued (the worker lives on the training thread), in the order it emits.
    connect(worker, &TrainingWorker::metricsReady, this, &LessonSession::onMetrics);
}

void LessonSession::onMetrics(const QVector<MetricSample>& samples) {
    if (!m_active || !m_runActive) return;
    if (show(m_engine->observe(std::vector<MetricSample>(samples.begin(), samples.end())))) {
        m_controller->pause();  // takes effect within a step
        setWaiting(true, After::Resume);
    }
}

void LessonSession::onRunEnded(qint64, RunState state) {
    if (!m_runActive) return;
    m_runActive = false;
    if (!m_active) return;
    const LessonRun& run = m_lesson->runs[static_cast<size_t>(m_runIndex)];
    if (state != RunState::Finished) {
        return end(tr("Run \u201c%1\u201d ended before its last step (%2); the lesson stops here. Replay it to start "
                      "again.")
                       .arg(QString::fromStdString(run.title), toDisplayString(state)));
    }
    const bool pause = show(m_engine->endRun());
    // Paused at a cue when the run ended, or an end cue pauses: Continue goes to the next run.
    if (pause || m_waiting) return setWaiting(true, After::NextRun);
    startNext();
}

void LessonSession::finishLesson() {
    show(m_engine->finish());
    m_active = false;
    m_lastCue.clear();  // a saved finished lesson opens at its start
    const std::vector<LessonCheckResult> checks = m_engine->checkResults();
    Q_EMIT completed(QVector<LessonCheckResult>(checks.begin(), checks.end()));
}

void LessonSession::end(const QString& reason) {
    const bool wasActive = m_active;
    stop();
    if (wasActive) Q_EMIT stopped(reason);
}

}  // namespace preflab
