// PPO's and CPO's pieces against hand-worked examples (algorithms.md §6):
// GAE on a 3-step example (and a padded row), the clip fraction on
// constructed ratios, the value loss's clipping, shaped rewards; CPO weights
// all equal when the policy is the presenting policy, DR-CPO = CPO when the
// outcome model is zero, weight diagnostics, and pessimistic clipping; the
// OO-RLHF / DR-CPO direct term's gradient against exact enumeration.
#include "core/algo/causal_preference.h"
#include "core/algo/ppo_terms.h"
#include "support/test_main.h"

#include <torch/csrc/autograd/autograd.h>

#include <cmath>

using namespace preflab;

namespace {

at::Tensor t2(std::vector<std::vector<double>> rows) {
    std::vector<at::Tensor> r;
    for (auto& row : rows) r.push_back(at::tensor(row, at::kDouble));
    return at::stack(r);
}

at::Tensor t1(std::vector<double> v) {
    return at::tensor(v, at::kDouble);
}

bool close(double a, double b, double tol = 1e-12) {
    return std::abs(a - b) < tol;
}

}  // namespace

class TestPpoAndCpo : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void gaeHandWorked_data() {
        QTest::addColumn<double>("gamma");
        QTest::addColumn<double>("lambda");
        QTest::addColumn<std::vector<double>>("expected");
        // r = [1, 0, 2], V = [0.5, 1.0, 1.5], V after the end = 0.
        // gamma 1, lambda 0.95: delta = [1.5, 0.5, 0.5]; A2 = 0.5, A1 = 0.5 + 0.95*0.5, A0 = 1.5 + 0.95*A1.
        QTest::newRow("gamma 1, lambda 0.95") << 1.0 << 0.95 << std::vector<double>{2.42625, 0.975, 0.5};
        // gamma 0.9, lambda 0.8: delta = [1.4, 0.35, 0.5]; A1 = 0.35 + 0.72*0.5, A0 = 1.4 + 0.72*A1.
        QTest::newRow("gamma 0.9, lambda 0.8") << 0.9 << 0.8 << std::vector<double>{1.9112, 0.71, 0.5};
    }

    void gaeHandWorked() {
        QFETCH(double, gamma);
        QFETCH(double, lambda);
        QFETCH(std::vector<double>, expected);
        const at::Tensor rewards = t2({{1, 0, 2}, {0, 1, 99}});
        const at::Tensor values = t2({{0.5, 1.0, 1.5}, {0.2, 0.4, 99}});
        const at::Tensor mask = t2({{1, 1, 1}, {1, 1, 0}});  // the second row ends after 2 tokens
        const at::Tensor a = generalizedAdvantages(rewards, values, mask, gamma, lambda);
        for (int64_t t = 0; t < 3; ++t) {
            QVERIFY2(close(a[0][t].item<double>(), expected[static_cast<size_t>(t)]),
                     qPrintable(QString("t=%1: %2").arg(t).arg(a[0][t].item<double>(), 0, 'g', 17)));
        }
        // Padded row: delta1 = 1 - 0.4, delta0 = 0 + gamma 0.4 - 0.2; nothing from the padding.
        const double d1 = 1 - 0.4, d0 = gamma * 0.4 - 0.2;
        QVERIFY(close(a[1][1].item<double>(), d1));
        QVERIFY(close(a[1][0].item<double>(), d0 + gamma * lambda * d1));
        QCOMPARE(a[1][2].item<double>(), 0.0);
    }

    void clipFractionOnConstructedRatios() {
        // ratios 0.5, 0.9, 1.0, 1.1, 1.5, 0.5 with advantages 1, 1, -1, -1, 1, -1; clip 0.2.
        const std::vector<double> ratios{0.5, 0.9, 1.0, 1.1, 1.5, 0.5};
        std::vector<double> logp;
        for (double r : ratios) logp.push_back(std::log(r));
        const at::Tensor lp = t2({logp}), old = at::zeros_like(lp), adv = t2({{1, 1, -1, -1, 1, -1}}), mask = at::ones_like(lp);
        const PolicyLoss l = clippedPolicyLoss(lp, old, adv, mask, 0.2);
        // The clipped branch is the larger only at 1.5 (A > 0) and the second 0.5 (A < 0).
        QVERIFY(close(l.clipFraction, 2.0 / 6.0));
        // max(-A r, -A clip(r)): [-0.5, -0.9, 1.0, 1.1, -1.2, 0.8]
        QVERIFY(close(l.loss.item<double>(), (-0.5 - 0.9 + 1.0 + 1.1 - 1.2 + 0.8) / 6.0));
        double kl = 0;
        for (double x : logp) kl += 0.5 * x * x / 6.0;
        QVERIFY(close(l.approxKl, kl));
        // Masked tokens count for nothing.
        const at::Tensor half = t2({{1, 1, 1, 0, 0, 0}});
        QVERIFY(close(clippedPolicyLoss(lp, old, adv, half, 0.2).loss.item<double>(), (-0.5 - 0.9 + 1.0) / 3.0));
    }

    void valueLossClips() {
        // V_old 1, G 2: V = 1.5 moves within the clip; V = 3 beyond it (the clipped value 1.2 is worse).
        const at::Tensor old = t2({{1, 1}}), ret = t2({{2, 2}}), v = t2({{1.5, 3}}), mask = t2({{1, 1}});
        const ValueLoss l = clippedValueLoss(v, old, ret, mask, 0.2);
        // token 0: max(0.25, (1.2-2)^2 = 0.64) = 0.64; token 1: max(1, 0.64) = 1.
        QVERIFY(close(l.loss.item<double>(), 0.5 * (0.64 + 1.0) / 2.0));
        QVERIFY(close(l.clipFraction, 0.5));
    }

    void shapedRewardsAddTheScoreAtTheEnd() {
        const at::Tensor kl = t2({{0.1, -0.2, 0.3}, {0.5, 0.5, 7}});
        const at::Tensor mask = t2({{1, 1, 1}, {1, 1, 0}});
        const at::Tensor r = shapedRewards(t1({2.0, -10.0}), kl, mask, 0.05);
        QVERIFY(close(r[0][0].item<double>(), -0.005));
        QVERIFY(close(r[0][2].item<double>(), -0.015 + 2.0));
        QVERIFY(close(r[1][1].item<double>(), -0.025 - 10.0));
        QCOMPARE(r[1][2].item<double>(), 0.0);
    }

    void whitenedAdvantages() {
        const at::Tensor x = t2({{1, 2, 3}, {4, 5, 99}}), mask = t2({{1, 1, 1}, {1, 1, 0}});
        const at::Tensor w = whiten(x, mask);
        QVERIFY(std::abs((w * mask).sum().item<double>()) < 1e-9);
        QVERIFY(std::abs((w.pow(2) * mask).sum().item<double>() / 5.0 - 1.0) < 1e-6);
        QCOMPARE(w[1][2].item<double>(), 0.0);
    }

    void cpoWeightsEqualWhenPolicyIsThePresenter() {
        const at::Tensor logp = t1({-12.5, -3.0, -40.0, -7.25});
        const at::Tensor w = selfNormalizedWeights(logp, logp);
        for (int64_t i = 0; i < 4; ++i) QVERIFY(close(w[i].item<double>(), 1.0));
        const WeightDiagnostics d = weightDiagnostics(w);
        QVERIFY(close(d.effectiveSampleSize, 4.0));
        QVERIFY(close(d.maxWeight, 1.0));
        // Then CPO is the plain mean outcome.
        QVERIFY(close(cpoObjective(w, t1({1, 7, 3, 5})).item<double>(), 4.0));
    }

    void weightsFollowTheLogRatio() {
        // log ratios 0, ln 3: unnormalised 1 and 3, normalised to mean 1 -> 0.5, 1.5.
        const at::Tensor w = selfNormalizedWeights(t1({-2.0, -2.0 + std::log(3.0)}), t1({-2.0, -2.0}));
        QVERIFY(close(w[0].item<double>(), 0.5));
        QVERIFY(close(w[1].item<double>(), 1.5));
        QVERIFY(close(weightDiagnostics(w).effectiveSampleSize, 4.0 / (0.25 + 2.25)));
        // Pessimistic clipping: min(w A, clip(w, 0.8, 1.2) A) with A = [2, 2] -> [1.0, 2.4].
        QVERIFY(close(cpoObjective(w, t1({2, 2}), 0.2).item<double>(), (1.0 + 2.4) / 2.0));
    }

    void drCpoEqualsCpoWhenTheOutcomeModelIsZero() {
        const at::Tensor w = selfNormalizedWeights(t1({-1, -2, -3}), t1({-2, -2, -1}));
        const at::Tensor y = t1({6, 2, 5});
        const at::Tensor zeroData = at::zeros({3}, at::kDouble), zeroFresh = at::zeros({8}, at::kDouble);
        const at::Tensor freshLogp = t1({-1, -2, -3, -4, -5, -6, -7, -8});
        QVERIFY(close(drCpoObjective(w, y, zeroData, zeroFresh, freshLogp).value, cpoEstimate(w, y).value));
        QVERIFY(close(cpoEstimate(w, y).value, (w * y).mean().item<double>()));
        // With a perfect outcome model the correction term vanishes: the value is the model's mean on fresh samples.
        QVERIFY(close(drCpoObjective(w, y, y, t1({4, 5}), t1({-1, -2})).value, 4.5));
        QVERIFY(close(ooRlhfObjective(t1({4, 5}), t1({-1, -2})).value, 4.5));
    }

    // The direct term's surrogate is an unbiased estimate of the policy
    // gradient of E_{X ~ P}[g(X)]: averaged over every batch of n samples
    // (weighted by its probability) its gradient equals the exact gradient,
    // enumerated over a 3-outcome softmax policy. Centring on the batch mean
    // (the item included) gives (n-1)/n of it, and fails here.
    void directTermGradientIsUnbiased_data() {
        QTest::addColumn<int>("n");
        QTest::newRow("n = 2") << 2;
        QTest::newRow("n = 3") << 3;
    }

    void directTermGradientIsUnbiased() {
        QFETCH(int, n);
        const at::Tensor logits = t1({0.3, -0.5, 0.9}).requires_grad_(true);
        const std::vector<double> g = {1.0, -2.0, 4.0};
        const at::Tensor logp = at::log_softmax(logits, 0);
        const at::Tensor p = logp.exp();
        // Exact: d/dtheta sum_x p(x) g(x).
        const at::Tensor exact = torch::autograd::grad({(p * t1(g)).sum()}, {logits}, {}, true)[0];
        // Every batch (x_1..x_n) in {0,1,2}^n, weighted by prod p(x_i).
        at::Tensor expected = at::zeros({3}, at::kDouble);
        const int batches = static_cast<int>(std::pow(3, n));
        for (int code = 0; code < batches; ++code) {
            std::vector<int64_t> xs;
            for (int i = 0, c = code; i < n; ++i, c /= 3) xs.push_back(c % 3);
            std::vector<double> gs;
            double weight = 1.0;
            for (int64_t x : xs) {
                gs.push_back(g[x]);
                weight *= p[x].item<double>();
            }
            const at::Tensor batchLogp = logp.index_select(0, at::tensor(xs, at::kLong));
            const at::Tensor surrogate = ooRlhfObjective(t1(gs), batchLogp).surrogate;
            expected = expected + weight * torch::autograd::grad({surrogate}, {logits}, {}, true)[0];
        }
        for (int k = 0; k < 3; ++k) {
            QVERIFY2(close(expected[k].item<double>(), exact[k].item<double>(), 1e-12),
                     qPrintable(QString("component %1: %2 vs exact %3").arg(k).arg(expected[k].item<double>()).arg(exact[k].item<double>())));
        }
        // DR-CPO's direct term is the same term: with the correction zero
        // (g = Y at the data) its surrogate's gradient is the one above.
        const at::Tensor w = at::ones({2}, at::kDouble), y = t1({1, 2});
        const at::Tensor fresh = logp.index_select(0, at::tensor(std::vector<int64_t>{0, 2}, at::kLong));
        const at::Tensor viaDr = torch::autograd::grad({drCpoObjective(w, y, y, t1({1.0, 4.0}), fresh).surrogate}, {logits}, {}, true)[0];
        const at::Tensor viaOo = torch::autograd::grad({ooRlhfObjective(t1({1.0, 4.0}), fresh).surrogate}, {logits}, {}, true)[0];
        QVERIFY(at::allclose(viaDr, viaOo, 0, 1e-12));
    }
};

PREFLAB_TEST_MAIN(TestPpoAndCpo)
#include "tst_ppo_and_cpo.moc"
