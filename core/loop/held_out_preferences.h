#pragma once
// A fixed held-out preference set: pairs sampled once from the reference
// policy and never trained on, labelled by the task's true reward (the
// response with the higher gold reward is "chosen"; ties are left out). What
// is held out is the pairs: the built-in task has 112 distinct prompts, and a
// run's 512 training prompts cover them, so the prompts are not new.
// At every evaluation the policy's implicit reward beta * log(pi/pi_ref) is
// compared on them: eval/rewards/accuracies and eval/rewards/margins.
//
// Why: the on-policy rewards/margins and rewards/accuracies are measured on the
// policy's own fresh samples, and a sample the reference finds unlikely carries
// a large log-ratio just because it was drawn, so they can fall while the
// policy gets better. These pairs stay the same for the whole run, so their
// curve says whether the policy ranks responses the way the task does.
// Measured for the pairwise methods (the DPO family, SAIL), whose beta
// defines the implicit reward. Core-private (torch).
#include "core/loop/loop_context.h"
#include "core/loop/loop_models.h"

#include <atomic>
#include <vector>

namespace preflab {

struct HeldOutStats {
    double accuracy = 0;  // share of pairs whose chosen response has the strictly higher implicit reward
    double margin = 0;    // mean of beta * ((lp_c - ref_c) - (lp_r - ref_r))
};

// The statistics of one evaluation from per-pair sequence log-probabilities.
HeldOutStats heldOutStats(const std::vector<double>& policyChosen, const std::vector<double>& policyRejected,
                          const std::vector<double>& refChosen, const std::vector<double>& refRejected, double beta);

class HeldOutPreferences {
public:
    HeldOutPreferences(LoopContext& ctx, LoopModels& models) : m_ctx(ctx), m_models(models) {}
    // Builds the set on first use (the same set after a resume: its prompts
    // and sampling seeds follow from the run's seed alone). Returns false
    // when cancelled or when no pair has two different gold rewards.
    bool evaluate(const std::atomic_bool& cancel, HeldOutStats* out);
    size_t pairCount() const { return m_prompts.size(); }

private:
    bool build(const std::atomic_bool& cancel);

    LoopContext& m_ctx;
    LoopModels& m_models;
    bool m_built = false;
    std::vector<TokenIds> m_prompts, m_chosen, m_rejected;
    std::vector<double> m_refChosen, m_refRejected;
};

}  // namespace preflab
