// End to end, headless: pretrain a (shortened) starter model on the task
// corpus, then run online DPO with the task judge. Gold reward must rise and
// KL to the reference must become positive, as the algorithm spec predicts.
#include "core/judges/task_judge.h"
#include "core/loop/online_loop.h"
#include "core/loop/starter_model.h"
#include "support/test_main.h"

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
        QVERIFY(pretrainStarterModel(spec, model).completed);

        LoopSetup setup;
        setup.modelPath = model;
        setup.checkpointDir = (dir.path() + "/ck").toStdString();
        setup.config.steps = 150;
        setup.config.evalEvery = 75;
        setup.config.evalSamples = 128;
        setup.config.checkpointEvery = 0;
        Collector c;
        OnlineLoop loop(setup, std::make_unique<TaskJudge>(), &c);
        std::atomic_bool cancel{false};
        StepOutcome o;
        while ((o = loop.step(cancel)) == StepOutcome::Trained) {
        }
        QVERIFY2(o == StepOutcome::Finished, loop.lastError().c_str());
        QCOMPARE(loop.currentStep(), int64_t(150));
        QCOMPARE(c.judged, c.pairs);

        const auto& gold = c.series["gold/reward"];
        const auto& kl = c.series["objective/kl"];
        QCOMPARE(gold.size(), size_t(3));  // steps 0, 75, 150
        QCOMPARE(gold.front().first, int64_t(0));
        qInfo("gold reward: %.3f -> %.3f -> %.3f; KL(k3): %.3f -> %.3f", gold[0].second, gold[1].second,
              gold[2].second, kl.front().second, kl.back().second);
        QVERIFY(std::abs(kl.front().second) < 1e-9);  // policy = reference at step 0
        QVERIFY2(gold.back().second > gold.front().second + 0.3, "gold reward did not rise");
        QVERIFY2(kl.back().second > 0.1, "KL to the reference did not grow");
        // The DPO metrics move as the spec predicts: loss starts at ln 2, margins become positive.
        const auto& loss = c.series["loss"];
        QVERIFY(std::abs(loss.front().second - std::log(2.0)) < 1e-4);
        const auto& margins = c.series["rewards/margins"];
        double lateMargin = 0;
        for (size_t i = margins.size() - 20; i < margins.size(); ++i) lateMargin += margins[i].second / 20.0;
        QVERIFY(lateMargin > 0.0);
    }
};

PREFLAB_TEST_MAIN(TestEndToEnd)
#include "tst_end_to_end.moc"
