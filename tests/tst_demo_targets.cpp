// The flagship demo meets its targets (issue 13, docs/results.md): the real
// `preflab run --judge task` with every default (300 steps, seed 1), on the
// real starter model (pretrained here on first use, as a new user's first run
// does), read back through `preflab export --metrics`:
//   gold reward rises by >= 1.0 over the starter;
//   exact KL <= 6 nats at the end;
//   untrainable share <= 0.25 over the last 50 steps;
//   the work per step over the last 50 steps <= 1.5x the first 50, read as
//   generated tokens per step (the step-time target without the wall clock:
//   on a shared CI machine other tests' load moves step time by 3x, while
//   the run itself is deterministic; bench/sweep_defaults.sh reports the
//   step-time ratio measured on a quiet machine);
//   held-out preference accuracy >= 0.65 at the end, read as the mean of the
//   last three evaluations (steps 260, 280, 300): one evaluation is a
//   124-pair estimate (standard error ~0.04), and a change in float rounding
//   alone (the same code on one thread or on two) moved the step-300 value
//   between 0.637 and 0.758 while the three-evaluation mean stayed within
//   0.667-0.731 (docs/results.md);
// and no warning (mode collapse, KL runaway, ...) is raised.
// Several minutes on two cores: labelled slow.
#include "storage/database.h"
#include "storage/sql_connection.h"
#include "support/test_main.h"

#include <QFile>
#include <QProcess>
#include <QTemporaryDir>

#include <map>
#include <vector>

namespace {

struct Result {
    int exitCode = -1;
    QString output;
};

Result runPreflab(const QStringList& args) {
    QProcess p;
    p.setProcessChannelMode(QProcess::MergedChannels);
    p.start(QStringLiteral(PREFLAB_CLI), args);
    Result r;
    if (!p.waitForFinished(-1)) return r;  // bounded by the test's own timeout
    r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.output = QString::fromUtf8(p.readAll());
    return r;
}

using Series = std::vector<std::pair<qint64, double>>;  // (step, value) in step order

double at(const Series& s, qint64 step) {
    for (const auto& [k, v] : s) {
        if (k == step) return v;
    }
    return std::nan("");
}

double meanWhere(const Series& s, qint64 from, qint64 to) {  // steps in [from, to]
    double sum = 0;
    int n = 0;
    for (const auto& [k, v] : s) {
        if (k >= from && k <= to) {
            sum += v;
            ++n;
        }
    }
    return n > 0 ? sum / n : std::nan("");
}

// Tokens generated per training step for the steps in [from, to): the policy's
// responses of those steps, both of every pair, summed over their lengths.
double generatedTokensPerStep(const QString& db, qint64 from, qint64 to) {
    auto d = preflab::Database::open(db.toStdString(), preflab::Database::Mode::OpenExisting);
    preflab::SqlStatement q(d->connection(),
                            "SELECT coalesce(sum(token_count), 0) FROM responses WHERE run_id = 1 AND step >= ?1 AND step < ?2");
    q.bind(1, static_cast<int64_t>(from)).bind(2, static_cast<int64_t>(to));
    q.step();
    return static_cast<double>(q.int64(0)) / static_cast<double>(to - from);
}

}  // namespace

class TestDemoTargets : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void defaultDemoMeetsItsTargets() {
        QTemporaryDir dir;
        const QString db = dir.filePath("demo.db"), csv = dir.filePath("demo.csv");
        const QString dataDir = qEnvironmentVariable("PREFLAB_DATA_DIR", dir.filePath("data"));
        const Result run = runPreflab({"run", "--judge", "task", "--db", db, "--data-dir", dataDir});
        QVERIFY2(run.exitCode == 0, qPrintable(run.output.right(3000)));
        const Result exported = runPreflab({"export", "--db", db, "--run", "1", "--metrics", csv});
        QVERIFY2(exported.exitCode == 0, qPrintable(exported.output));

