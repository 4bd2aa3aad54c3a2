// The run warnings on synthetic metric streams: each kind fires on the stream
// that shows it, at the step where the data first shows it, once; healthy
// streams (and the noise a healthy run has) raise nothing.
#include "core/values/run_warnings.h"
#include "support/test_main.h"

#include <cmath>
#include <functional>

using namespace preflab;

namespace {

// A stream: per step, the per-step metrics; every `evalEvery` steps, the
// evaluation's metrics. Returns every warning, in order.
struct Stream {
    int64_t steps = 200;
    int64_t evalEvery = 20;
    std::function<std::vector<std::pair<std::string, double>>(int64_t)> perStep;
    std::function<std::vector<std::pair<std::string, double>>(int64_t)> perEval;

    std::vector<RunWarning> run(RunWarningMonitor& monitor) const {
        std::vector<RunWarning> all;
        auto feed = [&](int64_t step, const std::vector<std::pair<std::string, double>>& values) {
            std::vector<MetricSample> batch;
            for (const auto& [name, v] : values) batch.push_back({step, name, v, 0});
            for (RunWarning& w : monitor.observe(batch)) all.push_back(std::move(w));
        };
        for (int64_t s = 0; s <= steps; ++s) {
            if (s > 0 && perStep) feed(s, perStep(s));
            if (s % evalEvery == 0 && perEval) feed(s, perEval(s));
        }
        return all;
    }
};

// Deterministic "noise" in [-1, 1].
double wobble(int64_t step, int salt = 0) { return std::sin(static_cast<double>(step * 7919 + salt * 104729) * 0.618); }

// `values` with `name` set to `value` (added when missing).
std::vector<std::pair<std::string, double>> replaced(std::vector<std::pair<std::string, double>> values,
                                                     const std::string& name, double value) {
    for (auto& [n, x] : values) {
        if (n == name) {
            x = value;
            return values;
        }
    }
    values.push_back({name, value});
    return values;
}

Stream healthyRun() {
    Stream s;
    s.perStep = [](int64_t t) {
        return std::vector<std::pair<std::string, double>>{{"judge/untrainable_share", 0.1 + 0.05 * wobble(t)},
                                                           {"judge/identical_share", 0.0},
                                                           {"rewards/margins", 0.3 + 0.4 * wobble(t, 1)}};
    };
    s.perEval = [](int64_t t) {
        const double x = static_cast<double>(t);
        return std::vector<std::pair<std::string, double>>{{"objective/entropy", 60.0 - 0.05 * x},
                                                           {"kl/exact", 0.02 * x + 0.05 * std::abs(wobble(t, 2))},
                                                           {"kl/k1", 0.02 * x + 0.03 * wobble(t, 3)},
                                                           {"gold/reward", 0.005 * x + 0.1 * wobble(t, 4)},
                                                           {"eval/response_tokens", 48.0 + 2.0 * wobble(t, 5)},
                                                           {"eval/rewards/margins", 0.002 * x}};
    };
    return s;
}

}  // namespace

