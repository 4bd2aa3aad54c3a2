// The hand-written decode step (core/nn/fused_decoder) against LibTorch's
// forwardCached: the same logits to float rounding, step after step, on
// left-padded prompts of different lengths, with rows that feed padding after
// their EOS; the same samples through sampleBatch; and the models it must
// refuse (they decode through LibTorch).
#include "core/nn/fused_decoder.h"
#include "core/nn/lora_config.h"
#include "core/nn/sampler.h"
#include "support/test_main.h"
#include "support/tiny_model.h"

#include <ATen/ATen.h>

using namespace preflab;
using namespace preflab::test;

namespace {

Transformer randomModel(const TransformerConfig& c, uint64_t seed) {
    torch::manual_seed(seed);
    Transformer m(c);
    torch::NoGradGuard g;
    // Non-trivial LayerNorm weights and every bias (they start at 1 and 0),
    // so that a bias dropped or read from the wrong layer shows.
    for (auto& p : m->named_parameters()) {
        const std::string& name = p.key();
        const bool bias = name.size() >= 4 && name.compare(name.size() - 4, 4, "bias") == 0;
        if (bias) p.value().normal_(0.0, 0.1);
        else if (name.find("ln") != std::string::npos) p.value().uniform_(0.5, 1.5);
        if (name.find("tokens") != std::string::npos) p.value().mul_(10.0);
    }
    m->eval();
    return m;
}

// Left-pads prompts into ids and mask [B, longest], as sampleBatch does.
std::pair<at::Tensor, at::Tensor> leftPadded(const std::vector<std::vector<int64_t>>& prompts, int64_t pad) {
    size_t longest = 0;
    for (const auto& p : prompts) longest = std::max(longest, p.size());
    const int64_t B = static_cast<int64_t>(prompts.size()), L = static_cast<int64_t>(longest);
    at::Tensor ids = at::full({B, L}, pad, at::kLong), mask = at::zeros({B, L}, at::kLong);
    for (int64_t b = 0; b < B; ++b) {
        const int64_t off = L - static_cast<int64_t>(prompts[b].size());
        for (size_t t = 0; t < prompts[b].size(); ++t) {
            ids[b][off + static_cast<int64_t>(t)] = prompts[b][t];
            mask[b][off + static_cast<int64_t>(t)] = 1;
        }
    }
    return {ids, mask};
}

}  // namespace

