#pragma once
// Batched sampling with a KV cache. Each sequence draws from its own seeded
// stream, so a sequence's sample does not depend on what else is in the batch.
// Core-private (torch). Runs under NoGradGuard, on the calling thread and, with
// rowGroups > 1, on up to as many threads in all.
#include "core/nn/transformer.h"
#include "core/text/tokenizer.h"

#include <atomic>
#include <cstdint>
#include <vector>

namespace preflab {

struct SamplingParams {
    double temperature = 1.0;  // 0 = greedy
    int topK = 0;              // 0 = off
    double topP = 1.0;         // 1 = off
    int maxNewTokens = 64;
    // Decode through FusedDecoder where the model allows it (the same
    // logits up to float rounding, several times faster for small models);
    // false: always through LibTorch's forwardCached.
    bool fusedDecoding = true;
    // Decode the batch as this many groups of rows side by side
    // (runRowGroups; for small models, whose run has one intra-op thread: see
    // rowGroupsForModel). Every sequence draws from its own stream and the
    // new-token limit is the whole batch's, so the samples are the same as
    // with one group, up to float rounding.
    int rowGroups = 1;
};

struct SampledSequences {
    std::vector<TokenIds> tokens;         // generated ids, EOS included when reached
    std::vector<bool> endedWithEos;
    std::vector<double> policyLogprob;    // sum of log pi(y_t) at temperature 1
    std::vector<double> samplingLogprob;  // sum of log q(y_t) under the distribution actually sampled
    bool cancelled = false;
};

SampledSequences sampleBatch(Transformer& model, const std::vector<TokenIds>& prompts, const SamplingParams& params,
                             const std::vector<uint64_t>& seeds, int32_t eos, int32_t pad,
                             const std::atomic_bool* cancel = nullptr);

}  // namespace preflab
