#include "core/loop/policy_samples.h"

#include "core/values/seed_mix.h"

namespace preflab {

PolicySamples samplePolicy(LoopContext& ctx, LoopModels& models, int64_t count, uint64_t salt,
                           const std::atomic_bool& cancel) {
    // A group of one per prompt: sample j = 0's seed is the prompt's own.
    return samplePolicyGroups(ctx, models, count, 1, salt, cancel);
}

PolicySamples samplePolicyGroups(LoopContext& ctx, LoopModels& models, int64_t prompts, int64_t k, uint64_t salt,
                                 const std::atomic_bool& cancel) {
    PolicySamples out;
    std::vector<uint64_t> seeds;
    for (int64_t i = 0; i < prompts; ++i) {
        const int64_t index = ctx.pairIndexAt(ctx.nextPairIndex + i);
        const TaskPrompt& p = ctx.trainPrompt(index);
        const TokenIds ids = models.promptIds(p.text);
        for (int64_t j = 0; j < k; ++j) {
            out.taskPrompts.push_back(&p);
            out.prompts.push_back(ids);
            seeds.push_back(mixSeed(ctx.seed(), static_cast<uint64_t>(index), salt + static_cast<uint64_t>(j) * 0x10001));
        }
    }
    ctx.nextPairIndex += prompts;
    models.policy->eval();
    out.sampled = sampleBatch(models.policy, out.prompts, models.sampling, seeds, models.eos(), models.pad(), &cancel);
    return out;
}

}  // namespace preflab
