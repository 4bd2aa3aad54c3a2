#include "core/algo/pairwise_loss.h"
#include "core/loop/held_out_preferences.h"
#include "core/nn/sequence_batch.h"
#include "support/test_main.h"
#include "support/tiny_model.h"

#include <cmath>

using namespace preflab;
using namespace preflab::test;

namespace {

double metric(const LossOutput& out, const std::string& name) {
    for (const auto& [n, v] : out.metrics) {
        if (n == name) return v;
    }
    return NAN;
}

at::Tensor vec(std::initializer_list<double> v) {
    return at::tensor(std::vector<double>(v), at::kDouble);
}

// Two preference pairs for the tiny model (prompt, chosen, rejected).
struct Pairs {
    std::vector<TokenIds> prompts{{256, 10, 11, 259}, {256, 12, 259}};
    std::vector<TokenIds> chosen{{20, 21, 257}, {22, 257}};
    std::vector<TokenIds> rejected{{30, 257}, {31, 32, 33, 257}};
};

// DPO loss of the model on the pairs, with reference log-probs fixed.
at::Tensor dpoLoss(Transformer& model, const Pairs& p, const at::Tensor& refC, const at::Tensor& refR, double beta) {
    const SequenceBatch c = packSequences(p.prompts, p.chosen, 258);
    const SequenceBatch r = packSequences(p.prompts, p.rejected, 258);
    const at::Tensor lc = sequenceLogprobs(model->forward(c.ids, c.attention), c);
    const at::Tensor lr = sequenceLogprobs(model->forward(r.ids, r.attention), r);
    return pairwiseLoss({PairwiseMethod::Dpo, beta}, {lc, lr, refC, refR}).loss;
}

}  // namespace

class TestPreferenceLosses : public QObject {
    Q_OBJECT
private Q_SLOTS:
    // The held-out statistics by hand: beta 0.5; pair 0 margin
    // 0.5 * ((-1 + 2) - (-3 + 2)) = 1, pair 1 0.5 * (0 - 1) = -0.5, pair 2 a
    // tie (0, not counted as correct). Mean margin 1/6, accuracy 1/3.
    void heldOutStatsByHand() {
        const HeldOutStats s = heldOutStats({-1, -2, -4}, {-3, -1, -5}, {-2, -2, -4}, {-2, -2, -5}, 0.5);
        QCOMPARE(s.margin, 0.5 / 3.0);
        QCOMPARE(s.accuracy, 1.0 / 3.0);
        const HeldOutStats none = heldOutStats({}, {}, {}, {}, 0.1);
        QCOMPARE(none.accuracy, 0.0);
    }

    void initTestCase() { configureComputeThreads(); }

    // Values computed by hand: loss = log(1 + exp(-beta h)).
    void dpoHandComputed_data() {
        QTest::addColumn<double>("pc");
        QTest::addColumn<double>("pr");
        QTest::addColumn<double>("rc");
        QTest::addColumn<double>("rr");
        QTest::addColumn<double>("beta");
        QTest::addColumn<double>("loss");
        QTest::addColumn<double>("accuracy");
        QTest::newRow("h=2") << -10.0 << -12.0 << -11.0 << -11.0 << 0.1 << 0.5981388693815918 << 1.0;
        QTest::newRow("h=0 (tie)") << -5.0 << -5.0 << -5.0 << -5.0 << 0.1 << 0.6931471805599453 << 0.0;
        QTest::newRow("h=-17") << -20.0 << -3.0 << -10.0 << -10.0 << 0.5 << 8.50020344767213 << 0.0;
        QTest::newRow("h=1.25") << -7.5 << -9.25 << -8.0 << -8.5 << 2.0 << 0.07888973429254963 << 1.0;
    }
    void dpoHandComputed() {
        QFETCH(double, pc);
        QFETCH(double, pr);
        QFETCH(double, rc);
        QFETCH(double, rr);
        QFETCH(double, beta);
        QFETCH(double, loss);
        QFETCH(double, accuracy);
        const LossOutput out = pairwiseLoss({PairwiseMethod::Dpo, beta}, {vec({pc}), vec({pr}), vec({rc}), vec({rr})});
        QVERIFY(std::abs(out.loss.item<double>() - loss) < 1e-12);
        QVERIFY(std::abs(metric(out, "loss") - loss) < 1e-12);
        QVERIFY(std::abs(metric(out, "rewards/chosen") - beta * (pc - rc)) < 1e-12);
        QVERIFY(std::abs(metric(out, "rewards/rejected") - beta * (pr - rr)) < 1e-12);
        QVERIFY(std::abs(metric(out, "rewards/margins") - beta * ((pc - rc) - (pr - rr))) < 1e-12);
        QCOMPARE(metric(out, "rewards/accuracies"), accuracy);
        QCOMPARE(metric(out, "logps/chosen"), pc);
        QCOMPARE(metric(out, "logps/rejected"), pr);
    }

    void batchMeanOverPairs() {
        const LossOutput out = pairwiseLoss({PairwiseMethod::Dpo, 0.1}, {vec({-10, -5}), vec({-12, -5}), vec({-11, -5}),
                                                                         vec({-11, -5})});
        QVERIFY(std::abs(out.loss.item<double>() - (0.5981388693815918 + 0.6931471805599453) / 2) < 1e-12);
        QCOMPARE(metric(out, "rewards/accuracies"), 0.5);
    }

