#pragma once
// Periodic evaluation: fresh samples from the policy on the evaluation
// prompts, their KL to the reference (k1, k3, exact), entropy, true reward,
// length and EOS rate, and the implicit-reward accuracy and margin on the fixed
// held-out preference set, logged as metrics at the current step; the win
// rate of the policy's responses against the reference's on the first
// win_rate_prompts evaluation prompts (core/values/win_rate.h) and a proxy
// gold from gold_model; and the policy's responses to a few fixed prompts
// (EvalSample), for the completions view. Nothing here draws from the
// training's random streams: samples have their own seeds, and judges made
// here are made with torch's generator state put back.
// Core-private (torch); used on the training thread.
#include "core/judges/reward_model.h"
#include "core/loop/held_out_preferences.h"
#include "core/loop/loop_context.h"
#include "core/loop/loop_models.h"

#include <atomic>
#include <memory>
#include <string>
#include <vector>

namespace preflab {

class Evaluator {
public:
    Evaluator(LoopContext& ctx, LoopModels& models, HeldOutPreferences& heldOut);
    ~Evaluator();
    // Samples, scores and reports; reports nothing when cancelled.
    void run(const std::atomic_bool& cancel);

    // Prompts whose responses are kept at every evaluation (the completions view).
    static constexpr int64_t kDisplayPrompts = 6;

private:
    std::vector<EvalSample> displaySamples(const std::atomic_bool& cancel);
    // The win-rate judge and the reference's responses, made at the first
    // evaluation (false when cancelled first, or when there is no judge: a
    // notice then says why, once).
    bool prepareWinRate(const std::atomic_bool& cancel);
    // Judges policy against reference on the first prompts; adds the metrics
    // (with the seconds since `began`).
    void addWinRate(const std::vector<std::string>& policyTexts, Metrics& metrics, Clock::time_point began,
                    const std::atomic_bool& cancel);
    void addProxyGold(const std::vector<std::string>& texts, Metrics& metrics);

    LoopContext& m_ctx;
    LoopModels& m_models;
    HeldOutPreferences& m_heldOut;
    int64_t m_winRatePrompts = 0;  // win_rate_prompts, at most the evaluation prompts
    bool m_winRateTried = false;
    std::unique_ptr<Judge> m_winRateJudge;
    std::vector<std::string> m_referenceTexts;  // the reference's response to each win-rate prompt
    std::unique_ptr<RewardModelJudge> m_goldModel;
};

}  // namespace preflab
