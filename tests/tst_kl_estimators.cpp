#include "core/algo/kl_estimators.h"
#include "core/nn/sampler.h"
#include "support/test_main.h"
#include "support/tiny_model.h"

#include <cmath>

using namespace preflab;
using namespace preflab::test;

namespace {

// Samples n responses from `policy` and returns the per-sequence KL terms against `ref`.
KlPerSequence sampleKl(Transformer& policy, Transformer& ref, int n, uint64_t seed) {
    std::vector<TokenIds> prompts;
    std::vector<uint64_t> seeds;
    for (int i = 0; i < n; ++i) {
        prompts.push_back({256, static_cast<int32_t>(65 + i % 5), 259});
        seeds.push_back(seed * 1000003ull + static_cast<uint64_t>(i));
    }
    SamplingParams sp;
    sp.maxNewTokens = 6;
    const SampledSequences s = sampleBatch(policy, prompts, sp, seeds, 257, 258);
    torch::NoGradGuard g;
    const SequenceBatch b = packSequences(prompts, s.tokens, 258);
    return klPerSequence(policy->forward(b.ids, b.attention), ref->forward(b.ids, b.attention), b);
}

}  // namespace

class TestKlEstimators : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { configureComputeThreads(); }

    void zeroWhenPolicyIsReference() {
        Transformer policy = tinyModel(1);
        Transformer ref = cloneTransformer(policy);
        const KlPerSequence kl = sampleKl(policy, ref, 32, 1);
        QCOMPARE(kl.k1.abs().max().item<double>(), 0.0);
        QCOMPARE(kl.k3.abs().max().item<double>(), 0.0);
        QVERIFY(kl.exact.abs().max().item<double>() < 1e-12);
        QVERIFY(kl.entropy.min().item<double>() > 0.0);
    }

    // k3 is never negative; k1 can be; both are unbiased for the exact KL:
    // their means over many samples match it within Monte-Carlo error.
    void unbiasedAndNonNegative() {
        Transformer policy = tinyModel(2);
        Transformer ref = cloneTransformer(policy);
        {
            torch::NoGradGuard g;
            for (auto& p : ref->parameters()) p.add_(at::randn_like(p) * 0.3);
        }
        const KlPerSequence kl = sampleKl(policy, ref, 4000, 9);
        QVERIFY(kl.k3.min().item<double>() >= 0.0);
        QVERIFY2(kl.k1.min().item<double>() < 0.0, "k1 should be negative on some samples");
        const double n = static_cast<double>(kl.k3.size(0));
        const double exact = kl.exact.mean().item<double>();
        QVERIFY(exact > 0.05);  // the distributions really differ
        for (const at::Tensor& est : {kl.k1, kl.k3}) {
            const double mean = est.mean().item<double>();
            // The per-sample estimate's mean is compared with the per-sample
            // exact KL's mean; their difference has standard error below:
            const double se = (est - kl.exact).std().item<double>() / std::sqrt(n);
            QVERIFY2(std::abs(mean - exact) < 4.0 * se,
                     qPrintable(QString("estimate %1, exact %2, 4 SE %3").arg(mean).arg(exact).arg(4 * se)));
        }
    }

    void estimatorNames() {
        QVERIFY(parseKlEstimator("k3") == KlEstimator::K3);
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, parseKlEstimator("k2"));
    }
};

PREFLAB_TEST_MAIN(TestKlEstimators)
#include "tst_kl_estimators.moc"