    // Policy = reference: loss ln 2, accuracies 0, margins 0.
    void atInitialisation() {
        Transformer policy = tinyModel(3, at::kDouble);
        Transformer ref = cloneTransformer(policy);
        Pairs p;
        torch::NoGradGuard g;
        const SequenceBatch c = packSequences(p.prompts, p.chosen, 258);
        const SequenceBatch r = packSequences(p.prompts, p.rejected, 258);
        const at::Tensor refC = sequenceLogprobs(ref->forward(c.ids, c.attention), c);
        const at::Tensor refR = sequenceLogprobs(ref->forward(r.ids, r.attention), r);
        const LossOutput out = pairwiseLoss({PairwiseMethod::Dpo, 0.1},
                                            {sequenceLogprobs(policy->forward(c.ids, c.attention), c),
                                             sequenceLogprobs(policy->forward(r.ids, r.attention), r), refC, refR});
        QVERIFY(std::abs(metric(out, "loss") - std::log(2.0)) < 1e-12);
        QCOMPARE(metric(out, "rewards/accuracies"), 0.0);
        QVERIFY(std::abs(metric(out, "rewards/margins")) < 1e-12);
    }

    // The autograd gradient of the DPO loss equals central finite differences
    // (double precision), and the spec's closed form -beta s(-beta h)(grad c_w - grad c_l).
    void gradientMatchesFiniteDifferences() {
        Transformer policy = tinyModel(5, at::kDouble);
        Transformer ref = cloneTransformer(policy);
        {
            torch::NoGradGuard g;  // move the policy away from the reference so h != 0
            for (auto& prm : policy->parameters()) prm.add_(at::randn_like(prm) * 0.05);
        }
        Pairs p;
        const double beta = 0.7;
        at::Tensor refC, refR;
        {
            torch::NoGradGuard g;
            const SequenceBatch c = packSequences(p.prompts, p.chosen, 258);
            const SequenceBatch r = packSequences(p.prompts, p.rejected, 258);
            refC = sequenceLogprobs(ref->forward(c.ids, c.attention), c);
            refR = sequenceLogprobs(ref->forward(r.ids, r.attention), r);
        }
        policy->zero_grad();
        dpoLoss(policy, p, refC, refR, beta).backward();

        // Closed form, per pair, from separate gradients of c_w and c_l.
        auto params = policy->named_parameters();
        const std::string probe = "block1.fc.weight";
        const at::Tensor autogradGrad = params[probe].grad().clone();
        at::Tensor closed = at::zeros_like(autogradGrad);
        for (size_t i = 0; i < p.prompts.size(); ++i) {
            const SequenceBatch c = packSequences({p.prompts[i]}, {p.chosen[i]}, 258);
            const SequenceBatch r = packSequences({p.prompts[i]}, {p.rejected[i]}, 258);
            policy->zero_grad();
            sequenceLogprobs(policy->forward(c.ids, c.attention), c).sum().backward();
            const at::Tensor gc = params[probe].grad().clone();
            policy->zero_grad();
            sequenceLogprobs(policy->forward(r.ids, r.attention), r).sum().backward();
            const at::Tensor gr = params[probe].grad().clone();
            torch::NoGradGuard g;
            const double cw = sequenceLogprobs(policy->forward(c.ids, c.attention), c).item<double>();
            const double cl = sequenceLogprobs(policy->forward(r.ids, r.attention), r).item<double>();
            const double h = (cw - refC[i].item<double>()) - (cl - refR[i].item<double>());
            const double sigmaNeg = 1.0 / (1.0 + std::exp(beta * h));
            closed += -beta * sigmaNeg * (gc - gr) / static_cast<double>(p.prompts.size());
        }
        QVERIFY2(at::allclose(closed, autogradGrad, 1e-9, 1e-12), "closed form differs from autograd");

        // Finite differences on entries of several tensors.
        torch::NoGradGuard g;
        const double eps = 1e-6;
        int checked = 0;
        for (const std::string name : {"tokens.weight", "block0.qkv.weight", "block1.fc.weight", "block1.ln2.bias",
                                       "positions.weight", "ln_final.weight"}) {
            at::Tensor w = params[name];
            policy->zero_grad();
            {
                torch::AutoGradMode on(true);
                dpoLoss(policy, p, refC, refR, beta).backward();
            }
            const at::Tensor grad = w.grad().clone().flatten();
            at::Tensor flat = w.view({-1});
            // The entries with the largest gradient, so the check is not vacuous.
            const at::Tensor top = std::get<1>(grad.abs().topk(3));
            for (int k = 0; k < 3; ++k) {
                const int64_t idx = top[k].item<int64_t>();
                const double orig = flat[idx].item<double>();
                flat[idx] = orig + eps;
                const double up = dpoLoss(policy, p, refC, refR, beta).item<double>();
                flat[idx] = orig - eps;
                const double down = dpoLoss(policy, p, refC, refR, beta).item<double>();
                flat[idx] = orig;
                const double fd = (up - down) / (2 * eps);
                const double ag = grad[idx].item<double>();
                QVERIFY2(std::abs(ag) > 1e-8, qPrintable(QString("%1: zero gradient").arg(name.c_str())));
                QVERIFY2(std::abs(fd - ag) <= 1e-6 * std::max(1.0, std::abs(ag)),
                         qPrintable(QString("%1[%2]: autograd %3, finite difference %4").arg(name.c_str()).arg(idx).arg(ag).arg(fd)));
                ++checked;
            }
        }
        QCOMPARE(checked, 18);
    }
};

PREFLAB_TEST_MAIN(TestPreferenceLosses)
#include "tst_preference_losses.moc"