class TestRunWarnings : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void healthyRunRaisesNothing() {
        RunWarningMonitor monitor;
        const auto warnings = healthyRun().run(monitor);
        for (const RunWarning& w : warnings) qWarning("unexpected %s: %s", w.kind.c_str(), w.message.c_str());
        QVERIFY(warnings.empty());
    }

    void eachKindFiresOnceWhereTheDataShowsIt_data() {
        QTest::addColumn<QString>("kind");
        QTest::addColumn<qint64>("step");       // where it must fire
        QTest::addColumn<QString>("mentions");  // a figure the message must name
        QTest::newRow("mode collapse") << "mode_collapse" << qint64(180) << "60.0 to 24.0";
        QTest::newRow("kl over the limit") << "kl_runaway" << qint64(160) << "10.4";
        QTest::newRow("kl accelerating") << "kl_runaway" << qint64(140) << "now 4.9";
        QTest::newRow("reward hacking") << "reward_hacking" << qint64(120) << "from 1.00 (step 80)";
        QTest::newRow("length exploitation") << "length_exploitation" << qint64(80) << "48 to 64 tokens";
        QTest::newRow("negative k1") << "negative_k1" << qint64(60) << "-0.200";
    }
    void eachKindFiresOnceWhereTheDataShowsIt() {
        QFETCH(QString, kind);
        QFETCH(qint64, step);
        QFETCH(QString, mentions);
        Stream s = healthyRun();
        const std::string row = QTest::currentDataTag();
        auto healthyStep = s.perStep;
        auto healthyEval = s.perEval;
        if (row == "mode collapse") {
            // Entropy 60, falling 6 per evaluation from step 60 (24 at step 180
            // is the first below half of 60); pairs untrainable from step 100.
            s.perEval = [=](int64_t t) {
                return replaced(healthyEval(t), "objective/entropy", t < 60 ? 60.0 : 60.0 - 0.3 * static_cast<double>(t - 60));
            };
            s.perStep = [=](int64_t t) { return replaced(healthyStep(t), "judge/untrainable_share", t < 100 ? 0.1 : 0.6); };
        } else if (row == "kl over the limit") {
            // Linear growth, 0.065 per step: 10.4 at step 160 is the first above 10.
            s.perEval = [=](int64_t t) { return replaced(healthyEval(t), "kl/exact", 0.065 * static_cast<double>(t)); };
        } else if (row == "kl accelerating") {
            // Flat until 60, then quadratic: 0.34 at 80, 1.25 at 100, 2.76 at
            // 120, 4.87 at 140 (the first above the 4-nat floor).
            s.perEval = [=](int64_t t) {
                const double x = static_cast<double>(std::max<int64_t>(0, t - 60)) / 20.0;
                return replaced(healthyEval(t), "kl/exact", 0.01 * static_cast<double>(t) / 20.0 + 0.3 * x * x);
            };
        } else if (row == "reward hacking") {
            // Gold peaks at 1.0 at step 80 and falls 0.2 per evaluation;
            // the rollout score keeps rising.
            s.perEval = [=](int64_t t) {
                const double x = static_cast<double>(t);
                return replaced(healthyEval(t), "gold/reward", t <= 80 ? x / 80.0 : 1.0 - 0.01 * (x - 80));
            };
            s.perStep = [=](int64_t t) { return replaced(healthyStep(t), "objective/scores", 0.01 * static_cast<double>(t)); };
        } else if (row == "length exploitation") {
            // Length and held-out margin rise together from step 20 (+8 tokens
            // per evaluation): 64 tokens at step 80 is 33 % above 48.
            s.perEval = [=](int64_t t) {
                const double x = static_cast<double>(std::max<int64_t>(0, t - 20)) / 20.0;
                auto v = replaced(healthyEval(t), "eval/response_tokens", 48.0 + 16.0 / 3.0 * x);
                return replaced(v, "eval/rewards/margins", 0.1 * x + 0.01 * wobble(t));
            };
        } else if (row == "negative k1") {
            s.perEval = [=](int64_t t) { return replaced(healthyEval(t), "kl/k1", t == 60 ? -0.2 : 0.01); };
        }
        RunWarningMonitor monitor;
        const auto warnings = s.run(monitor);
        QCOMPARE(warnings.size(), size_t(1));
        QCOMPARE(QString::fromStdString(warnings[0].kind), kind);
        QCOMPARE(qint64(warnings[0].step), step);
        QVERIFY2(QString::fromStdString(warnings[0].message).contains(mentions), warnings[0].message.c_str());
        QVERIFY(!warnings[0].advice.empty());
        QVERIFY(monitor.raised(kind.toStdString()));
    }

    // The same figures without their second condition raise nothing.
    void halfTheEvidenceIsNotEnough_data() {
        QTest::addColumn<QString>("what");
        QTest::newRow("entropy falls, pairs stay trainable") << "entropy";
        QTest::newRow("gold falls, score falls too") << "gold";
        QTest::newRow("length rises, margin does not") << "length";
        QTest::newRow("k1 negative at step 0") << "k1";
    }
    void halfTheEvidenceIsNotEnough() {
        QFETCH(QString, what);
        Stream s = healthyRun();
        auto healthyStep = s.perStep;
        auto healthyEval = s.perEval;
        if (what == "entropy") {
            s.perEval = [=](int64_t t) { return replaced(healthyEval(t), "objective/entropy", 60.0 - 0.25 * static_cast<double>(t)); };
        } else if (what == "gold") {
            s.perEval = [=](int64_t t) { return replaced(healthyEval(t), "gold/reward", t <= 80 ? 1.0 : 0.2); };
            s.perStep = [=](int64_t t) { return replaced(healthyStep(t), "objective/scores", 1.0 - 0.004 * static_cast<double>(t)); };
        } else if (what == "length") {
            s.perEval = [=](int64_t t) {
                auto v = replaced(healthyEval(t), "eval/response_tokens", 48.0 + 0.2 * static_cast<double>(t));
                return replaced(v, "eval/rewards/margins", 1.0 - 0.004 * static_cast<double>(t));
            };
        } else {
            s.perEval = [=](int64_t t) { return replaced(healthyEval(t), "kl/k1", t == 0 ? -0.3 : 0.01); };
        }
        RunWarningMonitor monitor;
        const auto warnings = s.run(monitor);
        for (const RunWarning& w : warnings) qWarning("unexpected %s: %s", w.kind.c_str(), w.message.c_str());
        QVERIFY(warnings.empty());
    }

    void nonFiniteValuesAreIgnored() {
        RunWarningMonitor monitor;
        std::vector<MetricSample> batch{{20, "kl/exact", std::nan(""), 0}, {20, "kl/k1", -INFINITY, 0}};
        QVERIFY(monitor.observe(batch).empty());
        QVERIFY(!monitor.raised("negative_k1"));
    }
};

PREFLAB_TEST_MAIN(TestRunWarnings)
#include "tst_run_warnings.moc"
