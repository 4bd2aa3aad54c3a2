// The algorithm suite's losses (algorithms.md §1, §2, §6): values on fixed
// tensors against an independent computation (Python's math module, the
// formulas of the spec), gradients against central finite differences in
// double precision, SAIL's surrogates against the gradients they stand for,
// SAIL with nothing routed equal to DPO to the last bit, and each offline
// method lowering its own loss on a fixed dataset.
#include "core/algo/pairwise_loss.h"
#include "core/judges/task_judge.h"
#include "core/loop/held_out_preferences.h"
#include "core/loop/loop_context.h"
#include "core/loop/loop_models.h"
#include "core/loop/online_loop.h"
#include "core/judges/reward_model.h"
#include "core/nn/model_file.h"
#include "support/test_main.h"
#include "support/loop_runner.h"

#include <QTemporaryDir>

#include <cmath>
#include <map>

using namespace preflab;
using namespace preflab::test;

namespace {

at::Tensor vec(std::vector<double> v, bool grad = false) {
    return at::tensor(v, at::kDouble).set_requires_grad(grad);
}

PairwiseMethod method(const QString& name) {
    return *pairwiseMethodFromName(name.toStdString());
}

std::vector<OfflinePair> smallDataset() {
    std::vector<OfflinePair> d;
    const char* animals[] = {"fox", "cat", "owl", "dog"};
    for (int i = 0; i < 16; ++i) {
        const std::string a = animals[i % 4];
        d.push_back({"Tell me about the " + a + ".", "The " + a + " is friendly.", "Ugh, fine. The " + a + " is grumpy."});
    }
    return d;
}

}  // namespace

