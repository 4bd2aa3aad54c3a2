#pragma once
// Drives one run on its own QThread: builds the OnlineLoop, steps it in short
// chunks (re-posting the next chunk as a queued call, so commands are handled
// between chunks), records everything through the StorageWriter and reports
// to the owning thread with batched, queued signals of value types.
// pause()/stop() may be called from any thread; they take effect within a step.
#include "app/session/session_types.h"

#include <QObject>

#include <atomic>
#include <chrono>
#include <memory>

namespace preflab {

class OnlineLoop;
class StorageWriter;
class RunRecorder;

class TrainingWorker : public QObject {
    Q_OBJECT
public:
    explicit TrainingWorker(SessionSetup setup);
    ~TrainingWorker() override;

    void requestPause() { m_pauseRequested = true; }
    void requestStop() { m_cancel = true; }

public Q_SLOTS:
    void start();
    void resume();
    // A write of this run's rows failed (the writer keeps them for retry on
    // resume): pauses the run and reports it.
    void writeFailed(const QString& error);

Q_SIGNALS:
    void runCreated(qint64 runId);
    void metricsReady(const QVector<preflab::MetricSample>& samples);
    // The newest generated pair, at most a few times a second (for watching a run).
    void pairGenerated(const preflab::PairForJudging& pair);
    void progress(qint64 step, qint64 totalSteps);
    // A warning read from the run's metrics (RunWarningMonitor), once per kind;
    // it is stored with the run as well.
    void warningRaised(qint64 step, const QString& kind, const QString& message, const QString& advice);
    void stateChanged(preflab::RunState state, const QString& message);
    void failed(const QString& message);
    void finished();

private:
    void runChunk();
    void finish(RunState state, const QString& message);
    // A halted step or a checkpoint that could not be written: the run pauses
    // (resume goes on), the message is stored with the run and reported.
    void pauseWithError(const std::string& message);
    void flushMetrics(bool force);
    void setState(RunState state, const QString& message = {});

    SessionSetup m_setup;
    int64_t m_runId = 0;
    std::shared_ptr<StorageWriter> m_writer;
    std::unique_ptr<RunRecorder> m_recorder;
    std::unique_ptr<OnlineLoop> m_loop;
    std::atomic_bool m_cancel{false};
    std::atomic_bool m_pauseRequested{false};
    bool m_chunkPosted = false;
    bool m_done = false;
    int64_t m_checkpointFailedAt = -1;  // the step whose checkpoint could not be written
    QString m_checkpointError;
    // Why the run is paused (a halt, a failed write): kept as the run's
    // message when it is then stopped without resuming.
    std::string m_pauseReason;
    RunState m_state = RunState::Starting;
    QVector<MetricSample> m_pendingMetrics;
    std::chrono::steady_clock::time_point m_lastEmit, m_lastPairEmit;
};

}  // namespace preflab
