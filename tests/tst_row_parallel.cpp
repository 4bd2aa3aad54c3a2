// Row groups on threads of their own (core/nn/row_groups,
// core/nn/row_parallel_logits): how rows are split; that a group's exception
// reaches the caller and the caller's grad mode reaches every group; that
// logits and parameter gradients from several groups equal those of one
// batch (double precision: to rounding; and the same bits run after run);
// and that sampling in row groups draws the same tokens.
#include "core/nn/autocast_scope.h"
#include "core/nn/lora_config.h"
#include "core/nn/row_groups.h"
#include "core/nn/row_parallel_logits.h"
#include "core/nn/sampler.h"
#include "core/nn/sequence_batch.h"
#include "core/runtime/compute_threads.h"
#include "support/test_main.h"
#include "support/tiny_model.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <mutex>
#include <sched.h>
#include <set>
#include <stdexcept>
#include <thread>

using namespace preflab;
using namespace preflab::test;

using Ranges = std::vector<std::pair<int64_t, int64_t>>;

namespace {

Transformer modelWithBiases(at::ScalarType dtype) {
    Transformer m = tinyModel(5, dtype);
    torch::NoGradGuard g;
    for (auto& p : m->named_parameters()) {
        if (p.key().find("bias") != std::string::npos) p.value().normal_(0.0, 0.3);
    }
    return m;
}

// Five sequences of different lengths (right-padded by packSequences).
SequenceBatch fiveSequences() {
    return packSequences({{256, 65, 66, 259}, {256, 70, 259}, {256, 71, 72, 73, 259}, {256, 74, 259}, {256, 75, 76, 259}},
                         {{80, 81, 82, 257}, {83, 257}, {84, 85, 257}, {86, 87, 88, 89, 257}, {90, 257}}, 258);
}

// The model with rank-2 LoRA adapters (dropout 0.5).
Transformer withLora(at::ScalarType dtype) {
    Transformer m = modelWithBiases(dtype);
    LoraConfig lora;
    lora.rank = 2;
    lora.dropout = 0.5;
    m->addLora(lora);
    return m;
}

// A loss that reads every logit: sum(logits * weights) for fixed random weights.
at::Tensor lossOf(const at::Tensor& logits) {
    torch::manual_seed(99);
    const at::Tensor w = at::randn(logits.sizes(), logits.options().requires_grad(false));
    return (logits * w).sum();
}

std::vector<at::Tensor> gradients(Transformer& m, int groups, at::Tensor* logitsOut = nullptr) {
    const SequenceBatch b = fiveSequences();
    for (auto& p : m->parameters()) p.mutable_grad() = at::Tensor();
    const at::Tensor logits = rowParallelLogits(m, b.ids, b.attention, false, groups);
    lossOf(logits).backward();
    if (logitsOut) *logitsOut = logits.detach();
    std::vector<at::Tensor> out;
    for (auto& p : m->parameters()) {
        if (p.requires_grad()) out.push_back(p.grad().clone());
    }
    return out;
}

}  // namespace

