#pragma once
// Owns the training thread of one run: starts the worker on a QThread, passes
// pause/resume/stop to it, and shuts down in order (stop, wait for the worker
// to flush its writes, join). Lives on the thread that created it. The run's
// signals are the worker's own (TrainingWorker): connect to worker() before
// start(); connections made with a receiver on this thread are queued.
#include "app/session/training_worker.h"

#include <QThread>

namespace preflab {

class TrainingSession {
public:
    explicit TrainingSession(SessionSetup setup);
    ~TrainingSession();  // stops and joins
    TrainingSession(const TrainingSession&) = delete;
    TrainingSession& operator=(const TrainingSession&) = delete;

    void start();
    void pause();
    void resume();
    void stop();
    // Blocks until the worker thread has ended (after stop() or the end of the run).
    void wait();
    bool isRunning() const { return m_thread.isRunning(); }
    // The worker, for connecting to its signals; it lives on the training thread.
    TrainingWorker* worker() const { return m_worker; }

private:
    QThread m_thread;
    TrainingWorker* m_worker = nullptr;
};

}  // namespace preflab
