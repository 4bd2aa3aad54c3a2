#pragma once
// The training step of one method family (MethodFamily in the registry):
// pairwise_step.h (DPO family, online DPO, SAIL), ppo_step.h (PPO) and
// causal_step.h (CPO, DR-CPO, OO-RLHF). The loop picks one by the method's
// family and calls it once per step. Core-private.
#include "core/loop/online_loop.h"
#include "core/loop/side_model.h"

#include <atomic>
#include <vector>

namespace preflab {

class FamilyStep {
public:
    virtual ~FamilyStep() = default;
    // Collects a batch, computes the family's loss, updates the policy and
    // reports the step's metrics. Trained (the loop then evaluates and
    // checkpoints when due), or why not.
    virtual StepOutcome run(const std::atomic_bool& cancel) = 0;
    // The models the family trains beside the policy (saved and resumed with
    // its checkpoints, in this order), if any.
    virtual std::vector<SideModel*> sideModels() { return {}; }
};

}  // namespace preflab
