#include "bench/soak.h"

#include "storage/data_paths.h"
#include "storage/database.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QTemporaryDir>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <signal.h>
#include <unistd.h>

namespace preflab::bench {

LineFit fitLine(const std::vector<double>& x, const std::vector<double>& y) {
    LineFit f;
    const size_t n = std::min(x.size(), y.size());
    f.points = static_cast<int>(n);
    if (n < 2) return f;
    double mx = 0, my = 0;
    for (size_t i = 0; i < n; ++i) mx += x[i], my += y[i];
    mx /= n, my /= n;
    double sxx = 0, sxy = 0;
    for (size_t i = 0; i < n; ++i) sxx += (x[i] - mx) * (x[i] - mx), sxy += (x[i] - mx) * (y[i] - my);
    if (sxx <= 0) return f;
    f.slope = sxy / sxx;
    f.intercept = my - f.slope * mx;
    if (n > 2) {
        double sse = 0;
        for (size_t i = 0; i < n; ++i) {
            const double r = y[i] - f.intercept - f.slope * x[i];
            sse += r * r;
        }
        f.slopeStdError = std::sqrt(sse / (n - 2) / sxx);
    }
    return f;
}

namespace {

struct Sample {
    double minutes = 0;
    int64_t step = 0;
    double rssMb = 0, databaseMb = 0, checkpointsMb = 0;
    double stepSeconds = 0;      // mean over the steps since the previous sample
    double tokensPerStep = 0;    // response tokens generated per step, same steps
    double msPerToken = 0;       // step time per generated token: the work-normalised speed
    double cpuSeconds = 0;       // the child's CPU time (user + system) so far
    double cpuPerStep = 0;       // CPU seconds per step since the previous sample: less sensitive than
                                 // wall time to other work on the machine
};

// The child's resident set (VmRSS), in MiB; 0 once it is gone.
double residentMb(qint64 pid) {
    QFile f(QString("/proc/%1/status").arg(pid));
    if (!f.open(QIODevice::ReadOnly)) return 0;
    for (const QByteArray& line : f.readAll().split('\n')) {
        if (line.startsWith("VmRSS:")) return line.mid(6).trimmed().split(' ').first().toDouble() / 1024.0;
    }
    return 0;
}

// The child's user + system CPU time in seconds (/proc/PID/stat fields 14, 15).
double cpuSeconds(qint64 pid) {
    QFile f(QString("/proc/%1/stat").arg(pid));
    if (!f.open(QIODevice::ReadOnly)) return 0;
    const QByteArray stat = f.readAll();
    // Fields after the command name, which is in parentheses and may hold spaces.
    const QList<QByteArray> fields = stat.mid(stat.lastIndexOf(')') + 2).split(' ');
    if (fields.size() < 13) return 0;
    return (fields[11].toDouble() + fields[12].toDouble()) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

qint64 folderBytes(const QString& folder) {
    qint64 total = 0;
    for (const QFileInfo& fi : QDir(folder).entryInfoList(QDir::Files | QDir::NoDotAndDotDot | QDir::Dirs)) {
        total += fi.isDir() ? folderBytes(fi.absoluteFilePath()) : fi.size();
    }
    return total;
}

// Mean step time and generated tokens per step over steps (from, to], read
// from the run's own rows (a second, read-only connection; WAL lets it read
// while the run writes).
void readSteps(const std::string& db, int64_t from, Sample& s) {
    auto conn = Database::open(db, Database::Mode::OpenExisting);
    SqlConnection& c = conn->connection();
    SqlStatement q(c, "SELECT count(*), coalesce(avg(value), 0), coalesce(max(step), ?1) FROM metrics "
                         "WHERE run_id = 1 AND name = 'time/step_seconds' AND step > ?1");
    q.bind(1, from);
    q.step();
    const int64_t steps = q.int64(0);
    s.stepSeconds = q.real(1);
    s.step = q.int64(2);
    if (steps == 0) return;
    SqlStatement t(c, "SELECT coalesce(sum(token_count), 0) FROM responses WHERE run_id = 1 AND step > ?1 AND step <= ?2");
    t.bind(1, from).bind(2, s.step);
    t.step();
    s.tokensPerStep = static_cast<double>(t.int64(0)) / steps;
    if (s.tokensPerStep > 0) s.msPerToken = 1000.0 * s.stepSeconds / s.tokensPerStep;
}

void printSlope(const char* what, const char* unit, const LineFit& f, double mean) {
    std::printf("  %-26s %+9.4f %s/hour (± %.4f, 1 s.e.)   mean %.4f %s   %+.2f %% of the mean per hour\n", what,
                60 * f.slope, unit, 60 * f.slopeStdError, mean, unit, mean != 0 ? 100 * 60 * f.slope / mean : 0.0);
}

double meanOf(const std::vector<double>& v) {
    double s = 0;
    for (double x : v) s += x;
    return v.empty() ? 0 : s / v.size();
}

}  // namespace

int runSoak(const SoakOptions& o) {
    QTemporaryDir temporary;
    const QString folder = o.folder.empty() ? temporary.path() : QString::fromStdString(o.folder);
    if (!QDir().mkpath(folder + "/data")) {
        std::fprintf(stderr, "preflab-bench: cannot create %s/data\n", qPrintable(folder));
        return 1;
    }
    // Checkpoints go into the soak's own folder; the starter model comes from
    // (and, on first use, is pretrained into) the usual cache.
    const QString models = QString::fromStdString(o.dataDir.empty() ? defaultDataDir() : o.dataDir) + "/models";
    QDir().mkpath(models);
    QFile::link(models, folder + "/data/models");
    const std::string db = (folder + "/soak.db").toStdString();
    for (const char* suffix : {"", "-wal", "-shm"}) QFile::remove(QString::fromStdString(db) + suffix);  // run 1 is ours

    QStringList args{"run", "--db", QString::fromStdString(db), "--data-dir", folder + "/data", "--judge", "task",
                     "--steps", "10000000", "--quiet"};
    for (const std::string& a : o.runArgs) args << QString::fromStdString(a);
    QProcess child;
    child.setProcessChannelMode(QProcess::ForwardedChannels);
    child.start(QString::fromStdString(o.preflab), args);
    if (!child.waitForStarted(30000)) {
        std::fprintf(stderr, "preflab-bench: cannot start %s: %s\n", o.preflab.c_str(), qPrintable(child.errorString()));
        return 1;
    }
    std::printf("soak: %s %s\n", o.preflab.c_str(), qPrintable(args.join(' ')));
    std::printf("%8s %8s %9s %9s %11s %9s %9s %11s %9s\n", "minutes", "step", "rss_MiB", "db_MiB", "ckpt_MiB", "step_s",
                "cpu_s", "tok/step", "ms/tok");
    std::fflush(stdout);

    std::vector<Sample> samples;
    QElapsedTimer clock;
    clock.start();
    QElapsedTimer trainingClock;  // starts at the first step (after any pretraining and loading)
    int64_t lastStep = 0;
    const double totalMs = o.minutes * 60000.0;
    constexpr double kStartupLimitMs = 30 * 60000.0;  // pretraining the starter takes minutes, not half an hour
    while (child.state() == QProcess::Running) {
        if (trainingClock.isValid() && trainingClock.elapsed() >= totalMs) break;
        if (!trainingClock.isValid() && clock.elapsed() >= kStartupLimitMs) break;
        if (child.waitForFinished(static_cast<int>(o.intervalSeconds * 1000))) break;  // ended on its own
        if (!QFile::exists(QString::fromStdString(db))) continue;
        Sample s;
        try {
            readSteps(db, lastStep, s);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "soak: reading %s: %s\n", db.c_str(), e.what());
            continue;
        }
        if (s.step == lastStep) continue;  // not training yet (pretraining, loading) or stalled
        s.cpuSeconds = cpuSeconds(child.processId());
        const bool first = !trainingClock.isValid();
        if (first) trainingClock.start();
        if (!first) s.cpuPerStep = (s.cpuSeconds - samples.back().cpuSeconds) / static_cast<double>(s.step - lastStep);
        lastStep = s.step;
        s.minutes = trainingClock.elapsed() / 60000.0;
        s.rssMb = residentMb(child.processId());
        s.databaseMb = (QFileInfo(QString::fromStdString(db)).size() + QFileInfo(QString::fromStdString(db) + "-wal").size()) /
                       1048576.0;
        s.checkpointsMb = folderBytes(folder + "/data/runs") / 1048576.0;
        samples.push_back(s);
        std::printf("%8.1f %8lld %9.1f %9.2f %11.1f %9.4f %9.4f %11.1f %9.4f\n", s.minutes, static_cast<long long>(s.step),
                    s.rssMb, s.databaseMb, s.checkpointsMb, s.stepSeconds, s.cpuPerStep, s.tokensPerStep, s.msPerToken);
        std::fflush(stdout);
    }
    const bool endedEarly = child.state() != QProcess::Running;
    if (!endedEarly) {
        ::kill(static_cast<pid_t>(child.processId()), SIGINT);  // the CLI's Ctrl+C: checkpoint, then exit
        if (!child.waitForFinished(120000)) child.kill(), child.waitForFinished();
    }
    if (endedEarly || samples.size() < 3) {
        std::fprintf(stderr, "preflab-bench: the run ended after %zu samples (exit %d)\n", samples.size(), child.exitCode());
        return 1;
    }

