#pragma once
// A fixed held-out preference set, never trained on, labelled as the run's
// judge labels:
//   - judge task or self: pairs sampled once from the reference policy,
//     labelled by the task's true reward (the self judge's own verdict on
//     reference samples would be the reference's, all ties);
//   - judge reward_model: the same pairs, labelled by the reward model;
//   - a person (human, human+task, human+self): a share of the person's own
//     A/B labels (held_out_share, chosen by pair index) is held back from
//     training as they come, until held_out_pairs are held; after a resume the
//     run's earlier held-back labels are taken again (LoopSetup::heldBackPairs).
// Ties are left out. What is held out is the pairs: the built-in task has 112
// distinct prompts, and a run's 512 training prompts cover them, so the
// prompts are not new.
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

enum class HeldOutLabels { TrueReward, RewardModel, HeldBackHumanLabels };

class HeldOutPreferences {
public:
    HeldOutPreferences(LoopContext& ctx, LoopModels& models);
    HeldOutLabels labels() const { return m_labels; }
    // A person's A/B label (held-back labelling only): true when the pair is
    // held back, i.e. added to the set and not to be trained on.
    bool holdBack(int64_t pairIndex, const TokenIds& prompt, const TokenIds& chosen, const TokenIds& rejected,
                  double refChosen, double refRejected);
    // Held-back labels report nothing below this many pairs.
    static constexpr size_t kMinimumHeldBack = 8;
    // Builds the set on first use (the same set after a resume: its prompts
    // and sampling seeds follow from the run's seed alone). Returns false
    // when cancelled or when no pair has two different gold rewards.
    bool evaluate(const std::atomic_bool& cancel, HeldOutStats* out);
    size_t pairCount() const { return m_prompts.size(); }
    // The sampled pairs as text (built sets only; for tests and inspection):
    // the prompt, the chosen and the rejected response.
    struct PairText {
        std::string prompt, chosen, rejected;
    };
    std::vector<PairText> sampledPairs() const;

private:
    bool build(const std::atomic_bool& cancel);
    // The earlier held-back labels of a resumed run (setup.heldBackPairs).
    void takeResumedLabels();

    LoopContext& m_ctx;
    LoopModels& m_models;
    HeldOutLabels m_labels;
    bool m_built = false;
    std::vector<TokenIds> m_prompts, m_chosen, m_rejected;
    std::vector<std::string> m_promptTexts;  // built sets: each pair's prompt
    std::vector<double> m_refChosen, m_refRejected;
};

}  // namespace preflab
