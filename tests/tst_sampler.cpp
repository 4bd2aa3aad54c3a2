#include "core/nn/sampler.h"
#include "core/nn/sequence_batch.h"
#include "core/runtime/compute_threads.h"
#include "support/test_main.h"
#include "support/tiny_model.h"

using namespace preflab;
using namespace preflab::test;

class TestSampler : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { configureComputeThreads(); }

    // A sequence's sample depends on its seed, not on the rest of the batch.
    void perSequenceSeeds() {
        Transformer m = tinyModel(4);
        SamplingParams sp;
        sp.maxNewTokens = 12;
        const TokenIds p1{256, 65, 66, 259}, p2{256, 70, 71, 72, 73, 74, 259};
        const SampledSequences both = sampleBatch(m, {p1, p2}, sp, {11, 22}, 257, 258);
        const SampledSequences alone = sampleBatch(m, {p1}, sp, {11}, 257, 258);
        const SampledSequences other = sampleBatch(m, {p1}, sp, {12}, 257, 258);
        QCOMPARE(both.tokens[0], alone.tokens[0]);
        QVERIFY(both.tokens[0] != other.tokens[0]);
    }

    // Greedy decoding with the cache equals argmax over full forwards.
    void greedyMatchesUncachedArgmax() {
        Transformer m = tinyModel(6);
        m->eval();
        SamplingParams sp;
        sp.temperature = 0;
        sp.maxNewTokens = 10;
        const TokenIds prompt{256, 80, 81, 259};
        const SampledSequences s = sampleBatch(m, {prompt}, sp, {1}, -1 /*no EOS*/, 258);
        TokenIds seq = prompt;
        torch::NoGradGuard g;
        for (int t = 0; t < 10; ++t) {
            const at::Tensor ids = at::tensor(std::vector<int64_t>(seq.begin(), seq.end())).unsqueeze(0);
            const at::Tensor logits = m->forward(ids, at::ones_like(ids));
            seq.push_back(static_cast<int32_t>(logits[0][-1].argmax().item<int64_t>()));
        }
        QCOMPARE(s.tokens[0], TokenIds(seq.begin() + 4, seq.end()));
        // top-k = 1 at any temperature is greedy too.
        SamplingParams k1;
        k1.topK = 1;
        k1.maxNewTokens = 10;
        QCOMPARE(sampleBatch(m, {prompt}, k1, {5}, -1, 258).tokens[0], s.tokens[0]);
    }

    // The log-probability recorded while sampling equals the one a full forward
    // computes for the same response (what the reference/DPO code uses).
    void recordedLogprobMatchesForward() {
        Transformer m = tinyModel(8);
        SamplingParams sp;
        sp.maxNewTokens = 15;
        sp.temperature = 0.8;
        sp.topP = 0.9;
        std::vector<TokenIds> prompts{{256, 65, 259}, {256, 66, 67, 68, 259}, {256, 69, 259}};
        const SampledSequences s = sampleBatch(m, prompts, sp, {1, 2, 3}, 257, 258);
        torch::NoGradGuard g;
        const SequenceBatch b = packSequences(prompts, s.tokens, 258);
        const at::Tensor lp = sequenceLogprobs(m->forward(b.ids, b.attention), b);
        for (int i = 0; i < 3; ++i) {
            QVERIFY2(std::abs(lp[i].item<double>() - s.policyLogprob[i]) < 1e-3,
                     qPrintable(QString("%1 vs %2").arg(lp[i].item<double>()).arg(s.policyLogprob[i])));
            // Sampling at T < 1 with top-p concentrates mass: q(y) >= pi(y) overall here.
            QVERIFY(s.samplingLogprob[i] >= s.policyLogprob[i] - 1e-4);
        }
    }

    // The distribution sampled at temperature T is softmax(logits / T): the
    // log-probability recorded while sampling equals a full forward's
    // sequence log-probability of logits / T (LoopModels::sampledLogits).
    void samplingLogprobIsTheTemperedForward() {
        Transformer m = tinyModel(8);
        SamplingParams sp;
        sp.maxNewTokens = 15;
        sp.temperature = 0.7;
        std::vector<TokenIds> prompts{{256, 65, 259}, {256, 66, 67, 68, 259}, {256, 69, 259}};
        const SampledSequences s = sampleBatch(m, prompts, sp, {4, 5, 6}, 257, 258);
        torch::NoGradGuard g;
        const SequenceBatch b = packSequences(prompts, s.tokens, 258);
        const at::Tensor lp = sequenceLogprobs(m->forward(b.ids, b.attention) / 0.7, b);
        for (int i = 0; i < 3; ++i) {
            QVERIFY2(std::abs(lp[i].item<double>() - s.samplingLogprob[i]) < 1e-3,
                     qPrintable(QString("%1 vs %2").arg(lp[i].item<double>()).arg(s.samplingLogprob[i])));
            // And it is not the untempered one (the test would pass vacuously otherwise).
            QVERIFY(std::abs(s.samplingLogprob[i] - s.policyLogprob[i]) > 1e-2);
        }
    }

    void stopsAtEosAndHonoursCancel() {
        Transformer m = tinyModel(9);
        SamplingParams sp;
        sp.maxNewTokens = 30;
        for (uint64_t seed = 1; seed <= 8; ++seed) {
            const SampledSequences s = sampleBatch(m, {{256, 65, 259}}, sp, {seed}, 257, 258);
            const TokenIds& t = s.tokens[0];
            const auto firstEos = std::find(t.begin(), t.end(), 257);
            if (s.endedWithEos[0]) QVERIFY(firstEos == t.end() - 1);  // EOS last, and only once
            else QVERIFY(firstEos == t.end() && t.size() == 30);
        }
        std::atomic_bool cancel{true};
        QVERIFY(sampleBatch(m, {{256, 65, 259}}, sp, {1}, 257, 258, &cancel).cancelled);
    }

    // The thread count: a small model runs on one thread unless one is asked
    // for; a scope gives the previous count back; sampling leaves it alone.
    void threadCountForTheModel() {
        const QByteArray saved = qgetenv("PREFLAB_THREADS");
        qunsetenv("PREFLAB_THREADS");
        const TransformerConfig builtin;
        QCOMPARE(computeThreadsForModel(builtin.parameterCount(), 0), 1);
        QCOMPARE(computeThreadsForModel(kOneThreadModelParameters + 1, 0), defaultComputeThreads());
        QCOMPARE(computeThreadsForModel(builtin.parameterCount(), 3), 3);
        // Row groups: a fixed two for a small model whatever the cores; one
        // for a large model, or when a thread count is asked for.
        QCOMPARE(rowGroupsForModel(builtin.parameterCount(), 0), kSmallModelRowGroups);
        QCOMPARE(kSmallModelRowGroups, 2);
        QCOMPARE(rowGroupsForModel(kOneThreadModelParameters + 1, 0), 1);
        QCOMPARE(rowGroupsForModel(builtin.parameterCount(), 1), 1);
        QVERIFY(availableCores() >= 1 && availableCores() <= static_cast<int>(std::thread::hardware_concurrency()));
        qputenv("PREFLAB_THREADS", "2");
        QCOMPARE(computeThreadsForModel(builtin.parameterCount(), 0), 2);
        QCOMPARE(rowGroupsForModel(builtin.parameterCount(), 0), 1);
        if (saved.isNull()) qunsetenv("PREFLAB_THREADS");
        else qputenv("PREFLAB_THREADS", saved);

        configureComputeThreads(2);
        QCOMPARE(at::get_num_threads(), 2);
        {
            ComputeThreadsScope one(1);
            QCOMPARE(at::get_num_threads(), 1);
        }
        QCOMPARE(at::get_num_threads(), 2);
        Transformer m = tinyModel(9);
        SamplingParams sp;
        sp.maxNewTokens = 5;
        sampleBatch(m, {{256, 65, 259}}, sp, {1}, 257, 258);
        QCOMPARE(at::get_num_threads(), 2);
        configureComputeThreads();
    }
};

PREFLAB_TEST_MAIN(TestSampler)
#include "tst_sampler.moc"
