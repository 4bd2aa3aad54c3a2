#include "app/cli/rank_launcher.h"

#include <QCoreApplication>
#include <QProcess>
#include <QThread>
#include <QTimer>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <memory>
#include <vector>


namespace preflab {

int launchRanks(int nproc, const QStringList& runArgs, const RankOptions& options, bool threadsSet) {
    const int port = options.masterPort > 0 ? options.masterPort : freeLoopbackPort();
    if (port <= 0) {
        std::fprintf(stderr, "preflab: found no free port on the loopback interface for the ranks to meet\n");
        return 1;
    }
    // The processes share this machine's cores.
    const int threads = std::max(1, QThread::idealThreadCount() / nproc);

    std::vector<std::unique_ptr<QProcess>> ranks;
    std::vector<qint64> pids;
    std::vector<bool> ended(static_cast<size_t>(nproc), false);  // by this launcher, after the grace period
    int running = nproc, failures = 0, exitCode = 0;
    QTimer deadline;
    deadline.setSingleShot(true);
    QObject::connect(&deadline, &QTimer::timeout, [&] {
        for (size_t r = 0; r < ranks.size(); ++r) {
            if (ranks[r]->state() == QProcess::NotRunning) continue;
            std::fprintf(stderr, "preflab: rank %zu (pid %lld) did not stop on its own; ending it\n", r,
                         static_cast<long long>(pids[r]));
            ended[r] = true;
            ranks[r]->kill();
        }
    });
    for (int r = 0; r < nproc; ++r) {
        auto p = std::make_unique<QProcess>();
        QStringList args = QStringList{"run"} + runArgs;
        args << "--rank" << QString::number(r) << "--world-size" << QString::number(nproc) << "--master-addr"
             << QString::fromStdString(options.masterAddr) << "--master-port" << QString::number(port)
             << "--dist-timeout" << QString::number(options.timeoutSeconds);
        if (!threadsSet) args << "--threads" << QString::number(threads);
        if (r == 0) {
            p->setProcessChannelMode(QProcess::ForwardedChannels);
        } else {
            p->setStandardOutputFile(QProcess::nullDevice());
            p->setProcessChannelMode(QProcess::ForwardedErrorChannel);
        }
        QProcess* raw = p.get();
        QObject::connect(raw, &QProcess::finished, [&, r, raw](int code, QProcess::ExitStatus status) {
            --running;
            const bool failed = status != QProcess::NormalExit || code != 0;
            if (failed) {
                ++failures;
                if (ended[static_cast<size_t>(r)]) {
                    // Said when it was ended.
                } else if (status != QProcess::NormalExit) {
                    std::fprintf(stderr, "preflab: rank %d (pid %lld) was killed by a signal\n", r,
                                 static_cast<long long>(pids[static_cast<size_t>(r)]));
                } else {
                    std::fprintf(stderr, "preflab: rank %d ended with exit code %d\n", r, code);
                }
                if (exitCode == 0) exitCode = status != QProcess::NormalExit ? 1 : code;
            }
            if (running == 0) {
                QCoreApplication::quit();
                return;
            }
            // Without rank 0 the others cannot go on; after another rank's
            // failure they stop at their next exchange, within the timeout.
            if (r == 0 || failed) {
                const int graceMs = r == 0 ? 1000 * std::min(10, options.timeoutSeconds) : 1000 * (options.timeoutSeconds + 10);
                if (!deadline.isActive() || deadline.remainingTime() > graceMs) deadline.start(graceMs);
            }
        });
        p->start(QCoreApplication::applicationFilePath(), args);
        if (!p->waitForStarted()) {
            std::fprintf(stderr, "preflab: could not start rank %d: %s\n", r, qPrintable(p->errorString()));
            for (const auto& q : ranks) q->kill();
            for (const auto& q : ranks) q->waitForFinished();
            return 1;
        }
        pids.push_back(p->processId());
        ranks.push_back(std::move(p));
    }
    // Ctrl-C reaches every process of the terminal's group: rank 0 asks the
    // others to stop after the current step; this launcher waits for them.
    // (Set after the children started: an ignored signal is inherited.)
    std::signal(SIGINT, SIG_IGN);
    QCoreApplication::exec();
    std::signal(SIGINT, SIG_DFL);
    return exitCode;
}

}  // namespace preflab
