// The hand-written decode step (core/nn/fused_decoder) against LibTorch's
// forwardCached: the same logits to float rounding, step after step, on
// left-padded prompts of different lengths, with rows that feed padding after
// their EOS, for GPT-2's layout and the Llama family's (grouped-query
// attention, Qwen2's q/k/v biases, Qwen3's q/k norms, untied head, scaled
// rotary positions); in bf16, to bf16 rounding; the same samples through
// sampleBatch; the bf16 products against a double-precision sum; and the
// models it must refuse (they decode through LibTorch).
#include "core/nn/bf16_products.h"
#include "core/nn/fused_decoder.h"
#include "core/nn/lora_config.h"
#include "core/nn/sampler.h"
#include "support/test_main.h"
#include "support/tiny_model.h"

#include <ATen/ATen.h>

#include <cmath>

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
        else if (name.find("ln") != std::string::npos || name.find("norm") != std::string::npos) p.value().uniform_(0.5, 1.5);
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

TransformerConfig layoutConfig(const QString& layout, int dModel, int heads, int kvHeads, int layers) {
    TransformerConfig c;
    c.dModel = dModel;
    c.nHeads = heads;
    c.nLayers = layers;
    c.dFF = 4 * dModel;
    c.maxSeqLen = 48;
    if (layout != "gpt2") {
        c.llama = 1;
        c.kvHeads = kvHeads;
        c.dFF = 2 * dModel;
        c.tiedHead = layout == "llama" ? 0 : 1;
        c.qkvBias = layout == "qwen2" ? 1 : 0;
        c.ropeScale = layout == "qwen2" ? 2.0 : 1.0;
        c.ropeTheta = layout == "qwen3" ? 1e6 : 1e4;
        if (layout == "qwen3") {
            c.qkNorm = 1;
            c.headSize = 16;  // wider than dModel / heads, as Qwen3's are
        }
    }
    return c;
}

// The model a data row of sameLogitsAsForwardCached_data describes (seed 11),
// and its number of prompt rows.
Transformer fetchedModel(int* rowsOut) {
    QFETCH(QString, layout);
    QFETCH(int, dModel);
    QFETCH(int, heads);
    QFETCH(int, kvHeads);
    QFETCH(int, layers);
    QFETCH(int, rows);
    *rowsOut = rows;
    return randomModel(layoutConfig(layout, dModel, heads, kvHeads, layers), 11);
}

// Prefills two caches with three left-padded prompts (the first `rows`),
// then decodes 20 steps through forwardCached (of `reference`, default `m`)
// and through the fused step, fed the same tokens; checks the logits, the
// cache's bookkeeping and, for fp32, its contents. Returns the largest
// logit difference in *worst. Each step's logits must agree within
// atol + rtol * (the largest expected logit).
void decodeBoth(Transformer& m, int rows, double atol, double rtol, double* worst, Transformer* reference = nullptr) {
    Transformer& slow = reference ? *reference : m;
    torch::NoGradGuard g;
    const int64_t pad = 258;
    std::vector<std::vector<int64_t>> prompts{{256, 65, 66, 67, 68, 69, 259}, {256, 70, 259}, {256, 71, 72, 259}};
    prompts.resize(static_cast<size_t>(rows));
    const auto [ids, mask] = leftPadded(prompts, pad);
    KVCache expectedCache = slow->newCache(rows, 40), fast = m->newCache(rows, 40);
    const at::Tensor first = slow->forwardCached(ids, mask, expectedCache);
    const at::Tensor mine = m->forwardCached(ids, mask, fast).to(at::kFloat);
    if (!reference) QVERIFY(at::allclose(mine, first));
    FusedDecoder decoder(m, fast);
    std::vector<int64_t> next{80, 81, 82};
    next.resize(static_cast<size_t>(rows));
    *worst = 0;
    for (int step = 0; step < 20; ++step) {
        at::Tensor expected;
        {
            torch::AutoGradMode autograd(true);
            expected = slow->forwardCached(at::tensor(next).unsqueeze(1), at::ones({rows, 1}, at::kLong), expectedCache)
                           .select(1, 0)
                           .detach()
                           .to(at::kFloat);
        }
        const at::Tensor got = decoder.step(next);
        const double difference = (got - expected).abs().max().item<double>();
        *worst = std::max(*worst, difference);
        if (!reference) QVERIFY2(at::allclose(got, expected, rtol, atol), qPrintable(QString("step %1").arg(step)));
        const double allowed = atol + rtol * expected.abs().max().item<double>();
        QVERIFY2(difference <= allowed,
                 qPrintable(QString("step %1: max difference %2, allowed %3").arg(step).arg(difference).arg(allowed)));
        QCOMPARE(fast.length, expectedCache.length);
        QVERIFY(at::equal(fast.realCount, expectedCache.realCount));
        QVERIFY(at::equal(fast.keyBias, expectedCache.keyBias));
        // Row 1 "ended": it feeds padding from step 5 on, as the sampler does.
        for (int64_t r = 0; r < rows; ++r) next[static_cast<size_t>(r)] = expected[r].argmax().item<int64_t>();
        if (rows > 1 && step >= 5) next[1] = pad;
    }
    if (!reference) {
        for (size_t l = 0; l < expectedCache.keys.size(); ++l) {
            QVERIFY(at::allclose(fast.keys[l], expectedCache.keys[l], 1e-4, 1e-5));
            QVERIFY(at::allclose(fast.values[l], expectedCache.values[l], 1e-4, 1e-5));
        }
    }
}

}  // namespace

