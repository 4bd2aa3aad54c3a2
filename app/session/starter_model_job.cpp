#include "app/session/starter_model_job.h"

#include "core/task/starter_model.h"

#include <chrono>

namespace preflab {

StarterModelJob::StarterModelJob(QString outputPath, qint64 steps, QObject* parent)
    : QObject(parent), m_outputPath(std::move(outputPath)), m_steps(steps) {}

StarterModelJob::~StarterModelJob() {
    m_cancel = true;
    if (m_thread) {
        m_thread->wait();
        delete m_thread;
    }
}

void StarterModelJob::start() {
    if (m_thread) return;
    m_thread = QThread::create([this] {
        PretrainSpec spec;
        if (m_steps > 0) spec.steps = m_steps;
        auto lastEmit = std::chrono::steady_clock::now() - std::chrono::seconds(1);
        try {
            const PretrainResult r = pretrainStarterModel(
                spec, m_outputPath.toStdString(),
                [&](const PretrainProgress& p) {
                    // At most ~10 updates a second reach the UI thread.
                    const auto now = std::chrono::steady_clock::now();
                    if (now - lastEmit < std::chrono::milliseconds(100) && p.step != p.totalSteps) return;
                    lastEmit = now;
                    Q_EMIT progress(p.step, p.totalSteps, p.loss, p.seconds);
                },
                &m_cancel);
            if (r.completed) {
                Q_EMIT finished(true, QStringLiteral("Starter model ready in %1 s (final loss %2 nats/token).")
                                          .arg(r.seconds, 0, 'f', 0)
                                          .arg(r.finalLoss, 0, 'f', 3));
            } else {
                Q_EMIT finished(false, QStringLiteral("Pretraining was cancelled."));
            }
        } catch (const std::exception& e) {
            Q_EMIT finished(false, QStringLiteral("Pretraining failed: %1").arg(QString::fromUtf8(e.what())));
        }
    });
    m_thread->setObjectName(QStringLiteral("preflab-pretrain"));
    m_thread->start();
}

}  // namespace preflab
