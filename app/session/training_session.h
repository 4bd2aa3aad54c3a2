#pragma once
// Owns the training thread of one run: starts the worker on a QThread, passes
// pause/resume/stop to it, and shuts down in order (stop, wait for the worker
// to flush its writes, join). Lives on the thread that created it.
#include "app/session/training_worker.h"

#include <QObject>
#include <QThread>

namespace preflab {

class TrainingSession : public QObject {
    Q_OBJECT
public:
    explicit TrainingSession(SessionSetup setup, QObject* parent = nullptr);
    ~TrainingSession() override;  // stops and joins

    void start();
    void pause();
    void resume();
    void stop();
    // Blocks until the worker thread has ended (after stop() or the end of the run).
    void wait();
    bool isRunning() const { return m_thread.isRunning(); }
    TrainingWorker* worker() const { return m_worker; }

Q_SIGNALS:
    void runCreated(qint64 runId);
    void metricsReady(const QVector<preflab::MetricSample>& samples);
    void pairGenerated(const preflab::PairForJudging& pair);
    void progress(qint64 step, qint64 totalSteps);
    void stateChanged(preflab::RunState state, const QString& message);
    void failed(const QString& message);
    void finished();

private:
    QThread m_thread;
    TrainingWorker* m_worker = nullptr;
};

}  // namespace preflab