class TestFusedDecoder : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { configureComputeThreads(); }

    void sameLogitsAsForwardCached_data() {
        QTest::addColumn<int>("dModel");
        QTest::addColumn<int>("heads");
        QTest::addColumn<int>("layers");
        QTest::addColumn<int>("rows");
        QTest::newRow("built-in shape (head 24)") << 96 << 4 << 4 << 3;
        QTest::newRow("head 25 (no multiple of 8)") << 100 << 4 << 2 << 3;
        QTest::newRow("head 8, one layer") << 16 << 2 << 1 << 3;
        QTest::newRow("one row (matrix-vector products)") << 96 << 4 << 2 << 1;
    }
    // Two caches filled by the same prefill; one decodes through LibTorch,
    // the other through the fused step, fed the same tokens for 20 steps.
    // LibTorch decodes with autograd on, so that a single row goes through
    // its general matrix products, not the matrix-vector path that both the
    // fused step and applyLinear take for one row without autograd.
    void sameLogitsAsForwardCached() {
        QFETCH(int, dModel);
        QFETCH(int, heads);
        QFETCH(int, layers);
        QFETCH(int, rows);
        TransformerConfig c;
        c.dModel = dModel;
        c.nHeads = heads;
        c.nLayers = layers;
        c.dFF = 4 * dModel;
        c.maxSeqLen = 48;
        Transformer m = randomModel(c, 11);
        QVERIFY(FusedDecoder::supports(m));
        torch::NoGradGuard g;
        const int64_t pad = 258;
        std::vector<std::vector<int64_t>> prompts{{256, 65, 66, 67, 68, 69, 259}, {256, 70, 259}, {256, 71, 72, 259}};
        prompts.resize(static_cast<size_t>(rows));
        const auto [ids, mask] = leftPadded(prompts, pad);
        KVCache reference = m->newCache(rows, 40), fast = m->newCache(rows, 40);
        const at::Tensor first = m->forwardCached(ids, mask, reference);
        QVERIFY(at::allclose(m->forwardCached(ids, mask, fast), first));
        FusedDecoder decoder(m, fast);
        std::vector<int64_t> next{80, 81, 82};
        next.resize(static_cast<size_t>(rows));
        double worst = 0;
        for (int step = 0; step < 20; ++step) {
            at::Tensor expected;
            {
                torch::AutoGradMode autograd(true);
                expected = m->forwardCached(at::tensor(next).unsqueeze(1), at::ones({rows, 1}, at::kLong), reference)
                               .select(1, 0)
                               .detach();
            }
            const at::Tensor got = decoder.step(next);
            worst = std::max(worst, (got - expected).abs().max().item<double>());
            QVERIFY2(at::allclose(got, expected, 1e-4, 1e-4),
                     qPrintable(QString("step %1: max difference %2").arg(step).arg((got - expected).abs().max().item<double>())));
            QCOMPARE(fast.length, reference.length);
            QVERIFY(at::equal(fast.realCount, reference.realCount));
            QVERIFY(at::equal(fast.keyBias, reference.keyBias));
            // Row 1 "ended": it feeds padding from step 5 on, as the sampler does.
            for (int64_t r = 0; r < rows; ++r) next[static_cast<size_t>(r)] = got[r].argmax().item<int64_t>();
            if (rows > 1 && step >= 5) next[1] = pad;
        }
        for (size_t l = 0; l < reference.keys.size(); ++l) {
            QVERIFY(at::allclose(fast.keys[l], reference.keys[l], 1e-4, 1e-5));
            QVERIFY(at::allclose(fast.values[l], reference.values[l], 1e-4, 1e-5));
        }
        qInfo("largest logit difference over 20 steps: %.3g", worst);
    }

    // sampleBatch draws the same tokens either way; recorded log-probabilities agree.
    void sampleBatchDrawsTheSameTokens() {
        TransformerConfig c;  // the built-in shape
        Transformer m = randomModel(c, 5);
        std::vector<TokenIds> prompts{{256, 65, 66, 259}, {256, 70, 71, 72, 73, 74, 259}, {256, 75, 259}, {256, 76, 77, 259}};
        SamplingParams sp;
        sp.maxNewTokens = 30;
        sp.temperature = 0.9;
        SamplingParams slow = sp;
        slow.fusedDecoding = false;
        const std::vector<uint64_t> seeds{1, 2, 3, 4};
        const SampledSequences a = sampleBatch(m, prompts, sp, seeds, 257, 258);
        const SampledSequences b = sampleBatch(m, prompts, slow, seeds, 257, 258);
        for (size_t i = 0; i < prompts.size(); ++i) {
            QCOMPARE(a.tokens[i], b.tokens[i]);
            QCOMPARE(a.endedWithEos[i], b.endedWithEos[i]);
            QVERIFY(std::abs(a.policyLogprob[i] - b.policyLogprob[i]) < 1e-3);
            QVERIFY(std::abs(a.samplingLogprob[i] - b.samplingLogprob[i]) < 1e-3);
        }
    }

    // Models it has no path for decode through LibTorch.
    void refusesWhatItCannotDecode() {
        TransformerConfig llama = tinyConfig();
        llama.llama = 1;
        llama.tiedHead = 0;
        Transformer l(llama);
        QVERIFY(!FusedDecoder::supports(l));
        Transformer lora = tinyModel(3);
        LoraConfig lc;
        lc.rank = 2;
        lora->addLora(lc);
        QVERIFY(!FusedDecoder::supports(lora));
        Transformer f64 = tinyModel(3, at::kDouble);
        QVERIFY(!FusedDecoder::supports(f64));
        KVCache cache = f64->newCache(1, 8);
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, FusedDecoder(f64, cache));
        // A cache another shape of model made is refused, not written past.
        TransformerConfig fourHeads = tinyConfig();
        fourHeads.nHeads = 4;
        Transformer small = tinyModel(3), other(fourHeads);
        KVCache foreign = other->newCache(1, 8);
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, FusedDecoder(small, foreign));
        // sampleBatch still samples them.
        SamplingParams sp;
        sp.maxNewTokens = 4;
        QCOMPARE(sampleBatch(lora, {{256, 65, 259}}, sp, {1}, -1, 258).tokens[0].size(), size_t(4));
    }

    // A full cache or context, and a token outside the vocabulary, are errors.
    void refusesToOverrun() {
        Transformer m = tinyModel(9);
        torch::NoGradGuard g;
        KVCache cache = m->newCache(1, 4);
        m->forwardCached(at::tensor(std::vector<int64_t>{256, 65, 259}).unsqueeze(0), at::ones({1, 3}, at::kLong), cache);
        FusedDecoder d(m, cache);
        QVERIFY_THROWS_EXCEPTION(std::out_of_range, d.step({999}));
        d.step({66});
        QVERIFY_THROWS_EXCEPTION(std::out_of_range, d.step({67}));
    }
};

PREFLAB_TEST_MAIN(TestFusedDecoder)
#include "tst_fused_decoder.moc"
