#pragma once
// The pairs' way from the policy to a batch: generation rounds of two
// responses per prompt, the judge, the pairs awaiting judgement and the
// buffers of judged ones (pairs for the pairwise family, rated responses for
// the CPO family). Core-private (torch); used on the training thread.
#include "core/values/judge.h"
#include "core/loop/held_out_preferences.h"
#include "core/loop/loop_context.h"
#include "core/loop/loop_items.h"
#include "core/loop/loop_models.h"
#include "core/loop/parameter_update.h"

#include <atomic>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>

namespace preflab {

// Rounds in a row without a usable judgement before the run halts.
inline constexpr int kMaxBarrenRounds = 50;

class PairPipeline {
public:
    // A person's A/B labels pass `heldOut`, which may keep them out of training.
    PairPipeline(LoopContext& ctx, LoopModels& models, ParameterUpdate& update, std::unique_ptr<Judge> judge,
                 HeldOutPreferences& heldOut);

    Judge& judge() { return *m_judge; }
    // Moves judged pairs into the ready buffers; returns how many items are trainable.
    int absorbJudgements();
    // Generates and judges until `count` judged pairs are ready, then moves
    // them into `batch`; or why it stopped early (a person is behind, cancel,
    // nothing usable: halted).
    std::optional<StepOutcome> takePairs(size_t count, std::vector<TrainablePair>& batch, const std::atomic_bool& cancel);
    // The same for rated responses (the CPO family, fresh ratings).
    std::optional<StepOutcome> takeRated(size_t count, std::vector<RatedItem>& batch, const std::atomic_bool& cancel);
    // Appends judge/untrainable_share (when anything was judged since the
    // last step) and starts counting afresh.
    void appendUntrainableShare(Metrics& metrics);
    // Seconds spent generating since the last call.
    double takeGenerationSeconds();

private:
    // One round: generation_batch prompts, two samples each, submitted to the judge.
    bool generateRound(const std::atomic_bool& cancel);
    // Generates and judges rounds until readyCount() reaches count.
    std::optional<StepOutcome> generateUntil(const std::function<size_t()>& readyCount, size_t count,
                                             const std::atomic_bool& cancel, const std::string& barrenMessage);

    LoopContext& m_ctx;
    LoopModels& m_models;
    ParameterUpdate& m_update;  // a barren pipeline halts the run as a failed update does
    std::unique_ptr<Judge> m_judge;
    HeldOutPreferences& m_heldOut;
    const bool m_rated;  // the CPO family: judgements become rated responses
    std::map<int64_t, Candidate> m_awaiting;
    std::deque<TrainablePair> m_ready;
    std::deque<RatedItem> m_ratedReady;
    double m_generationSeconds = 0;  // since the last training step
    int m_barrenRounds = 0;
    int64_t m_judgedSinceStep = 0, m_untrainableSinceStep = 0, m_identicalSinceStep = 0;
    OrderChecks m_orderChecksSinceStep;  // a judge that asks both orders (the LLM judge)
};

}  // namespace preflab
