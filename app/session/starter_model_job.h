#pragma once
// Pretrains the built-in starter model on a thread of its own (the GUI's
// first-run path), reporting progress through queued signals; cancel() stops it
// within a step. Create on the UI thread; the destructor cancels and joins.
#include <QObject>
#include <QThread>

#include <atomic>

namespace preflab {

class StarterModelJob : public QObject {
    Q_OBJECT
public:
    StarterModelJob(QString outputPath, qint64 steps = 0, QObject* parent = nullptr);
    ~StarterModelJob() override;

    void start();
    void cancel() { m_cancel = true; }
    const QString& outputPath() const { return m_outputPath; }

Q_SIGNALS:
    void progress(qint64 step, qint64 totalSteps, double loss, double seconds);
    // ok is false when cancelled or failed (message says which and why).
    void finished(bool ok, const QString& message);

private:
    QString m_outputPath;
    qint64 m_steps;
    std::atomic_bool m_cancel{false};
    QThread* m_thread = nullptr;
};

}  // namespace preflab