class TestRowParallel : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { configureComputeThreads(1); }

    void splitsRowsEvenly_data() {
        QTest::addColumn<int>("rows");
        QTest::addColumn<int>("groups");
        QTest::addColumn<Ranges>("expected");
        QTest::newRow("10 in 2") << 10 << 2 << Ranges{{0, 5}, {5, 10}};
        QTest::newRow("5 in 2: the first takes one more") << 5 << 2 << Ranges{{0, 3}, {3, 5}};
        QTest::newRow("7 in 3") << 7 << 3 << Ranges{{0, 3}, {3, 5}, {5, 7}};
        QTest::newRow("fewer rows than groups") << 2 << 4 << Ranges{{0, 1}, {1, 2}};
        QTest::newRow("no rows") << 0 << 2 << Ranges{};
        QTest::newRow("0 groups: one") << 4 << 0 << Ranges{{0, 4}};
    }
    void splitsRowsEvenly() {
        QFETCH(int, rows);
        QFETCH(int, groups);
        QFETCH(Ranges, expected);
        QCOMPARE(splitRows(rows, groups), expected);
    }

    // Every group runs (on as many threads), with the caller's grad mode; an
    // exception in one is rethrown in the caller after all have ended.
    void groupsRunOnThreadsWithTheCallersState() {
        std::mutex lock;
        std::set<std::thread::id> threads;
        std::vector<int> gradMode(3, -1);
        {
            torch::NoGradGuard off;
            runRowGroups(3, [&](int g) {
                std::lock_guard<std::mutex> hold(lock);
                threads.insert(std::this_thread::get_id());
                gradMode[static_cast<size_t>(g)] = at::GradMode::is_enabled() ? 1 : 0;
            });
        }
        // As many threads as groups, up to the cores this process may use.
        QCOMPARE(threads.size(), static_cast<size_t>(std::min(3, availableCores())));
        QVERIFY(threads.count(std::this_thread::get_id()) == 1);  // group 0 on the caller
        QCOMPARE(gradMode, (std::vector<int>{0, 0, 0}));
        std::atomic_int ended{0};
        bool caught = false;
        try {
            runRowGroups(2, [&](int g) {
                if (g == 1) throw std::runtime_error("group 1 failed");
                ++ended;
            });
        } catch (const std::runtime_error& e) {
            caught = std::string(e.what()) == "group 1 failed";
        }
        QVERIFY(caught);
        QCOMPARE(ended.load(), 1);
    }

    void sameLogitsAndGradientsAsOneBatch_data() {
        QTest::addColumn<int>("groups");
        QTest::newRow("2 groups") << 2;
        QTest::newRow("3 groups") << 3;
        QTest::newRow("5 groups of one row") << 5;
    }
    // In double precision, so that "equal" means equal to rounding (1e-12),
    // not to float noise; and the same bits from a second run.
    void sameLogitsAndGradientsAsOneBatch() {
        QFETCH(int, groups);
        Transformer m = modelWithBiases(at::kDouble);
        m->train();
        at::Tensor oneLogits, groupLogits;
        const std::vector<at::Tensor> one = gradients(m, 1, &oneLogits);
        const std::vector<at::Tensor> split = gradients(m, groups, &groupLogits);
        const std::vector<at::Tensor> again = gradients(m, groups);
        QVERIFY((groupLogits - oneLogits).abs().max().item<double>() < 1e-12);
        QCOMPARE(split.size(), one.size());
        QVERIFY(!one.empty());
        for (size_t i = 0; i < one.size(); ++i) {
            const double scale = std::max(1.0, one[i].abs().max().item<double>());
            const double diff = (split[i] - one[i]).abs().max().item<double>();
            QVERIFY2(diff < 1e-12 * scale, qPrintable(QString("parameter %1: max |diff| %2").arg(i).arg(diff)));
            QVERIFY(at::equal(split[i], again[i]));
        }
        // Without autograd: the same logits, no graph.
        torch::NoGradGuard off;
        const SequenceBatch b = fiveSequences();
        const at::Tensor plain = rowParallelLogits(m, b.ids, b.attention, false, groups);
        QVERIFY(!plain.requires_grad());
        QVERIFY((plain - oneLogits).abs().max().item<double>() < 1e-12);
    }

    // On one core the groups run in turn on the caller: the same bits as on
    // two, so a run does not depend on the machine's core count.
    void oneCoreGivesTheSameBits() {
        Transformer m = modelWithBiases(at::kFloat);
        m->train();
        at::Tensor twoCoreLogits, oneCoreLogits;
        const std::vector<at::Tensor> twoCores = gradients(m, 2, &twoCoreLogits);
        if (availableCores() < 2) qInfo("one core only: both runs below run the groups in turn");
        cpu_set_t saved, one;
        QCOMPARE(sched_getaffinity(0, sizeof saved, &saved), 0);
        // Gives this thread its CPUs back however the test function ends.
        struct RestoreAffinity {
            cpu_set_t mask;
            ~RestoreAffinity() { sched_setaffinity(0, sizeof mask, &mask); }
        } restore{saved};
        CPU_ZERO(&one);
        for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
            if (CPU_ISSET(cpu, &saved)) {
                CPU_SET(cpu, &one);
                break;
            }
        }
        QCOMPARE(sched_setaffinity(0, sizeof one, &one), 0);  // this thread only
        QCOMPARE(availableCores(), 1);
        const std::vector<at::Tensor> oneCore = gradients(m, 2, &oneCoreLogits);
        QVERIFY(at::equal(oneCoreLogits, twoCoreLogits));
        QCOMPARE(oneCore.size(), twoCores.size());
        for (size_t i = 0; i < oneCore.size(); ++i) QVERIFY(at::equal(oneCore[i], twoCores[i]));
    }

    // LoRA adapters out of training (no dropout) split into groups; only the
    // adapters are trainable, so the Function's inputs are that subset.
    void loraInEvalModeSplitsWithItsAdapters() {
        Transformer m = withLora(at::kDouble);
        {
            torch::NoGradGuard g;  // B starts at zero: make the adapters matter
            for (auto& p : m->named_parameters()) {
                if (p.key().find("lora") != std::string::npos) p.value().normal_(0.0, 0.3);
            }
        }
        m->eval();
        at::Tensor oneLogits, twoLogits;
        const std::vector<at::Tensor> one = gradients(m, 1, &oneLogits);
        const std::vector<at::Tensor> two = gradients(m, 2, &twoLogits);
        QVERIFY(!one.empty());
        QVERIFY(one.size() < m->parameters().size());  // the adapters only
        QVERIFY((twoLogits - oneLogits).abs().max().item<double>() < 1e-12);
        for (size_t i = 0; i < one.size(); ++i) {
            QVERIFY((two[i] - one[i]).abs().max().item<double>() < 1e-12 * std::max(1.0, one[i].abs().max().item<double>()));
        }
    }

    // LoRA adapters in training draw dropout masks: one group, so that the
    // draws do not depend on thread timing. Only the adapters get gradients.
    void loraInTrainingRunsAsOneGroup() {
        Transformer m = withLora(at::kDouble);
        m->train();
        torch::manual_seed(4);
        const std::vector<at::Tensor> one = gradients(m, 1);
        torch::manual_seed(4);
        const std::vector<at::Tensor> two = gradients(m, 2);
        QCOMPARE(two.size(), one.size());
        for (size_t i = 0; i < one.size(); ++i) QVERIFY(at::equal(one[i], two[i]));
    }

    // Sampling in row groups: the same tokens as one batch (each row has its
    // own seeded stream), log-probabilities to float rounding.
    void samplingInGroupsDrawsTheSameTokens() {
        Transformer m = modelWithBiases(at::kFloat);
        const std::vector<TokenIds> prompts{{256, 65, 259}, {256, 66, 67, 259}, {256, 68, 259},
                                            {256, 69, 70, 71, 259}, {256, 72, 259}};
        const std::vector<uint64_t> seeds{1, 2, 3, 4, 5};
        SamplingParams sp;
        sp.maxNewTokens = 20;
        const SampledSequences one = sampleBatch(m, prompts, sp, seeds, 257, 258);
        sp.rowGroups = 2;
        const SampledSequences two = sampleBatch(m, prompts, sp, seeds, 257, 258);
        QCOMPARE(two.tokens, one.tokens);
        QCOMPARE(two.endedWithEos, one.endedWithEos);
        for (size_t i = 0; i < prompts.size(); ++i) {
            QVERIFY(std::abs(two.policyLogprob[i] - one.policyLogprob[i]) < 1e-4);
            QVERIFY(std::abs(two.samplingLogprob[i] - one.samplingLogprob[i]) < 1e-4);
        }
        std::atomic_bool cancel{true};
        QVERIFY(sampleBatch(m, prompts, sp, seeds, 257, 258, &cancel).cancelled);
    }

    // Near the context limit the new-token limit is the whole batch's (set
    // by its longest prompt), not each group's: a group of short prompts
    // must not sample longer than it would in one batch.
    void theNewTokenLimitIsTheWholeBatchs() {
        Transformer m = modelWithBiases(at::kFloat);
        const int64_t context = m->config().maxSeqLen;
        TokenIds longPrompt{256};
        while (static_cast<int64_t>(longPrompt.size()) + 1 < context - 5) longPrompt.push_back(65);
        longPrompt.push_back(259);  // 5 positions left after it
        const std::vector<TokenIds> prompts{longPrompt, {256, 66, 259}, {256, 67, 259}, {256, 68, 259}};
        const std::vector<uint64_t> seeds{1, 2, 3, 4};
        SamplingParams sp;
        sp.maxNewTokens = 40;
        const SampledSequences one = sampleBatch(m, prompts, sp, seeds, -1, 258);  // no EOS: every row runs to the limit
        sp.rowGroups = 2;
        const SampledSequences two = sampleBatch(m, prompts, sp, seeds, -1, 258);
        for (size_t i = 0; i < prompts.size(); ++i) {
            QCOMPARE(one.tokens[i].size(), size_t(5));
            QCOMPARE(two.tokens[i], one.tokens[i]);
        }
    }
};

PREFLAB_TEST_MAIN(TestRowParallel)
#include "tst_row_parallel.moc"
