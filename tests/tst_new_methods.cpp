// The methods of algorithms.md §7: KTO, ORPO, SimPO and the SFT term (RPO)
// on fixed tensors against Python's math module and their gradients against
// central finite differences; GRPO's and RLOO's advantages by hand, their
// surrogates' expected gradients against the exact gradient of the expected
// reward by enumeration (RLOO unbiased; GRPO's mean baseline, unscaled,
// shrinks it by (k-1)/k), the loss aggregations and clip ratios on
// constructed ratios; and each method training on the tiny model.
#include "core/algo/group_terms.h"
#include "core/algo/pairwise_loss.h"
#include "core/values/run_warnings.h"
#include "support/loop_runner.h"
#include "support/test_main.h"

#include <cmath>

using namespace preflab;
using namespace preflab::test;

namespace {

at::Tensor vec(std::vector<double> v, bool grad = false) {
    return at::tensor(v, at::kDouble).set_requires_grad(grad);
}

// Fixed inputs: policy chosen/rejected, reference chosen/rejected, beta; the
// chosen response has 4 tokens, the rejected 2; KTO's mismatched pairs give
// z_ref = max(0, mean(-5 - -5.5, -6 - -5.8)) = 0.15.
PairLogps fixedLogps(const std::vector<double>& in, bool grad = false) {
    PairLogps p{vec({in[0]}, grad), vec({in[1]}, grad), vec({in[2]}, grad), vec({in[3]}, grad), vec({4}), vec({2})};
    p.klPolicy = vec({-5, -6});
    p.klRef = vec({-5.5, -5.8});
    return p;
}

PairwiseOptions optionsFor(const QString& name, double beta) {
    PairwiseOptions o;
    o.beta = beta;
    if (name == "rpo") {
        o.method = PairwiseMethod::Dpo;
        o.rpoAlpha = 0.5;
    } else {
        o.method = *pairwiseMethodFromName(name.toStdString());
    }
    o.orpoLambda = 0.1;
    o.simpoGamma = 0.5;
    return o;
}

}  // namespace

