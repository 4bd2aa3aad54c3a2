#pragma once
// PPO's step (algorithms.md §4): one response per prompt, scored at its end
// by the reward model (none: the task's true reward); per-token KL penalty;
// GAE; whitened advantages; then ppo_epochs passes of ppo_minibatches
// clipped policy and value updates over the rollout batch, with the old
// log-probabilities, values and advantages fixed at rollout time. One step of
// the run is one rollout batch. Owns the value model and the reward model's
// scorer. Core-private (torch).
#include "core/loop/family_step.h"
#include "core/loop/loop_context.h"
#include "core/loop/loop_models.h"
#include "core/loop/parameter_update.h"
#include "core/judges/reward_scorer.h"

#include <memory>
#include <optional>

namespace preflab {

class PpoStep : public FamilyStep {
public:
    // The value model starts from the reward model when there is one, else
    // from the policy with a new scalar head.
    PpoStep(LoopContext& ctx, LoopModels& models, ParameterUpdate& update);
    StepOutcome run(const std::atomic_bool& cancel) override;
    std::vector<SideModel*> sideModels() override { return {&m_value}; }

private:
    struct Rollout;  // one scored rollout batch and what stays fixed over its passes
    struct Passes;   // what the passes over it measured
    // The passes over one rollout batch; nullopt when an update halted.
    std::optional<Passes> optimise(const Rollout& rollout);

    LoopContext& m_ctx;
    LoopModels& m_models;
    ParameterUpdate& m_update;
    std::unique_ptr<RewardScorer> m_scorer;  // null: the task's true reward
    SideModel m_value;
};

}  // namespace preflab
