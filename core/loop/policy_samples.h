#pragma once
// One response per training prompt, sampled from the current policy: PPO's
// rollouts and the fresh samples the CPO family's outcome model scores.
// Core-private (torch).
#include "core/loop/loop_context.h"
#include "core/loop/loop_models.h"

#include <atomic>

namespace preflab {

struct PolicySamples {
    std::vector<const TaskPrompt*> taskPrompts;  // in LoopContext::trainPrompts
    std::vector<TokenIds> prompts;
    SampledSequences sampled;  // sampled.cancelled when cancelled
};

// The next `count` training prompts (advances ctx.nextPairIndex), one policy
// sample each, seeded from the run's seed, the pair index and `salt`.
PolicySamples samplePolicy(LoopContext& ctx, LoopModels& models, int64_t count, uint64_t salt,
                           const std::atomic_bool& cancel);
// The next `prompts` training prompts, `k` policy samples of each (the
// group methods): rows g*k ... g*k + k - 1 are prompt g's group.
PolicySamples samplePolicyGroups(LoopContext& ctx, LoopModels& models, int64_t prompts, int64_t k, uint64_t salt,
                                 const std::atomic_bool& cancel);

}  // namespace preflab
