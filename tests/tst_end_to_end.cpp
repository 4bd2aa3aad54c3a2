// End to end, headless: pretrain a (shortened) starter model on the task
// corpus, then run online DPO with the task judge. Gold reward must rise and
// KL to the reference must become positive, as the algorithm spec predicts.
// About two minutes on two cores (most of it the shortened pretraining).
#include "core/judges/task_judge.h"
#include "core/loop/online_loop.h"
#include "core/task/starter_model.h"
#include "support/test_main.h"

#include <QElapsedTimer>
#include <QTemporaryDir>

#include <map>

using namespace preflab;

namespace {

struct Collector : LoopObserver {
    std::map<std::string, std::vector<std::pair<int64_t, double>>> series;
    int64_t pairs = 0, judged = 0;
    void pairsGenerated(const std::vector<PairRecord>& p) override { pairs += static_cast<int64_t>(p.size()); }
    void pairsJudged(const std::vector<Judgement>& j) override { judged += static_cast<int64_t>(j.size()); }
    void metricsLogged(const std::vector<MetricSample>& m) override {
        for (const MetricSample& s : m) series[s.name].push_back({s.step, s.value});
    }
};

}  // namespace

class TestEndToEnd : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void goldRewardRisesAndKlGrows() {
        QTemporaryDir dir;
        PretrainSpec spec;
        spec.steps = 250;  // shortened for CI; the product default is longer
        const std::string model = (dir.path() + "/starter.pt").toStdString();
        QElapsedTimer pretrainClock;
        pretrainClock.start();
        QVERIFY(pretrainStarterModel(spec, model).completed);
        qInfo("pretrained %lld steps in %.1f s", static_cast<long long>(spec.steps), pretrainClock.elapsed() / 1000.0);

        LoopSetup setup;
        setup.modelPath = model;
        setup.checkpointDir = (dir.path() + "/ck").toStdString();
        // 60 steps: later, the policy's two samples are mostly equally good
        // (the discrete true reward ties) and each step needs far more generation.
        setup.config.steps = 60;
        // The settings this pipeline check was calibrated on (a fast, over-
        // optimising learning rate); the product defaults are checked on the
        // real starter by tst_demo_targets.
        setup.config.lr = 2e-4;
        setup.config.beta = 0.1;
        setup.config.evalEvery = 30;
        setup.config.evalSamples = 128;
        setup.config.checkpointEvery = 0;
        Collector c;
        OnlineLoop loop(setup, std::make_unique<TaskJudge>(), &c);
        std::atomic_bool cancel{false};
        StepOutcome o;
        QElapsedTimer clock;
        clock.start();
        while ((o = loop.step(cancel)) == StepOutcome::Trained) {
            if (loop.currentStep() % 25 == 0) {
                qInfo("step %lld after %.1f s, %lld pairs", static_cast<long long>(loop.currentStep()),
                      clock.elapsed() / 1000.0, static_cast<long long>(c.pairs));
            }
        }
        QVERIFY2(o == StepOutcome::Finished, loop.lastError().c_str());
        QCOMPARE(loop.currentStep(), int64_t(60));
        QCOMPARE(c.judged, c.pairs);

        const auto& gold = c.series["gold/reward"];
        const auto& kl = c.series["objective/kl"];
        QCOMPARE(gold.size(), size_t(3));  // steps 0, 30, 60
        QCOMPARE(gold.front().first, int64_t(0));
        qInfo("gold reward: %.3f -> %.3f -> %.3f; KL (objective/kl): %.3f -> %.3f", gold[0].second, gold[1].second,
              gold[2].second, kl.front().second, kl.back().second);
        QVERIFY(std::abs(kl.front().second) < 1e-9);  // policy = reference at step 0
        QVERIFY2(gold.back().second > gold.front().second + 0.3, "gold reward did not rise");
        QVERIFY2(kl.back().second > 0.1, "KL to the reference did not grow");
        // The DPO metrics move as the spec predicts: loss starts at ln 2, margins become positive.
        const auto& loss = c.series["loss"];
        QVERIFY(std::abs(loss.front().second - std::log(2.0)) < 1e-4);
        // The noiseless task judge's labels always agree with the true reward.
        for (const auto& [step, agreement] : c.series["gold/label_agreement"]) QCOMPARE(agreement, 1.0);
        QVERIFY(!c.series["judge/untrainable_share"].empty());
    }
};

PREFLAB_TEST_MAIN(TestEndToEnd)
#include "tst_end_to_end.moc"
