#pragma once
// Periodic evaluation: fresh samples from the policy on the evaluation
// prompts, their KL to the reference (k1, k3, exact), entropy, true reward,
// length and EOS rate, and the implicit-reward accuracy and margin on the fixed
// held-out preference set, logged as metrics at the current step; and the
// policy's responses to a few fixed prompts (EvalSample), for the completions
// view.
// Core-private (torch); used on the training thread.
#include "core/loop/held_out_preferences.h"
#include "core/loop/loop_context.h"
#include "core/loop/loop_models.h"

#include <atomic>

namespace preflab {

class Evaluator {
public:
    Evaluator(LoopContext& ctx, LoopModels& models, HeldOutPreferences& heldOut)
        : m_ctx(ctx), m_models(models), m_heldOut(heldOut) {}
    // Samples, scores and reports; reports nothing when cancelled.
    void run(const std::atomic_bool& cancel);

    // Prompts whose responses are kept at every evaluation (the completions view).
    static constexpr int64_t kDisplayPrompts = 6;

private:
    std::vector<EvalSample> displaySamples(const std::atomic_bool& cancel);

    LoopContext& m_ctx;
    LoopModels& m_models;
    HeldOutPreferences& m_heldOut;
};

}  // namespace preflab