class TestAlgorithmLosses : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { configureComputeThreads(); }

    void handComputed_data() {
        QTest::addColumn<QString>("name");
        QTest::addColumn<bool>("tokenMean");
        QTest::addColumn<std::vector<double>>("in");  // pc, pr, rc, rr, beta
        QTest::addColumn<double>("expected");
        const std::vector<double> c1{-10, -12, -11, -11, 0.1}, c2{-20, -3, -10, -10, 0.5}, c3{-7.5, -9.25, -8, -8.5, 2.0};
        const std::vector<std::pair<const char*, std::array<double, 3>>> table = {
            {"dpo", {0.5981388693815918, 8.50020344767213, 0.07888973429254963}},
            {"ipo", {9.0, 324.0, 1.0}},
            {"slic", {0.8, 9.5, 0.0}},
            {"slic-hf", {1.0, 20.0, 0.75}},
            {"cdpo", {0.6181388693815918, 7.65020344767213, 0.32888973429254964}},
            {"rdpo", {0.5731388693815918, 9.56270344767213, -0.23361026570745042}},
        };
        for (const auto& [name, values] : table) {
            QTest::newRow(qPrintable(QString("%1 h=2").arg(name))) << QString(name) << false << c1 << values[0];
            QTest::newRow(qPrintable(QString("%1 h=-17").arg(name))) << QString(name) << false << c2 << values[1];
            QTest::newRow(qPrintable(QString("%1 h=1.25").arg(name))) << QString(name) << false << c3 << values[2];
        }
        // Token-mean IPO, chosen 4 tokens, rejected 2.
        QTest::newRow("ipo token-mean h=2") << "ipo" << true << c1 << 18.0625;
        QTest::newRow("ipo token-mean h=-17") << "ipo" << true << c2 << 49.0;
        QTest::newRow("ipo token-mean h=1.25") << "ipo" << true << c3 << 0.0625;
    }

    void handComputed() {
        QFETCH(QString, name);
        QFETCH(bool, tokenMean);
        QFETCH(std::vector<double>, in);
        QFETCH(double, expected);
        PairwiseOptions o;
        o.method = method(name);
        o.beta = in[4];
        o.labelSmoothing = 0.1;
        o.ipoTokenMean = tokenMean;
        o.slicDelta = 1.0;
        o.slicLambda = 0.1;
        const LossOutput out = pairwiseLoss(o, {vec({in[0]}), vec({in[1]}), vec({in[2]}), vec({in[3]}), vec({4}), vec({2})});
        QVERIFY2(std::abs(out.loss.item<double>() - expected) < 1e-12,
                 qPrintable(QString("%1 vs %2").arg(out.loss.item<double>(), 0, 'g', 17).arg(expected, 0, 'g', 17)));
        // Every method logs the shared metrics under TRL's names.
        QCOMPARE(out.metrics.front().first, std::string("loss"));
        QCOMPARE(out.metrics.size(), size_t(7));
    }

    void gradientsMatchFiniteDifferences_data() {
        QTest::addColumn<QString>("name");
        for (const char* n : {"dpo", "ipo", "slic", "slic-hf", "cdpo", "rdpo"}) QTest::newRow(n) << QString(n);
    }

    // d loss / d (c_w, c_l, c_ref,w, c_ref,l) by autograd = central differences, per input, batch of 3.
    void gradientsMatchFiniteDifferences() {
        QFETCH(QString, name);
        PairwiseOptions o;
        o.method = method(name);
        o.beta = 0.3;
        o.labelSmoothing = 0.2;
        // Away from the hinges' kinks: slic's 1 - beta h and slic-hf's 1 - c_w + c_l stay nonzero.
        const std::vector<std::vector<double>> base = {{-10.0, -12.5, -11.0, -10.0}, {-6.0, -4.0, -5.5, -5.0}, {-3.0, -9.0, -4.0, -4.5}};
        auto loss = [&](const std::vector<std::vector<double>>& v) {
            std::vector<double> cols[4];
            for (const auto& row : v)
                for (int k = 0; k < 4; ++k) cols[k].push_back(row[k]);
            return pairwiseLoss(o, {vec(cols[0]), vec(cols[1]), vec(cols[2]), vec(cols[3])}).loss;
        };
        std::vector<double> cols[4];
        for (const auto& row : base)
            for (int k = 0; k < 4; ++k) cols[k].push_back(row[k]);
        at::Tensor t[4];
        for (int k = 0; k < 4; ++k) t[k] = vec(cols[k], true);
        pairwiseLoss(o, {t[0], t[1], t[2], t[3]}).loss.backward();
        const double h = 1e-6;
        for (size_t i = 0; i < base.size(); ++i) {
            for (int k = 0; k < 4; ++k) {
                auto plus = base, minus = base;
                plus[i][k] += h;
                minus[i][k] -= h;
                const double fd = (loss(plus).item<double>() - loss(minus).item<double>()) / (2 * h);
                // No gradient at all (slic-hf ignores the reference) counts as zero.
                const double ag = t[k].grad().defined() ? t[k].grad()[static_cast<int64_t>(i)].item<double>() : 0.0;
                QVERIFY2(std::abs(fd - ag) < 1e-7, qPrintable(QString("pair %1 input %2: fd %3 autograd %4").arg(i).arg(k).arg(fd).arg(ag)));
            }
        }
    }

    // Each surrogate's gradient is the term it stands for (§2): score function
    // -coef/N (ell_i - b) on c1_i and c2_i, reference code -coef ell_i / c_i,
    // and no gradient through ell (stop-gradient).
    void explorationSurrogates_data() {
        QTest::addColumn<QString>("form");
        QTest::addColumn<bool>("baseline");
        QTest::newRow("score_function") << "score_function" << false;
        QTest::newRow("score_function + baseline") << "score_function" << true;
        QTest::newRow("reference_code") << "reference_code" << false;
    }

    void explorationSurrogates() {
        QFETCH(QString, form);
        QFETCH(bool, baseline);
        const double coef = 0.3, beta = 0.5;
        at::Tensor c1 = vec({-10, -6, -3}, true), c2 = vec({-12.5, -4, -9}, true);
        const at::Tensor refs1 = vec({-11, -5.5, -4}), refs2 = vec({-10, -5, -4.5});
        const at::Tensor ell = at::log_sigmoid(beta * ((c1 - refs1) - (c2 - refs2)));
        const at::Tensor mask = vec({1, 0, 1});
        const ExplorationForm f = *explorationFormFromName(form.toStdString());
        explorationSurrogate(f, coef, ell, c1, c2, mask, baseline).backward();
        const at::Tensor l = ell.detach();
        for (int64_t i = 0; i < 3; ++i) {
            const double m = mask[i].item<double>(), li = l[i].item<double>();
            // The baseline, leave-one-out over the routed pairs (0 and 2): the other one's ell.
            const double b = !baseline ? 0.0 : i == 0 ? l[2].item<double>() : l[0].item<double>();
            double want1, want2;
            if (f == ExplorationForm::ScoreFunction) {
                want1 = want2 = -coef / 3.0 * m * (li - b);
            } else {
                want1 = -coef * m * li / c1[i].item<double>();
                want2 = -coef * m * li / c2[i].item<double>();
            }
            QVERIFY(std::abs(c1.grad()[i].item<double>() - want1) < 1e-14);
            QVERIFY(std::abs(c2.grad()[i].item<double>() - want2) < 1e-14);
        }
    }

    // -1/2 pi ell^2: its gradient is -pi/N ell grad ell (finite differences on c_w).
    void selfJudgedSquareGradient() {
        const double coef = 0.2, beta = 0.5;
        const std::vector<double> cw{-10, -6}, cl{-12.5, -4};
        auto value = [&](std::vector<double> w) {
            const at::Tensor ell = at::log_sigmoid(beta * (vec(w) - vec(cl)));
            return selfJudgedSquare(coef, ell, vec({1, 1})).item<double>();
        };
        at::Tensor w = vec(cw, true);
        const at::Tensor ell = at::log_sigmoid(beta * (w - vec(cl)));
        selfJudgedSquare(coef, ell, vec({1, 1})).backward();
        for (size_t i = 0; i < cw.size(); ++i) {
            auto p = cw, m = cw;
            p[i] += 1e-6;
            m[i] -= 1e-6;
            const double fd = (value(p) - value(m)) / 2e-6;
            const double li = ell[static_cast<int64_t>(i)].item<double>();
            const double closed = -coef / 2.0 * li * beta / (1.0 + std::exp(beta * (cw[i] - cl[i])));  // d ell/dc_w = beta s(-beta h)
            QVERIFY(std::abs(fd - w.grad()[static_cast<int64_t>(i)].item<double>()) < 1e-8);
            QVERIFY(std::abs(closed - w.grad()[static_cast<int64_t>(i)].item<double>()) < 1e-12);
        }
    }

    // SAIL-PR with routing probability 0 is DPO, to the last bit; with 1 it is not.
    void sailWithNothingRoutedIsDpo() {
        QTemporaryDir dir;
        RunConfig dpo;
        dpo.algorithm = "dpo";
        dpo.batchSize = 4;
        dpo.generationBatch = 2;
        RunConfig sail = dpo;
        sail.algorithm = "sail-pr";
        sail.sailProb = 0.0;
        RunConfig routed = sail;
        routed.sailProb = 1.0;
        std::string ckDpo, ckSail, ckRouted;
        const Collector a = runLoop(dir, dpo, 4, {}, &ckDpo);
        const Collector b = runLoop(dir, sail, 4, {}, &ckSail);
        const Collector c = runLoop(dir, routed, 4, {}, &ckRouted);
        QCOMPARE(a.series.at("loss"), b.series.at("loss"));
        QCOMPARE(a.series.at("grad_norm"), b.series.at("grad_norm"));
        Transformer ma = loadModelFile(ckDpo), mb = loadModelFile(ckSail), mc = loadModelFile(ckRouted);
        const auto pa = ma->named_parameters(), pb = mb->named_parameters(), pc = mc->named_parameters();
        bool anyDiffers = false;
        for (const auto& item : pa) {
            QVERIFY2(at::equal(item.value(), pb[item.key()]), item.key().c_str());
            anyDiffers |= !at::equal(item.value(), pc[item.key()]);
        }
        QVERIFY(anyDiffers);
        QVERIFY(c.series.at("sail/extra_loss").size() == 4);
        for (double routedCount : c.series.at("sail/routed")) QCOMPARE(routedCount, 4.0);
    }

    // SAIL-PP and SAIL-PR with a dataset (spec §2): each example is a policy
    // pair with probability p (g), else a dataset pair with DPO alone. With
    // p = 0 that is offline DPO to the last bit; with p = 1/2 about half of
    // each batch is generated, and only those pairs get the SAIL terms.
    void sailMixesDatasetPairs_data() {
        QTest::addColumn<QString>("name");
        QTest::newRow("sail-pp") << QString("sail-pp");
        QTest::newRow("sail-pr") << QString("sail-pr");
    }

    void sailMixesDatasetPairs() {
        QFETCH(QString, name);
        QTemporaryDir dir;
        RunConfig dpo;
        dpo.algorithm = "dpo";
        dpo.batchSize = 8;
        dpo.generationBatch = 4;
        dpo.pairs = "test";
        RunConfig none = dpo;
        none.algorithm = name.toStdString();
        none.judge = name == "sail-pp" ? "self" : "task";
        none.sailProb = 0.0;
        RunConfig half = none;
        half.sailProb = 0.5;
        QVERIFY(validateRunConfig(half).empty());
        const Collector a = runLoop(dir, dpo, 6, {smallDataset()});
        const Collector b = runLoop(dir, none, 6, {smallDataset()});
        QCOMPARE(a.series.at("loss"), b.series.at("loss"));
        QCOMPARE(a.series.at("grad_norm"), b.series.at("grad_norm"));
        const Collector c = runLoop(dir, half, 6, {smallDataset()});
        double routed = 0;
        for (double r : c.series.at("sail/routed")) {
            QVERIFY(r >= 0 && r <= 8);
            routed += r;
        }
        QVERIFY2(routed > 8 && routed < 40, qPrintable(QString::number(routed)));  // 24 expected of 48
        QVERIFY(a.series.at("loss") != c.series.at("loss"));
    }

    // SAIL-DP on dataset pairs: with r = 0 it is offline DPO to the last bit;
    // with r = 1 preferences are re-drawn (some swapped) and -1/2 rho ell^2 is added.
    void sailDpWithNothingRoutedIsOfflineDpo() {
        QTemporaryDir dir;
        RunConfig dpo;
        dpo.algorithm = "dpo";
        dpo.batchSize = 8;
        dpo.pairs = "test";  // offline; the pairs come from the test
        RunConfig dp = dpo;
        dp.algorithm = "sail-dp";
        dp.sailDpProb = 0.0;
        RunConfig routed = dp;
        routed.sailDpProb = 1.0;
        const Collector a = runLoop(dir, dpo, 5, {smallDataset()});
        const Collector b = runLoop(dir, dp, 5, {smallDataset()});
        const Collector c = runLoop(dir, routed, 5, {smallDataset()});
        QCOMPARE(a.series.at("loss"), b.series.at("loss"));
        QCOMPARE(a.series.at("grad_norm"), b.series.at("grad_norm"));
        for (double r : b.series.at("sail/routed")) QCOMPARE(r, 0.0);
        for (double r : c.series.at("sail/routed")) QCOMPARE(r, 8.0);
        double swapped = 0;
        for (double s : c.series.at("sail/swapped")) swapped += s;
        // At the start the policy is the reference: each routed pair swaps with probability 1/2.
        QVERIFY2(swapped > 5 && swapped < 35, qPrintable(QString::number(swapped)));
        QCOMPARE(c.series.at("sail/extra_loss").size(), size_t(5));
        QVERIFY(a.series.at("loss") != c.series.at("loss"));
    }

    // PPO on the tiny model: responses cut off before EOS score -10, so the
    // scores it maximises rise as it learns to end its answers; it logs the
    // spec's metric names.
    void ppoRaisesItsScores() {
        QTemporaryDir dir;
        RunConfig c;
        c.algorithm = "ppo";
        c.batchSize = 16;
        c.lr = 3e-3;
        c.maxGradNorm = 1.0;
        const Collector r = runLoop(dir, c, 40);
        const auto& scores = r.series.at("objective/scores");
        QCOMPARE(scores.size(), size_t(40));
        double first = 0, last = 0;
        for (int i = 0; i < 8; ++i) {
            first += scores[static_cast<size_t>(i)] / 8;
            last += scores[scores.size() - 1 - static_cast<size_t>(i)] / 8;
        }
        QVERIFY2(last > first + 1.0, qPrintable(QString("scores %1 -> %2").arg(first).arg(last)));
        for (const char* name : {"objective/non_score_reward", "objective/rlhf_reward", "policy/approxkl_avg",
                                 "policy/clipfrac_avg", "loss/policy_avg", "loss/value_avg", "val/ratio"}) {
            QVERIFY2(r.series.count(name) == 1, name);
        }
    }

    // On the first minibatch of the first pass the policy is the one that
    // sampled the rollout, so pi / pi_old is exactly 1: with the sampling
    // temperature applied to both and the adapters' dropout (0.3) off. With
    // one pass per rollout that is every pass; the adapters move from step 1
    // on, so later steps would see dropout if it were on.
    void ppoFirstPassRatioIsOne_data() {
        QTest::addColumn<double>("temperature");
        QTest::newRow("T 1") << 1.0;
        QTest::newRow("T 0.7") << 0.7;
    }

    void ppoFirstPassRatioIsOne() {
        QFETCH(double, temperature);
        QTemporaryDir dir;
        RunConfig c;
        c.algorithm = "ppo";
        c.temperature = temperature;
        c.loraRank = 4;
        c.loraDropout = 0.3;
        c.lr = 3e-2;
        c.ppoEpochs = 1;
        const Collector r = runLoop(dir, c, 4);
        for (double ratio : r.series.at("val/ratio")) QVERIFY2(std::abs(ratio - 1.0) < 1e-6, qPrintable(QString::number(ratio, 'g', 12)));
        for (double f : r.series.at("policy/clipfrac_avg")) QCOMPARE(f, 0.0);
        for (double u : r.series.at("ppo/updates")) QCOMPARE(u, 1.0);
    }

    // Later passes see a policy that has moved since the rollout: the ratio
    // leaves 1 and the clip binds. 4 epochs x 2 minibatches = 8 updates per rollout.
    void ppoLaterPassesClip() {
        QTemporaryDir dir;
        RunConfig c;
        c.algorithm = "ppo";
        c.temperature = 0.7;
        c.lr = 1e-2;
        c.ppoEpochs = 4;
        c.ppoMinibatches = 2;
        const Collector r = runLoop(dir, c, 3);
        double clipped = 0, offRatio = 0;
        for (double f : r.series.at("policy/clipfrac_avg")) clipped = std::max(clipped, f);
        for (double ratio : r.series.at("val/ratio")) offRatio = std::max(offRatio, std::abs(ratio - 1.0));
        for (double u : r.series.at("ppo/updates")) QCOMPARE(u, 8.0);
        QVERIFY2(clipped > 0, qPrintable(QString::number(clipped)));
        QVERIFY2(offRatio > 1e-3, qPrintable(QString::number(offRatio)));
        QVERIFY(r.series.at("policy/approxkl_avg").back() > 0);
    }

    // SAIL-RevKL: lambda k3 on fresh samples, logged as sail/kl_k3, for the
    // variants with policy pairs and for sail-dp, which samples its own; it
    // holds the policy nearer the reference: the same run (same seed) without
    // the term ends farther from it, by the exact KL of the evaluation. (k3 is
    // never negative by construction, e^-d - 1 + d >= 0, so that is no check;
    // the term's gradient is checked against enumeration in tst_sail_gradients.)
    void sailReverseKlTerm_data() {
        QTest::addColumn<QString>("name");
        for (const char* n : {"sail-pp", "sail-pr", "online-dpo", "sail-dp"}) QTest::newRow(n) << QString(n);
    }

    void sailReverseKlTerm() {
        QFETCH(QString, name);
        QTemporaryDir dir;
        RunConfig c;
        c.algorithm = name.toStdString();
        c.judge = name == "sail-pp" ? "self" : "task";
        c.lr = 1e-2;
        c.sailKlCoef = 1.0;
        c.temperature = 0.9;
        if (name == "sail-dp") c.pairs = "test";  // offline; the pairs come from the test
        const int steps = 6;
        auto data = [&] {
            LoopData d{name == "sail-dp" ? smallDataset() : std::vector<OfflinePair>{}};
            d.evalEvery = steps;  // an evaluation at the end: the exact KL to the reference
            return d;
        };
        const Collector r = runLoop(dir, c, steps, data());
        const auto& k3 = r.series.at("sail/kl_k3");
        QCOMPARE(k3.size(), size_t(steps));
        QVERIFY2(k3.front() < 1e-6, qPrintable(QString::number(k3.front())));  // the first samples: policy = reference
        QVERIFY(k3.back() > 0);
        RunConfig without = c;
        without.sailKlCoef = 0;
        const Collector free = runLoop(dir, without, steps, data());
        QVERIFY(!free.series.count("sail/kl_k3"));
        const double held = r.series.at("kl/exact").back(), drifted = free.series.at("kl/exact").back();
        QVERIFY2(held < drifted, qPrintable(QString("exact KL with the term %1, without %2").arg(held).arg(drifted)));
    }

    // The held-out preference set: measured at every evaluation on the same
    // pairs (their count does not change), zero margin and accuracy while the
    // policy is the reference (step 0), an accuracy that counts pairs.
    void heldOutPreferencesAreMeasuredAtEveryEvaluation() {
        QTemporaryDir dir;
        RunConfig c;
        c.algorithm = "online-dpo";
        c.heldOutPairs = 48;
        LoopData data;
        data.evalEvery = 2;
        const Collector r = runLoop(dir, c, 4, data);
        QVERIFY(r.series.count("eval/rewards/accuracies") == 1);
        const auto& acc = r.series.at("eval/rewards/accuracies");
        const auto& margin = r.series.at("eval/rewards/margins");
        const auto& pairs = r.series.at("eval/held_out_pairs");
        QCOMPARE(acc.size(), size_t(3));  // steps 0, 2, 4
        QCOMPARE(margin.front(), 0.0);
        QCOMPARE(acc.front(), 0.0);
        QVERIFY(pairs.front() >= 1 && pairs.front() <= 48);
        for (size_t i = 0; i < acc.size(); ++i) {
            QCOMPARE(pairs[i], pairs.front());
            const double counted = acc[i] * pairs[i];
            QVERIFY(std::abs(counted - std::round(counted)) < 1e-9);
        }
        QVERIFY(margin.back() != 0.0);  // the policy moved
    }

    // The held-out pairs are labelled as the run's judge labels: by the true
    // reward for the task (and self) judge, by the reward model's scores for
    // judge reward_model (here a reward model with a random head, which
    // disagrees with the true reward on many pairs, so the two are told apart).
    void heldOutPairsAreLabelledAsTheRunsJudgeLabels_data() {
        QTest::addColumn<QString>("judge");
        QTest::addColumn<int>("labels");
        QTest::newRow("task") << "task" << int(HeldOutLabels::TrueReward);
        QTest::newRow("self") << "self" << int(HeldOutLabels::TrueReward);
        QTest::newRow("reward_model") << "reward_model" << int(HeldOutLabels::RewardModel);
    }
    void heldOutPairsAreLabelledAsTheRunsJudgeLabels() {
        QFETCH(QString, judge);
        QFETCH(int, labels);
        QTemporaryDir dir;
        TransformerConfig rmConfig = tinyConfig();
        rmConfig.scalarHead = 1;
        torch::manual_seed(5);
        Transformer rm(rmConfig);
        ModelFileInfo info;
        info.config = rmConfig;
        const std::string rmPath = (dir.path() + "/rm.pt").toStdString();
        saveModelFile(rmPath, rm, info);

        LoopSetup setup;
        setup.config.algorithm = "online-dpo";
        setup.config.judge = judge.toStdString();
        setup.config.rewardModel = rmPath;
        setup.config.heldOutPairs = 240;  // the tiny model's gold rewards often tie: those pairs are left out
        setup.config.maxNewTokens = 12;
        setup.config.prompts = 16;
        setup.modelPath = tinyModelFile(dir);
        LoopContext ctx(setup, nullptr);
        LoopModels models(ctx);
        HeldOutPreferences heldOut(ctx, models);
        QCOMPARE(int(heldOut.labels()), labels);
        std::atomic_bool cancel{false};
        HeldOutStats stats;
        QVERIFY(heldOut.evaluate(cancel, &stats));
        const auto pairs = heldOut.sampledPairs();
        QVERIFY2(pairs.size() >= 10, qPrintable(QString::number(pairs.size())));
        RewardModelJudge scorer(rmPath);
        int byRewardModel = 0, byTrueReward = 0;
        for (const auto& p : pairs) {
            const std::vector<double> s = scorer.score({p.prompt, p.prompt}, {p.chosen, p.rejected});
            byRewardModel += s[0] > s[1];
            byTrueReward += ctx.task.trueReward(p.prompt, p.chosen) > ctx.task.trueReward(p.prompt, p.rejected);
        }
        const int n = static_cast<int>(pairs.size());
        if (labels == int(HeldOutLabels::RewardModel)) {
            QCOMPARE(byRewardModel, n);
            QVERIFY2(byTrueReward < n, "the reward model agreed with the true reward on every pair: nothing was told apart");
        } else {
            QCOMPARE(byTrueReward, n);
        }
    }

    // With a person judging, a share of their A/B labels is held back (a
    // fixed choice by pair index), up to held_out_pairs, and nothing is
    // reported below eight pairs.
    void aPersonsLabelsAreHeldBackAtTheirShare() {
        QTemporaryDir dir;
        LoopSetup setup;
        setup.config.algorithm = "dpo";
        setup.config.judge = "human";
        setup.config.annotator = "ada";
        setup.config.heldOutPairs = 30;
        setup.config.heldOutShare = 0.25;
        setup.modelPath = tinyModelFile(dir);
        LoopContext ctx(setup, nullptr);
        LoopModels models(ctx);
        HeldOutPreferences heldOut(ctx, models);
        QCOMPARE(int(heldOut.labels()), int(HeldOutLabels::HeldBackHumanLabels));
        const TokenIds prompt = models.promptIds("Tell me about the fox.");
        const TokenIds a = models.tokenizer->encode("The fox is kind."), b = models.tokenizer->encode("Fox.");
        std::atomic_bool cancel{false};
        HeldOutStats stats;
        int held = 0, reportedAt = -1;
        for (int64_t index = 0; index < 400; ++index) {
            const bool back = heldOut.holdBack(index, prompt, a, b, -10.0, -12.0);
            QCOMPARE(back, held < 30 && heldBackPair(ctx.seed(), index, 0.25));
            held += back;
            if (reportedAt < 0 && heldOut.evaluate(cancel, &stats)) reportedAt = held;
            if (index == 99) QVERIFY2(held >= 15 && held <= 35, qPrintable(QString::number(held)));  // ~25 of 100
        }
        QCOMPARE(held, 30);
        QCOMPARE(heldOut.pairCount(), size_t(30));
        QCOMPARE(reportedAt, int(HeldOutPreferences::kMinimumHeldBack));
    }

    // A dataset pair longer than the model's context is cut by the stated
    // rule and counted, once per pair.
    void longDatasetPairsAreCountedWhenCut() {
        QTemporaryDir dir;
        RunConfig c;
        c.algorithm = "dpo";
        c.pairs = "test";
        c.batchSize = 4;
        std::vector<OfflinePair> data = smallDataset();
        data[0].prompt = "Tell me about the fox. " + std::string(200, 'x');  // the tiny model's context is 64
        const Collector r = runLoop(dir, c, 6, {data});
        QVERIFY(r.series.count("data/truncated_pairs") == 1);
        QCOMPARE(r.series.at("data/truncated_pairs").back(), 1.0);
    }

    // Each offline method lowers its own loss on a fixed dataset.
    void offlineMethodsImproveTheirObjective_data() {
        QTest::addColumn<QString>("name");
        for (const char* n : {"dpo", "ipo", "slic", "slic-hf", "cdpo", "rdpo"}) QTest::newRow(n) << QString(n);
    }

    void offlineMethodsImproveTheirObjective() {
        QFETCH(QString, name);
        QTemporaryDir dir;
        RunConfig c;
        c.algorithm = name.toStdString();
        c.batchSize = 8;
        c.lr = 3e-3;
        const Collector r = runLoop(dir, c, 30, {smallDataset()});
        const auto& loss = r.series.at("loss");
        QCOMPARE(loss.size(), size_t(30));
        double first = 0, last = 0;
        for (int i = 0; i < 5; ++i) {
            first += loss[static_cast<size_t>(i)] / 5;
            last += loss[loss.size() - 1 - static_cast<size_t>(i)] / 5;
        }
        QVERIFY2(last < first - 0.05 * std::abs(first) || last < first - 0.01,
                 qPrintable(QString("%1: loss %2 -> %3").arg(name).arg(first).arg(last)));
        // The chosen responses win more often than at the start.
        QVERIFY(r.series.at("rewards/margins").back() > 0);
    }
};

PREFLAB_TEST_MAIN(TestAlgorithmLosses)
#include "tst_algorithm_losses.moc"