class TestNewMethods : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { configureComputeThreads(); }

    void pairwiseHandComputed_data() {
        QTest::addColumn<QString>("name");
        QTest::addColumn<std::vector<double>>("in");  // pc, pr, rc, rr, beta
        QTest::addColumn<double>("expected");
        const std::vector<double> c1{-10, -12, -11, -11, 0.1}, c2{-20, -3, -10, -10, 0.5}, c3{-7.5, -9.25, -8, -8.5, 2.0};
        // Python: simpo -log s(b (pc/4 - pr/2) - 0.5); orpo -pc/4 - 0.1 log s(log odds);
        // kto 1/2 [(1 - s(b (pc - rc - z))) + (1 - s(b (z - (pr - rr))))]; rpo dpo + 0.5 (-pc/4).
        const std::vector<std::pair<const char*, std::array<double, 3>>> table = {
            {"simpo", {0.770957047789532, 2.350206558916747, 0.006715348489118068}},
            {"orpo", {2.5027408442938954, 5.376906568344657, 1.8803218510921322}},
            {"kto", {0.47502221404114314, 0.9811322620687679, 0.23683164636616078}},
            {"rpo", {1.8481388693815917, 11.00020344767213, 1.0163897342925496}},
        };
        for (const auto& [name, values] : table) {
            QTest::newRow(qPrintable(QString("%1 1").arg(name))) << QString(name) << c1 << values[0];
            QTest::newRow(qPrintable(QString("%1 2").arg(name))) << QString(name) << c2 << values[1];
            QTest::newRow(qPrintable(QString("%1 3").arg(name))) << QString(name) << c3 << values[2];
        }
    }

    void pairwiseHandComputed() {
        QFETCH(QString, name);
        QFETCH(std::vector<double>, in);
        QFETCH(double, expected);
        const LossOutput out = pairwiseLoss(optionsFor(name, in[4]), fixedLogps(in));
        QVERIFY2(std::abs(out.loss.item<double>() - expected) < 1e-12,
                 qPrintable(QString("%1 vs %2").arg(out.loss.item<double>(), 0, 'g', 17).arg(expected, 0, 'g', 17)));
        auto logged = [&](const char* key) {
            for (const auto& [k, v] : out.metrics) {
                if (k == key) return true;
            }
            return false;
        };
        QVERIFY(logged("loss"));
        QCOMPARE(logged("nll_loss"), name == "orpo" || name == "rpo");
        QCOMPARE(logged("log_odds_ratio"), name == "orpo");
        QCOMPARE(logged("kl"), name == "kto");
    }

    void ktoReferencePointIsNeverNegative() {
        PairLogps p = fixedLogps({-10, -12, -11, -11});
        QCOMPARE(ktoReferencePoint(p).item<double>(), 0.15);
        p.klRef = vec({-4, -5});  // the policy below the reference on these: KL estimate < 0
        QCOMPARE(ktoReferencePoint(p).item<double>(), 0.0);
        p.klPolicy = at::Tensor();
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, ktoReferencePoint(p));
    }

    // d loss / d (c_w, c_l, c_ref,w, c_ref,l) by autograd = central differences.
    void gradientsMatchFiniteDifferences_data() {
        QTest::addColumn<QString>("name");
        for (const char* n : {"simpo", "orpo", "kto", "rpo"}) QTest::newRow(n) << QString(n);
    }
    void gradientsMatchFiniteDifferences() {
        QFETCH(QString, name);
        const PairwiseOptions o = optionsFor(name, 0.3);
        const std::vector<double> base{-10.0, -12.5, -11.0, -10.0};
        at::Tensor t[4];
        for (int k = 0; k < 4; ++k) t[k] = vec({base[static_cast<size_t>(k)]}, true);
        PairLogps p = fixedLogps(base);
        p.policyChosen = t[0], p.policyRejected = t[1], p.refChosen = t[2], p.refRejected = t[3];
        pairwiseLoss(o, p).loss.backward();
        const double h = 1e-6;
        for (int k = 0; k < 4; ++k) {
            std::vector<double> plus = base, minus = base;
            plus[static_cast<size_t>(k)] += h;
            minus[static_cast<size_t>(k)] -= h;
            const double fd = (pairwiseLoss(o, fixedLogps(plus)).loss.item<double>() -
                               pairwiseLoss(o, fixedLogps(minus)).loss.item<double>()) / (2 * h);
            const double ag = t[k].grad().defined() ? t[k].grad().item<double>() : 0.0;
            QVERIFY2(std::abs(fd - ag) < 1e-7, qPrintable(QString("input %1: fd %2 autograd %3").arg(k).arg(fd).arg(ag)));
        }
    }

    void referenceFreeMethodsIgnoreTheReference() {
        for (const char* n : {"simpo", "orpo"}) {
            const auto a = pairwiseLoss(optionsFor(n, 0.5), fixedLogps({-8, -9, -3, -20})).loss.item<double>();
            const auto b = pairwiseLoss(optionsFor(n, 0.5), fixedLogps({-8, -9, -30, -2})).loss.item<double>();
            QCOMPARE(a, b);
        }
    }

    void groupAdvantagesByHand() {
        const at::Tensor r = vec({1, 2, 3, 4, 4, 4});  // two groups of 3
        // GRPO, group scale: (r - mean) / (unbiased std + 1e-4); group 1 std 1, group 2 std 0.
        const at::Tensor grpo = groupAdvantages(r, 3, GroupBaseline::Mean, RewardScale::Group);
        const std::vector<double> g{-1 / 1.0001, 0, 1 / 1.0001, 0, 0, 0};
        for (int i = 0; i < 6; ++i) QVERIFY(std::abs(grpo[i].item<double>() - g[static_cast<size_t>(i)]) < 1e-12);
        // Unscaled: r - mean.
        const at::Tensor none = groupAdvantages(r, 3, GroupBaseline::Mean, RewardScale::None);
        QCOMPARE(none[0].item<double>(), -1.0);
        // Batch scale: the whole batch's unbiased std, sqrt(1.6) here.
        const at::Tensor batch = groupAdvantages(r, 3, GroupBaseline::Mean, RewardScale::Batch);
        QVERIFY(std::abs(batch[2].item<double>() - 1.0 / (std::sqrt(1.6) + 1e-4)) < 1e-12);
        // RLOO: r_i - mean of the others: 1 - 2.5, 2 - 2, 3 - 1.5.
        const at::Tensor loo = groupAdvantages(r, 3, GroupBaseline::LeaveOneOut, RewardScale::None);
        QCOMPARE(loo[0].item<double>(), -1.5);
        QCOMPARE(loo[1].item<double>(), 0.0);
        QCOMPARE(loo[2].item<double>(), 1.5);
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, groupAdvantages(r, 4, GroupBaseline::Mean, RewardScale::None));
        const GroupStats s = groupStats(r, 3);
        QCOMPARE(s.meanReward, 3.0);
        QCOMPARE(s.meanGroupStd, 0.5);
        QCOMPARE(s.zeroStdShare, 0.5);
    }

    // The surrogates' expected gradient, by enumerating every group of k
    // one-token samples of a 3-token categorical policy, against the exact
    // gradient of E[r] = sum_v pi_v r_v, which is pi (r - E[r]).
    void expectedGradientsByEnumeration_data() {
        QTest::addColumn<bool>("rloo");
        QTest::addColumn<int>("k");
        QTest::addColumn<double>("factor");
        QTest::newRow("rloo k=2: unbiased") << true << 2 << 1.0;
        QTest::newRow("rloo k=3: unbiased") << true << 3 << 1.0;
        QTest::newRow("grpo unscaled k=3: (k-1)/k") << false << 3 << 2.0 / 3.0;
    }
    void expectedGradientsByEnumeration() {
        QFETCH(bool, rloo);
        QFETCH(int, k);
        QFETCH(double, factor);
        const std::vector<double> R{1.0, -0.5, 2.0};
        const at::Tensor theta0 = vec({0.3, -0.2, 0.1});
        const at::Tensor pi = at::softmax(theta0, 0);
        const double er = (pi * vec(R)).sum().item<double>();
        at::Tensor expected = at::zeros({3}, at::kDouble);
        const int V = 3;
        int tuples = 1;
        for (int i = 0; i < k; ++i) tuples *= V;
        for (int t = 0; t < tuples; ++t) {
            std::vector<int64_t> ys;
            for (int i = 0, x = t; i < k; ++i, x /= V) ys.push_back(x % V);
            const at::Tensor theta = theta0.clone().set_requires_grad(true);
            const at::Tensor logp = at::log_softmax(theta, 0).index_select(0, at::tensor(ys, at::kLong)).unsqueeze(1);
            std::vector<double> rs;
            double prob = 1;
            for (int64_t y : ys) {
                rs.push_back(R[static_cast<size_t>(y)]);
                prob *= pi[y].item<double>();
            }
            const at::Tensor mask = at::ones({k, 1}, at::kDouble);
            const at::Tensor adv = groupAdvantages(vec(rs), k, rloo ? GroupBaseline::LeaveOneOut : GroupBaseline::Mean,
                                                   RewardScale::None);
            const GroupLoss gl = rloo ? sequenceClippedLoss(logp, logp.detach(), adv, mask, 0.2)
                                      : groupTokenLoss(logp, logp.detach(), at::Tensor(), adv, mask, 0.2, 0.0,
                                                       GroupLossType::Grpo, 1);
            gl.loss.backward();
            expected = expected + prob * theta.grad();
        }
        for (int v = 0; v < V; ++v) {
            // The loss is minus the objective; RLOO and GRPO average over the group's k samples.
            const double exact = pi[v].item<double>() * (R[static_cast<size_t>(v)] - er);
            const double got = -expected[v].item<double>();
            QVERIFY2(std::abs(got - factor * exact) < 1e-12,
                     qPrintable(QString("token %1: %2 vs %3 x %4").arg(v).arg(got).arg(factor).arg(exact)));
        }
    }

    void tokenLossAggregationAndClipping() {
        // Two sequences, lengths 2 and 1 (mask), advantages +1 and -1.
        const at::Tensor mask = vec({1, 1, 1, 0}).reshape({2, 2});
        const at::Tensor old = at::zeros({2, 2}, at::kDouble);
        const at::Tensor logp = vec({std::log(1.5), 0.0, std::log(0.5), 0.0}).reshape({2, 2});
        const at::Tensor adv = vec({1, -1});
        // Per token: -min(rho A, clip(rho) A): seq 1: -1.2 (clipped above), -1; seq 2: 0.8 (clipped below: -min(-0.5, -0.8)).
        const auto dapo = groupTokenLoss(logp, old, at::Tensor(), adv, mask, 0.2, 0, GroupLossType::Dapo, 8);
        QVERIFY(std::abs(dapo.loss.item<double>() - (-1.2 - 1.0 + 0.8) / 3) < 1e-12);
        const auto grpo = groupTokenLoss(logp, old, at::Tensor(), adv, mask, 0.2, 0, GroupLossType::Grpo, 8);
        QVERIFY(std::abs(grpo.loss.item<double>() - ((-2.2 / 2) + 0.8) / 2) < 1e-12);
        const auto dr = groupTokenLoss(logp, old, at::Tensor(), adv, mask, 0.2, 0, GroupLossType::DrGrpo, 8);
        QVERIFY(std::abs(dr.loss.item<double>() - (-1.4) / 16) < 1e-12);
        QVERIFY(std::abs(dapo.clipHigh - 1.0 / 3) < 1e-12);
        QVERIFY(std::abs(dapo.clipLow - 1.0 / 3) < 1e-12);
        QVERIFY(std::abs(dapo.clipRegion - 2.0 / 3) < 1e-12);
        // The k3 term: with ref = logp it is 0; with ref = logp - 1, k3 = e^-1 + 1 - 1 per token.
        const auto same = groupTokenLoss(logp, old, logp, adv, mask, 0.2, 0.5, GroupLossType::Dapo, 8);
        QCOMPARE(same.kl, 0.0);
        const auto off = groupTokenLoss(logp, old, logp - 1.0, adv, mask, 0.2, 0.5, GroupLossType::Dapo, 8);
        QVERIFY(std::abs(off.kl - std::exp(-1.0)) < 1e-12);
        QVERIFY(std::abs(off.loss.item<double>() - (dapo.loss.item<double>() + 0.5 * std::exp(-1.0))) < 1e-12);
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                                 groupTokenLoss(logp, old, at::Tensor(), adv, mask, 0.2, 0.5, GroupLossType::Dapo, 8));
    }

    // Each method trains on the tiny model with the task judge and logs its metrics.
    void methodsTrain_data() {
        QTest::addColumn<QString>("name");
        for (const char* n : {"grpo", "rloo", "kto", "orpo", "simpo"}) QTest::newRow(n) << QString(n);
        QTest::newRow("dpo + rpo_alpha") << QString("dpo");
    }
    void methodsTrain() {
        QFETCH(QString, name);
        QTemporaryDir dir;
        RunConfig c;
        c.algorithm = name.toStdString();
        if (QString(QTest::currentDataTag()) == "dpo + rpo_alpha") c.rpoAlpha = 1.0;
        c.numGenerations = 4;
        const Collector r = runLoop(dir, c, 3);
        QCOMPARE(r.series.at("loss").size(), size_t(3));
        for (double v : r.series.at("loss")) QVERIFY(std::isfinite(v));
        if (name == "grpo" || name == "rloo") {
            for (const char* key : {"reward", "reward_std", "frac_reward_zero_std", "kl", "clip_ratio/region_mean",
                                    "completions/mean_length", "gold/rollout_reward"}) {
                QVERIFY2(r.series.count(key) == 1, key);
            }
            for (double share : r.series.at("frac_reward_zero_std")) QVERIFY(share >= 0 && share <= 1);
            // One pass per batch (TRL's default): the ratio is 1, nothing is clipped.
            for (double clipped : r.series.at("clip_ratio/region_mean")) QCOMPARE(clipped, 0.0);
        }
        if (c.rpoAlpha > 0 || name == "orpo") QVERIFY(r.series.count("nll_loss") == 1);
        if (name == "kto") QVERIFY(r.series.count("kl") == 1);
    }

    // KTO on unpaired examples: each side with its own prompt (the stored
    // thumbs labels, offline_pairs.h); the loss falls on a fixed dataset.
    void ktoTrainsOnUnpairedExamples() {
        QTemporaryDir dir;
        RunConfig c;
        c.algorithm = "kto";
        c.lr = 3e-3;
        c.batchSize = 4;
        LoopData data;
        for (int i = 0; i < 8; ++i) {
            OfflinePair p;
            p.prompt = "Tell me about the fox " + std::to_string(i) + ".";
            p.chosen = "The fox is friendly.";
            p.rejectedPrompt = "Where is the owl " + std::to_string(i) + "?";
            p.rejected = "Ugh, fine. The owl is grumpy.";
            data.offline.push_back(p);
        }
        c.pairs = kUnpairedSource;
        const Collector r = runLoop(dir, c, 12, data);
        const auto& loss = r.series.at("loss");
        QCOMPARE(loss.size(), size_t(12));
        QVERIFY2(loss.back() < loss.front(), qPrintable(QString("%1 -> %2").arg(loss.front()).arg(loss.back())));
        QVERIFY(r.series.count("kl") == 1);
    }

    // The tiny model's short samples all score the same under the task's
    // reward: every group ties, every advantage is 0, nothing is learned
    // (TRL's zero-reward-spread runs), and the run says so.
    void tiedGroupsTeachNothingAndWarn() {
        QTemporaryDir dir;
        RunConfig c;
        c.algorithm = "grpo";
        c.numGenerations = 4;
        c.groupEpochs = 2;
        c.lr = 3e-2;
        const Collector r = runLoop(dir, c, 3);
        for (double share : r.series.at("frac_reward_zero_std")) QCOMPARE(share, 1.0);
        for (double v : r.series.at("loss")) QCOMPARE(v, 0.0);
        for (double v : r.series.at("clip_ratio/region_mean")) QCOMPARE(v, 0.0);  // no gradient: the ratio stays 1
        RunWarningMonitor monitor;
        std::vector<RunWarning> warnings;
        int64_t step = 0;
        for (double share : r.series.at("frac_reward_zero_std")) {
            for (RunWarning& w : monitor.observe({{++step, "frac_reward_zero_std", share, 0}})) warnings.push_back(w);
        }
        QCOMPARE(warnings.size(), size_t(1));
        QCOMPARE(warnings[0].kind, std::string("flat_rewards"));
        QCOMPARE(warnings[0].step, int64_t(3));
        // Half the groups tied is not most of them.
        RunWarningMonitor half;
        for (int s = 1; s <= 5; ++s) QVERIFY(half.observe({{s, "frac_reward_zero_std", 0.5, 0}}).empty());
    }
};

PREFLAB_TEST_MAIN(TestNewMethods)
#include "tst_new_methods.moc"