        QFile f(csv);
        QVERIFY(f.open(QIODevice::ReadOnly | QIODevice::Text));
        QCOMPARE(f.readLine().trimmed(), QByteArray("run_id,step,name,value,time_ms"));
        std::map<QString, Series> metrics;
        while (!f.atEnd()) {
            const QList<QByteArray> cols = f.readLine().trimmed().split(',');
            QCOMPARE(cols.size(), 5);
            metrics[QString::fromUtf8(cols[2])].push_back({cols[1].toLongLong(), cols[3].toDouble()});
        }
        const Series& gold = metrics["gold/reward"];
        const Series& steps = metrics["time/step_seconds"];
        QVERIFY(!gold.empty() && !steps.empty());
        const qint64 last = steps.back().first;
        QCOMPARE(last, qint64(300));
        QCOMPARE(gold.back().first, last);  // evaluated at the end

        const double goldGain = gold.back().second - at(gold, 0);
        const double kl = at(metrics["kl/exact"], last);
        const double klCi = at(metrics["kl/exact_ci95"], last);
        const double untrainable = meanWhere(metrics["judge/untrainable_share"], last - 49, last);
        const double timeRatio = meanWhere(steps, last - 49, last) / meanWhere(steps, 1, 50);
        const double tokensFirst = generatedTokensPerStep(db, 0, 50), tokensLast = generatedTokensPerStep(db, last - 50, last);
        const double workRatio = tokensLast / tokensFirst;
        const Series& accuracy = metrics["eval/rewards/accuracies"];
        QVERIFY(accuracy.size() >= 3 && accuracy.back().first == last);
        const double heldOutLast = accuracy.back().second;
        const double heldOut = (accuracy[accuracy.size() - 1].second + accuracy[accuracy.size() - 2].second +
                                accuracy[accuracy.size() - 3].second) / 3.0;
        qInfo("default demo: gold %+.3f (%.3f -> %.3f), exact KL %.3f +/- %.3f, untrainable %.3f, "
              "generated tokens per step %.0f -> %.0f (ratio %.2f; step-time ratio %.2f on this machine's load), "
              "held-out accuracy %.3f over the last three evaluations (%.3f at the end) on %.0f pairs",
              goldGain, at(gold, 0), gold.back().second, kl, klCi, untrainable, tokensFirst, tokensLast, workRatio,
              timeRatio, heldOut, heldOutLast,
              at(metrics["eval/held_out_pairs"], last));
        auto curve = [&](const char* name) {
            QString out;
            for (const auto& [step, value] : metrics[name]) out += QStringLiteral(" %1:%2").arg(step).arg(value, 0, 'f', 2);
            return out;
        };
        qInfo("gold:%s", qPrintable(curve("gold/reward")));
        qInfo("exact KL:%s", qPrintable(curve("kl/exact")));
        qInfo("held-out accuracy:%s", qPrintable(curve("eval/rewards/accuracies")));
        // The win rate against the reference (judge: the task's true reward), and what it cost per evaluation.
        qInfo("win rate vs reference:%s", qPrintable(curve("eval/win_rate_vs_ref")));
        qInfo("  interval low:%s", qPrintable(curve("eval/win_rate_vs_ref_low")));
        qInfo("  interval high:%s", qPrintable(curve("eval/win_rate_vs_ref_high")));
        qInfo("  seconds per evaluation:%s", qPrintable(curve("time/win_rate_seconds")));
        const Series& winRate = metrics["eval/win_rate_vs_ref"];
        QVERIFY(!winRate.empty() && winRate.back().first == last);
        QVERIFY2(goldGain >= 1.0, "gold reward rose by less than 1.0");
        QVERIFY2(kl <= 6.0, "exact KL above 6 nats");
        QVERIFY2(untrainable <= 0.25, "untrainable share above 0.25 over the last 50 steps");
        QVERIFY2(tokensFirst > 0, "no generated responses stored for the first 50 steps");
        QVERIFY2(workRatio <= 1.5, "the last 50 steps generated more than 1.5x the tokens of the first 50");
        QVERIFY2(heldOut >= 0.65, "held-out preference accuracy below 0.65 over the last three evaluations");
        QVERIFY2(!run.output.contains(QStringLiteral("warning at step")), qPrintable(run.output.right(3000)));
    }
};

PREFLAB_TEST_MAIN(TestDemoTargets)
#include "tst_demo_targets.moc"
