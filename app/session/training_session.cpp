#include "app/session/training_session.h"

namespace preflab {

TrainingSession::TrainingSession(SessionSetup setup) {
    registerRunValueMetaTypes();
    m_worker = new TrainingWorker(std::move(setup));
    m_worker->moveToThread(&m_thread);
    QObject::connect(&m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
    // Direct: quit() is thread-safe, and a queued call would sit in the owner's
    // queue while the owner blocks in wait() — the thread would never end.
    QObject::connect(m_worker, &TrainingWorker::finished, &m_thread, &QThread::quit, Qt::DirectConnection);
    m_thread.setObjectName(QStringLiteral("preflab-training"));
}

TrainingSession::~TrainingSession() {
    stop();
    wait();
}

void TrainingSession::start() {
    m_thread.start();
    QMetaObject::invokeMethod(m_worker, &TrainingWorker::start, Qt::QueuedConnection);
}

void TrainingSession::pause() {
    if (m_worker) m_worker->requestPause();
}

void TrainingSession::resume() {
    QMetaObject::invokeMethod(m_worker, &TrainingWorker::resume, Qt::QueuedConnection);
}

void TrainingSession::stop() {
    if (!m_thread.isRunning()) return;
    m_worker->requestStop();
    // A paused worker has no chunk in flight: post one so it sees the flag and finishes.
    QMetaObject::invokeMethod(m_worker, &TrainingWorker::resume, Qt::QueuedConnection);
}

void TrainingSession::wait() {
    m_thread.wait();
}

}  // namespace preflab
