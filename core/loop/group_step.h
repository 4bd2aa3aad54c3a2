#pragma once
// The group methods' step (algorithms.md §7): GRPO and RLOO. Each step
// samples num_generations responses to each of batch_size / num_generations
// prompts, scores them (the reward model given as reward_model, else the
// task's true reward), turns the rewards into advantages within each group
// (GRPO: centred and scaled by the group's spread; RLOO: minus the mean of
// the other samples, after a KL penalty in the reward), and updates the
// policy with a clipped surrogate over group_epochs passes, the old
// log-probabilities fixed at sampling. No value model. Core-private (torch).
#include "core/loop/family_step.h"
#include "core/loop/loop_context.h"
#include "core/loop/loop_models.h"
#include "core/loop/parameter_update.h"
#include "core/judges/reward_model.h"

#include <memory>

namespace preflab {

class GroupStep : public FamilyStep {
public:
    GroupStep(LoopContext& ctx, LoopModels& models, ParameterUpdate& update);
    StepOutcome run(const std::atomic_bool& cancel) override;

private:
    LoopContext& m_ctx;
    LoopModels& m_models;
    ParameterUpdate& m_update;
    std::unique_ptr<RewardScorer> m_scorer;  // null: the task's true reward
};

}  // namespace preflab