    const double warmup = std::min(o.warmupMinutes, o.minutes / 4);
    std::vector<double> t, rss, dbMb, stepS, cpuS, tokens, tTok, msTok;
    for (const Sample& s : samples) {
        if (s.minutes < warmup || s.minutes == 0) continue;
        t.push_back(s.minutes), rss.push_back(s.rssMb), dbMb.push_back(s.databaseMb), stepS.push_back(s.stepSeconds),
            cpuS.push_back(s.cpuPerStep), tokens.push_back(s.tokensPerStep);
        if (s.msPerToken > 0) tTok.push_back(s.minutes), msTok.push_back(s.msPerToken);  // steps with counted tokens only
    }
    const LineFit fr = fitLine(t, rss), fd = fitLine(t, dbMb), fs = fitLine(t, stepS), fc = fitLine(t, cpuS),
                  fm = fitLine(tTok, msTok), ft = fitLine(t, tokens);
    const Sample& last = samples.back();
    std::printf("\nsoak: %.1f minutes of training, %lld steps; slopes by least squares over %d samples after a %.0f-minute "
                "warm-up:\n",
                last.minutes, static_cast<long long>(last.step), fr.points, warmup);
    printSlope("resident memory", "MiB", fr, meanOf(rss));
    printSlope("step time", "s", fs, meanOf(stepS));
    printSlope("CPU time per step", "s", fc, meanOf(cpuS));
    printSlope("tokens generated per step", "tok", ft, meanOf(tokens));
    printSlope("step time per token", "ms", fm, meanOf(msTok));
    printSlope("database size", "MiB", fd, meanOf(dbMb));
    std::printf("  checkpoints on disk at the end: %.1f MiB\n", last.checkpointsMb);
    if (o.json) {
        std::printf("{\"soak_minutes\": %.2f, \"steps\": %lld, \"samples\": %d, \"warmup_minutes\": %.1f, "
                    "\"rss_mib_mean\": %.3f, \"rss_mib_per_hour\": %.4f, \"step_s_mean\": %.5f, \"step_s_per_hour\": %.5f, "
                    "\"cpu_s_per_step_mean\": %.5f, \"cpu_s_per_step_per_hour\": %.5f, "
                    "\"tokens_per_step_mean\": %.2f, \"tokens_per_step_per_hour\": %.3f, \"ms_per_token_mean\": %.5f, "
                    "\"ms_per_token_per_hour\": %.5f, \"db_mib_per_hour\": %.4f, \"checkpoints_mib\": %.1f}\n",
                    last.minutes, static_cast<long long>(last.step), fr.points, warmup, meanOf(rss), 60 * fr.slope,
                    meanOf(stepS), 60 * fs.slope, meanOf(cpuS), 60 * fc.slope, meanOf(tokens), 60 * ft.slope, meanOf(msTok), 60 * fm.slope,
                    60 * fd.slope, last.checkpointsMb);
    }
    return 0;
}

}  // namespace preflab::bench
