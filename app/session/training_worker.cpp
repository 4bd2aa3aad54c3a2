#include "app/session/training_worker.h"

#include "app/session/offline_pairs.h"
#include "app/session/run_recorder.h"
#include "core/judges/make_judge.h"
#include "core/values/checkpoint_paths.h"
#include "core/loop/online_loop.h"
#include "core/runtime/writable_folder.h"
#include "preflab_version.h"
#include "storage/database.h"
#include "storage/pair_files.h"
#include "storage/preference_store.h"
#include "storage/run_store.h"
#include "storage/storage_writer.h"

#include <QMetaObject>
#include <QTimer>

#include <filesystem>


namespace preflab {
namespace {

constexpr auto kChunk = std::chrono::milliseconds(50);
constexpr auto kMetricInterval = std::chrono::milliseconds(100);
constexpr int kLabelPollMs = 25;

}  // namespace

TrainingWorker::TrainingWorker(SessionSetup setup) : m_setup(std::move(setup)) {}

TrainingWorker::~TrainingWorker() = default;

void TrainingWorker::setState(RunState state, const QString& message) {
    m_state = state;
    Q_EMIT stateChanged(state, message);
}

void TrainingWorker::start() {
    setState(RunState::Starting);
    try {
        LoopSetup loopSetup;
        std::string databaseId;
        std::vector<std::pair<int64_t, std::string>> earlierCheckpoints;  // a resumed run's, oldest first
        loopSetup.config = m_setup.config;
        loopSetup.modelPath = m_setup.modelPath;
        loopSetup.ranks = m_setup.ranks;
        RunRow newRun;
        {
            auto db = Database::open(m_setup.databasePath);
            if (!m_setup.config.pairs.empty()) loopSetup.offlinePairs = loadOfflinePairs(m_setup.config.pairs, *db, m_setup.config.labelPolicy);
            if (!m_setup.config.ratings.empty()) loopSetup.ratedResponses = loadRatedResponses(m_setup.config.ratings, *db);
            databaseId = db->identity();
            // Checkpoints go under the data folder: find out now, before a
            // step is spent, whether they can be written there.
            requireWritableFolder(std::filesystem::path(runCheckpointDir(m_setup.dataDir, databaseId, 0)).parent_path().string(),
                                  "this run's checkpoints go there: make the data folder writable or choose another "
                                  "(--data-dir, or PREFLAB_DATA_DIR)");
            RunStore runs(*db);
            if (m_setup.resumeRunId > 0) {
                const auto run = runs.find(m_setup.resumeRunId);
                if (!run) throw std::runtime_error("run " + std::to_string(m_setup.resumeRunId) + " is not in " + m_setup.databasePath);
                m_runId = run->id;
                if (const auto ck = runs.latestCheckpoint(m_runId)) loopSetup.resumeFrom = ck->path;
                for (const CheckpointRow& c : runs.checkpoints(m_runId)) earlierCheckpoints.emplace_back(c.step, c.path);
                loopSetup.firstPairIndex = runs.nextPairIndex(m_runId);
                if (judgeNeedsPerson(m_setup.config.judge)) {
                    // The labels it held back before, by the same rule (held_out_preferences.h).
                    PreferenceStore(*db).forEachUntrainedHumanPreference(m_runId, [&](int64_t index, const LabeledPair& p) {
                        if (!heldBackPair(static_cast<uint64_t>(m_setup.config.seed), index, m_setup.config.heldOutShare)) return;
                        const bool aWins = p.choice == "a";
                        loopSetup.heldBackPairs.push_back({p.prompt, aWins ? p.responseA : p.responseB,
                                                           aWins ? p.responseB : p.responseA});
                    });
                }
            } else {
                newRun.name = m_setup.config.name;
                newRun.createdMs = nowMs();
                newRun.configJson = runConfigToJson(m_setup.config);
                newRun.seed = m_setup.config.seed;
                newRun.codeVersion = PREFLAB_CODE_VERSION;
                newRun.model = m_setup.modelPath;
                newRun.status = "running";
            }
        }  // the reading connection (which created or migrated the database) closes here
        // Every row of the run, its own first, goes through one writer (the
        // workbench's, or the run's own on the command line).
        m_writer = m_setup.writer;
        if (!m_writer) {
            m_writer = std::make_shared<StorageWriter>(m_setup.databasePath, [this](const std::string& err) {
                // Called on the writer's thread: hand the message to ours.
                QMetaObject::invokeMethod(this, [this, err] { writeFailed(QString::fromStdString(err)); },
                                          Qt::QueuedConnection);
            });
        }
        if (m_setup.resumeRunId <= 0) m_runId = m_writer->createRun(newRun);
        loopSetup.checkpointDir = runCheckpointDir(m_setup.dataDir, databaseId, m_runId);
        Q_EMIT runCreated(m_runId);

        m_recorder = std::make_unique<RunRecorder>(m_runId, *m_writer, m_setup.config.keepCheckpoints,
                                                   std::move(earlierCheckpoints));
        m_recorder->onMetrics = [this](const std::vector<MetricSample>& samples) {
            for (const MetricSample& s : samples) m_pendingMetrics.push_back(s);
        };
        m_recorder->onWarning = [this](const RunWarning& w) {
            Q_EMIT warningRaised(w.step, QString::fromStdString(w.kind), QString::fromStdString(w.message),
                                 QString::fromStdString(w.advice));
        };
        m_recorder->onPairs = [this](const std::vector<PairRecord>& pairs) {
            const auto now = std::chrono::steady_clock::now();
            if (pairs.empty() || now - m_lastPairEmit < std::chrono::milliseconds(400)) return;
            m_lastPairEmit = now;
            const PairRecord& p = pairs.back();
            Q_EMIT pairGenerated(PairForJudging{p.pairIndex, p.prompt, p.a.text, p.b.text, p.a.policyLogprob,
                                                p.b.policyLogprob, p.a.refLogprob, p.b.refLogprob, p.generatedAtStep,
                                                p.a.goldReward, p.b.goldReward});
        };
        loopSetup.cancel = &m_cancel;
        loopSetup.loadProgress = [this](int64_t done, int64_t total) {
            // About twenty updates per load, as plain values through a queued signal.
            if (done == total || done % std::max<int64_t>(1, total / 20) == 0) {
                Q_EMIT stateChanged(RunState::Starting, QStringLiteral("loading the model: %1 of %2 tensors").arg(done).arg(total));
            }
        };
        m_loop = std::make_unique<OnlineLoop>(loopSetup, makeJudge(m_setup.config, m_setup.humanQueue), m_recorder.get());
        m_writer->enqueue(RunStatusUpdate{m_runId, "running", m_loop->currentStep(), {}});
    } catch (const std::exception& e) {
        if (m_cancel) finish(RunState::Stopped, QStringLiteral("stopped while starting"));
        else finish(RunState::Failed, QString::fromStdString(e.what()));
        return;
    }
    m_lastEmit = std::chrono::steady_clock::now();
    setState(RunState::Running);
    Q_EMIT progress(m_loop->currentStep(), m_loop->totalSteps());
    runChunk();
}

void TrainingWorker::writeFailed(const QString& error) {
    m_pauseRequested = true;
    Q_EMIT failed(QStringLiteral("Saving to the database failed: %1. The run is paused; nothing stored earlier is lost.")
                      .arg(error));
}

void TrainingWorker::resume() {
    if (m_done || !m_loop) return;
    m_pauseRequested = false;
    // A stop resumes so that the loop sees its cancel flag: the reason stays then.
    if (!m_cancel) m_pauseReason.clear();
    if (m_writer) m_writer->retry();
    m_writer->enqueue(RunStatusUpdate{m_runId, "running", m_loop->currentStep(), {}});
    setState(RunState::Running);
    if (!m_chunkPosted) runChunk();
}

void TrainingWorker::flushMetrics(bool force) {
    const auto now = std::chrono::steady_clock::now();
    if (m_pendingMetrics.isEmpty() || (!force && now - m_lastEmit < kMetricInterval)) return;
    Q_EMIT metricsReady(m_pendingMetrics);
    m_pendingMetrics.clear();
    m_lastEmit = now;
}

void TrainingWorker::runChunk() {
    m_chunkPosted = false;
    if (m_done) return;
    const auto deadline = std::chrono::steady_clock::now() + kChunk;
    StepOutcome outcome = StepOutcome::Trained;
    try {
        do {
            if (m_pauseRequested) break;
            outcome = m_loop->step(m_cancel);
            Q_EMIT progress(m_loop->currentStep(), m_loop->totalSteps());
        } while (outcome == StepOutcome::Trained && std::chrono::steady_clock::now() < deadline);
    } catch (const CheckpointWriteError& e) {
        // The step was applied and stored; only its checkpoint is missing.
        m_checkpointFailedAt = m_loop->currentStep();
        m_checkpointError = QString::fromUtf8(e.what());
        flushMetrics(true);
        pauseWithError(e.what());
        return;
    } catch (const std::exception& e) {
        flushMetrics(true);
        // A stop that cut a wait short (a reward server's reply) ends the run as stopped, not failed.
        if (m_cancel) finish(RunState::Stopped, {});
        else finish(RunState::Failed, QString::fromStdString(e.what()));
        return;
    }
    flushMetrics(outcome != StepOutcome::Trained);
    switch (outcome) {
    case StepOutcome::Finished: finish(RunState::Finished, {}); return;
    case StepOutcome::Cancelled: finish(RunState::Stopped, {}); return;
    case StepOutcome::Halted: pauseWithError(m_loop->lastError()); return;
    case StepOutcome::WaitingForLabels:
        if (m_state != RunState::WaitingForLabels) setState(RunState::WaitingForLabels);
        m_chunkPosted = true;
        QTimer::singleShot(kLabelPollMs, this, [this] { runChunk(); });
        return;
    case StepOutcome::Trained: break;
    }
    // With other ranks, a stop request goes out with the next step's
    // gradients and the loop returns Cancelled on every rank together.
    if (m_cancel && !m_loop->stopsWithOtherRanks()) {
        finish(RunState::Stopped, {});
        return;
    }
    if (m_pauseRequested) {
        m_writer->enqueue(RunStatusUpdate{m_runId, "paused", m_loop->currentStep(), {}});
        setState(RunState::Paused);
        return;
    }
    if (m_state != RunState::Running) setState(RunState::Running);
    m_chunkPosted = true;
    QMetaObject::invokeMethod(this, [this] { runChunk(); }, Qt::QueuedConnection);
}

void TrainingWorker::pauseWithError(const std::string& message) {
    m_pauseRequested = true;
    m_pauseReason = message;
    m_writer->enqueue(RunStatusUpdate{m_runId, "paused", m_loop->currentStep(), message});
    setState(RunState::Paused, QString::fromStdString(message));
    Q_EMIT failed(QString::fromStdString(message));
}

void TrainingWorker::finish(RunState state, const QString& message) {
    m_done = true;
    QString error = message;
    if (m_loop) m_loop->collectJudgements();
    // Keep the work done since the last checkpoint; not again for a step whose
    // checkpoint just failed (that error stands).
    if (m_loop && state == RunState::Stopped && m_loop->currentStep() == m_checkpointFailedAt) {
        error = m_checkpointError;
    } else if (m_loop && state == RunState::Stopped) {
        try {
            m_loop->checkpoint();
        } catch (const std::exception& e) {
            error = QString::fromStdString(e.what());
        }
    }
    if (m_writer) {
        const char* status = state == RunState::Finished ? "finished" : state == RunState::Stopped ? "stopped" : "failed";
        // A run stopped while paused by an error keeps that error as its message.
        const std::string stored = error.isEmpty() ? m_pauseReason : error.toStdString();
        m_writer->enqueue(RunStatusUpdate{m_runId, status, m_loop ? m_loop->currentStep() : 0, stored});
        m_writer->flush();
    }
    flushMetrics(true);
    // (A checkpoint error was reported when it happened: not twice.)
    if (state == RunState::Failed || (!error.isEmpty() && error != m_checkpointError)) Q_EMIT failed(error);
    setState(state, error);
    Q_EMIT finished();
}

}  // namespace preflab