class TestFusedDecoder : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { configureComputeThreads(); }

    void sameLogitsAsForwardCached_data() {
        QTest::addColumn<QString>("layout");
        QTest::addColumn<int>("dModel");
        QTest::addColumn<int>("heads");
        QTest::addColumn<int>("kvHeads");
        QTest::addColumn<int>("layers");
        QTest::addColumn<int>("rows");
        QTest::newRow("built-in shape (head 24)") << "gpt2" << 96 << 4 << 4 << 4 << 3;
        QTest::newRow("head 25 (no multiple of 8)") << "gpt2" << 100 << 4 << 4 << 2 << 3;
        QTest::newRow("head 8, one layer") << "gpt2" << 16 << 2 << 2 << 1 << 3;
        QTest::newRow("one row (matrix-vector products)") << "gpt2" << 96 << 4 << 4 << 2 << 1;
        QTest::newRow("Llama, grouped-query (4 heads, 2 kv)") << "llama" << 64 << 4 << 2 << 2 << 3;
        QTest::newRow("Llama, one row, one kv head") << "llama" << 64 << 4 << 1 << 2 << 1;
        QTest::newRow("Qwen2 (q/k/v biases), scaled rotary") << "qwen2" << 48 << 4 << 2 << 2 << 3;
        QTest::newRow("Qwen3 (q/k norms, head 16 of width 48)") << "qwen3" << 48 << 4 << 2 << 2 << 3;
    }
    // Two caches filled by the same prefill; one decodes through LibTorch,
    // the other through the fused step, fed the same tokens for 20 steps.
    // LibTorch decodes with autograd on, so that a single row goes through
    // its general matrix products, not the matrix-vector path that both the
    // fused step and applyLinear take for one row without autograd.
    void sameLogitsAsForwardCached() {
        int rows = 0;
        Transformer m = fetchedModel(&rows);
        QVERIFY(FusedDecoder::supports(m));
        double worst = 0;
        decodeBoth(m, rows, 1e-4, 1e-4, &worst);
        if (QTest::currentTestFailed()) return;
        qInfo("largest logit difference over 20 steps: %.3g", worst);
    }

    // bf16 weights, where the CPU has native bf16 dot products: the fused
    // step against LibTorch decoding the same weights widened to fp32. Both
    // read the same bf16 weights; the fused step also rounds its products'
    // inputs and the cache to bf16 (about 2^-9 relative each), so the
    // logits agree to bf16 rounding, not float rounding: within 2 % of the
    // largest logit here. A CPU without them decodes bf16 through LibTorch.
    void bf16SameLogitsToBf16Rounding_data() { sameLogitsAsForwardCached_data(); }
    void bf16SameLogitsToBf16Rounding() {
        int rows = 0;
        Transformer m = fetchedModel(&rows);
        m->to(at::kBFloat16);
        if (!bf16ProductsAvailable()) {
            QVERIFY(!FusedDecoder::supports(m));
            KVCache cache = m->newCache(1, 8);
            QVERIFY_THROWS_EXCEPTION(std::invalid_argument, FusedDecoder(m, cache));
            return;
        }
        QVERIFY(FusedDecoder::supports(m));
        Transformer widened = cloneTransformer(m);
        widened->to(at::kFloat);
        double worst = 0;
        decodeBoth(m, rows, 0, 0.02, &worst, &widened);
        if (QTest::currentTestFailed()) return;
        qInfo("largest logit difference over 20 steps (bf16 against its fp32 widening): %.3g", worst);
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

    // The Llama layout samples the same tokens fused or not, too.
    void sampleBatchDrawsTheSameTokensLlama() {
        Transformer m = randomModel(layoutConfig("llama", 64, 4, 2, 2), 5);
        std::vector<TokenIds> prompts{{256, 65, 66, 259}, {256, 70, 71, 72, 73, 74, 259}, {256, 75, 259}};
        SamplingParams sp;
        sp.maxNewTokens = 30;
        sp.temperature = 0.9;
        SamplingParams slow = sp;
        slow.fusedDecoding = false;
        const std::vector<uint64_t> seeds{1, 2, 3};
        const SampledSequences a = sampleBatch(m, prompts, sp, seeds, 257, 258);
        const SampledSequences b = sampleBatch(m, prompts, slow, seeds, 257, 258);
        for (size_t i = 0; i < prompts.size(); ++i) {
            QCOMPARE(a.tokens[i], b.tokens[i]);
            QVERIFY(std::abs(a.policyLogprob[i] - b.policyLogprob[i]) < 1e-3);
        }
    }

    // Rounding to bf16: to nearest, ties to even, as LibTorch's c10::BFloat16
    // rounds (checked against it), with hand-worked ties.
    void floatToBf16RoundsAsLibTorch() {
        QCOMPARE(floatToBf16(1.0f), uint16_t(0x3f80));
        QCOMPARE(floatToBf16(1.0f + 1.0f / 256), uint16_t(0x3f80));      // halfway to 1 + 2^-7: the even one, 1
        QCOMPARE(floatToBf16(1.0f + 3.0f / 256), uint16_t(0x3f82));      // halfway between 0x3f81 and 0x3f82: even
        QCOMPARE(floatToBf16(1.0f + 1.0f / 256 + 1.0f / 65536), uint16_t(0x3f81));  // past halfway: up
        QCOMPARE(floatToBf16(-2.0f), uint16_t(0xc000));
        QCOMPARE(bf16ToFloat(0x3f81), 1.0f + 1.0f / 128);
        QVERIFY(std::isnan(bf16ToFloat(floatToBf16(std::nanf("")))));
        QVERIFY(std::isinf(bf16ToFloat(floatToBf16(INFINITY))));
        const at::Tensor x = at::randn({4096}) * 100;
        const at::Tensor viaTorch = x.to(at::kBFloat16);
        const auto* t = reinterpret_cast<const uint16_t*>(viaTorch.data_ptr<at::BFloat16>());
        for (int64_t i = 0; i < x.numel(); ++i) QCOMPARE(floatToBf16(x[i].item<float>()), t[i]);
    }

    // The bf16 kernel against a double-precision sum of the same bf16-rounded
    // inputs and weights: each product of two bf16 values is exact in fp32,
    // so only the fp32 summation differs (bounded by K * 2^-24 * sum |terms|).
    // Widths on and off the 32-value vector, one and several rows, beta 0
    // (overwriting a NaN) and 1 (adding).
    void bf16ProductMatchesDoubleSum_data() {
        QTest::addColumn<int>("M");
        QTest::addColumn<int>("K");
        QTest::newRow("1 x 1") << 1 << 1;
        QTest::newRow("1 x 31") << 1 << 31;
        QTest::newRow("1 x 32") << 1 << 32;
        QTest::newRow("1 x 33") << 1 << 33;
        QTest::newRow("3 x 160 (five vectors)") << 3 << 160;
        QTest::newRow("2 x 770") << 2 << 770;
    }
    void bf16ProductMatchesDoubleSum() {
        QFETCH(int, M);
        QFETCH(int, K);
        const int64_t N = 7;
        std::vector<uint16_t> scratch;
        if (!bf16ProductsAvailable()) {
            std::vector<float> in(static_cast<size_t>(M * K)), out(static_cast<size_t>(M * N));
            std::vector<uint16_t> w(static_cast<size_t>(N * K));
            QVERIFY_THROWS_EXCEPTION(std::logic_error, bf16Product(in.data(), w.data(), out.data(), M, N, K, 0.0f, scratch));
            return;
        }
        torch::manual_seed(static_cast<uint64_t>(M * 1000 + K));
        const at::Tensor in = at::randn({M, K}), weight = at::randn({N, K}).to(at::kBFloat16);
        const at::Tensor expected = at::matmul(in.to(at::kBFloat16).to(at::kDouble), weight.to(at::kDouble).t());
        const at::Tensor bound =
            at::matmul(in.to(at::kBFloat16).to(at::kDouble).abs(), weight.to(at::kDouble).abs().t()) * (K * std::ldexp(1.0, -24)) + 1e-30;
        const auto* w = reinterpret_cast<const uint16_t*>(weight.data_ptr<at::BFloat16>());
        at::Tensor out = at::full({M, N}, NAN);
        bf16Product(in.data_ptr<float>(), w, out.data_ptr<float>(), M, N, K, 0.0f, scratch);
        QVERIFY(((out.to(at::kDouble) - expected).abs() <= bound).all().item<bool>());
        at::Tensor accumulated = at::ones({M, N});
        bf16Product(in.data_ptr<float>(), w, accumulated.data_ptr<float>(), M, N, K, 1.0f, scratch);
        QVERIFY(((accumulated.to(at::kDouble) - 1.0 - expected).abs() <= bound + 1e-6).all().item<bool>());
    }

    // Models it has no path for decode through LibTorch.
    void refusesWhatItCannotDecode() {
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
