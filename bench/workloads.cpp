#include "bench/workloads.h"

#include "core/algo/pairwise_loss.h"
#include "core/nn/autocast_scope.h"
#include "core/nn/fused_adamw.h"
#include "core/nn/row_parallel_logits.h"
#include "core/nn/sampler.h"
#include "core/nn/sequence_batch.h"
#include "core/runtime/compute_threads.h"
#include "core/task/toy_world_task.h"
#include "core/text/byte_tokenizer.h"

#include <torch/optim/adamw.h>
#include <torch/utils.h>

#include <algorithm>
#include <chrono>
#include <functional>

namespace preflab::bench {
namespace {

using Clock = std::chrono::steady_clock;

std::vector<double> timed(const std::function<void()>& work, int repetitions) {
    work();  // warm-up
    std::vector<double> out;
    for (int i = 0; i < repetitions; ++i) {
        const auto t = Clock::now();
        work();
        out.push_back(std::chrono::duration<double>(Clock::now() - t).count());
    }
    return out;
}

}  // namespace

TransformerConfig tenMillionConfig() {
    TransformerConfig c;
    c.dModel = 384;
    c.nLayers = 6;
    c.nHeads = 6;
    c.dFF = 1536;
    c.maxSeqLen = 128;
    return c;
}

TransformerConfig d128Config() {
    TransformerConfig c;
    c.dModel = 128;
    c.nLayers = 4;
    c.nHeads = 4;
    c.dFF = 512;
    return c;
}

double matmulPeakGflops(bool bf16) {
    const at::ScalarType dt = bf16 ? at::kBFloat16 : at::kFloat;
    const at::Tensor a = at::randn({1024, 1024}).to(dt), b = at::randn({1024, 1024}).to(dt);
    for (int i = 0; i < 2; ++i) a.mm(b);
    const int n = bf16 ? 2 : 20;
    // The best of five timings: a peak is the most the machine gave. One
    // timing on a VM whose neighbours come and go read anywhere from 70 to
    // 183 GFLOP/s (fp32, 2026-12-07), and a share of the step against a low
    // one read 0.97.
    double best = 0;
    for (int rep = 0; rep < 5; ++rep) {
        const auto t = Clock::now();
        for (int i = 0; i < n; ++i) a.mm(b);
        best = std::max(best, 2.0 * 1024 * 1024 * 1024 * n / std::chrono::duration<double>(Clock::now() - t).count() / 1e9);
    }
    return best;
}

double median(std::vector<double> v) {
    if (v.empty()) return 0.0;
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

std::vector<double> dpoStepSeconds(const TransformerConfig& cfg, int pairs, int seqLen, bool bf16, int repetitions,
                                   bool libtorchAdamW) {
    torch::manual_seed(1);
    Transformer m(cfg);
    const torch::optim::AdamWOptions options(1e-4);
    std::unique_ptr<torch::optim::AdamW> optimizer = libtorchAdamW
                                                         ? std::make_unique<torch::optim::AdamW>(m->parameters(), options)
                                                         : std::make_unique<FusedAdamW>(m->parameters(), options);
    torch::optim::AdamW& opt = *optimizer;
    std::vector<TokenIds> prompts, responses;
    for (int i = 0; i < 2 * pairs; ++i) {
        prompts.push_back(TokenIds(seqLen / 4, 65 + i % 7));
        responses.push_back(TokenIds(seqLen - seqLen / 4, 70 + i % 5));
    }
    const SequenceBatch b = packSequences(prompts, responses, ByteTokenizer::kPad);
    const at::Tensor refC = at::zeros({pairs}), refR = at::zeros({pairs});
    return timed(
        [&] {
            opt.zero_grad();
            const at::Tensor lp = sequenceLogprobs(computeLogits(m, b.ids, b.attention, bf16).to(at::kFloat), b);
            pairwiseLoss({}, {lp.narrow(0, 0, pairs), lp.narrow(0, pairs, pairs), refC, refR}).loss.backward();
            opt.step();
        },
        repetitions);
}

double dpoStepFlops(const TransformerConfig& cfg, int pairs, int seqLen) {
    const double tokens = 2.0 * pairs * seqLen;
    const double nonEmbedding = static_cast<double>(cfg.parameterCount() - cfg.maxSeqLen * cfg.dModel);
    return tokens * (6.0 * nonEmbedding + 12.0 * cfg.nLayers * seqLen * cfg.dModel);
}

std::vector<double> samplingSeconds(const TransformerConfig& cfg, int prompts, int newTokens, int promptTokens,
                                    int repetitions) {
    ComputeThreadsScope threads(computeThreadsForModel(cfg.parameterCount(), 0));
    torch::manual_seed(2);
    Transformer m(cfg);
    TokenIds prompt{ByteTokenizer::kBos};
    while (static_cast<int>(prompt.size()) + 1 < promptTokens) prompt.push_back(65 + static_cast<int32_t>(prompt.size()) % 26);
    prompt.push_back(ByteTokenizer::kSep);
    const std::vector<TokenIds> p(static_cast<size_t>(prompts), prompt);
    std::vector<uint64_t> seeds;
    for (int i = 0; i < prompts; ++i) seeds.push_back(static_cast<uint64_t>(i + 1));
    SamplingParams sp;
    sp.maxNewTokens = newTokens;
    sp.rowGroups = rowGroupsForModel(cfg.parameterCount(), 0);  // as a run plans it
    return timed([&] { sampleBatch(m, p, sp, seeds, -1, ByteTokenizer::kPad); }, repetitions);
}

std::vector<double> onlineDpoStepSeconds(int repetitions, double* tokensPerStep) {
    const TransformerConfig cfg;  // the built-in model's shape
    ComputeThreadsScope threads(computeThreadsForModel(cfg.parameterCount(), 0));
    const int rows = rowGroupsForModel(cfg.parameterCount(), 0);  // as the loop plans it
    torch::manual_seed(3);
    Transformer policy(cfg);
    Transformer reference = cloneTransformer(policy);
    reference->eval();
    FusedAdamW opt(policy->parameters(), torch::optim::AdamWOptions(5e-5));
    const ByteTokenizer tokenizer;
    const ToyWorldTask task;
    const std::vector<TaskPrompt> asks = task.prompts(64, 3);
    size_t cursor = 0;
    uint64_t seed = 1;
    double sampled = 0;
    int steps = 0;
    const std::vector<double> seconds = timed(
        [&] {
            std::vector<TokenIds> prompts;
            std::vector<uint64_t> seeds;
            std::vector<const TaskPrompt*> taskPrompts;
            for (int i = 0; i < 8; ++i) {
                const TaskPrompt& p = asks[cursor++ % asks.size()];
                taskPrompts.push_back(&p);
                for (int slot = 0; slot < 2; ++slot) {
                    prompts.push_back(tokenizer.promptIds(p.text));
                    seeds.push_back(seed++);
                }
            }
            SamplingParams sp;
            sp.maxNewTokens = 80;
            sp.rowGroups = rows;
            const SampledSequences s = sampleBatch(policy, prompts, sp, seeds, ByteTokenizer::kEos, ByteTokenizer::kPad);
            for (const TokenIds& t : s.tokens) sampled += static_cast<double>(t.size());
            ++steps;
            std::vector<TokenIds> pairPrompts, responses(16);
            for (size_t i = 0; i < 8; ++i) {
                const TokenIds &a = s.tokens[2 * i], &b = s.tokens[2 * i + 1];
                const bool aWins = task.score(*taskPrompts[i], tokenizer.decode(a)).total() >=
                                   task.score(*taskPrompts[i], tokenizer.decode(b)).total();
                responses[i] = aWins ? a : b;
                responses[8 + i] = aWins ? b : a;
                pairPrompts.push_back(prompts[2 * i]);
            }
            pairPrompts.insert(pairPrompts.end(), pairPrompts.begin(), pairPrompts.end());
            const SequenceBatch batch = packSequences(pairPrompts, responses, ByteTokenizer::kPad);
            at::Tensor ref;
            {
                torch::NoGradGuard noGrad;
                ref = sequenceLogprobs(rowParallelLogits(reference, batch.ids, batch.attention, false, rows), batch);
            }
            policy->train();
            opt.zero_grad();
            const at::Tensor lp = sequenceLogprobs(rowParallelLogits(policy, batch.ids, batch.attention, false, rows), batch);
            pairwiseLoss({}, {lp.narrow(0, 0, 8), lp.narrow(0, 8, 8), ref.narrow(0, 0, 8), ref.narrow(0, 8, 8)})
                .loss.backward();
            opt.step();
        },
        repetitions);
    *tokensPerStep = steps > 0 ? sampled / steps : 0.0;  // the warm-up step included
    return seconds;
}

}  // namespace preflab::bench
