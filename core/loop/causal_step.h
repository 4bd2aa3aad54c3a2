#pragma once
// The CPO family's step (algorithms.md §3): CPO, DR-CPO and OO-RLHF.
//
// Data are responses X_i with outcomes Y_i, sampled by a presenting policy P^R
// whose log-probability of X_i was stored at generation time. The policy f's
// value V(f) = E_{X~P^f}[E[Y|X]] is estimated by
//   CPO     (1/n) sum_i w_i Y_i,  w = n softmax(log P^f - log P^R) (self-normalised)
//   DR-CPO  E_{X'~P^f}[g(X')] + (1/n) sum_i w_i (Y_i - g(X_i)), g cross-fitted
//   OO-RLHF E_{X'~P^f}[g(X')]
// with g the outcome model (outcome_model.h). The policy ascends the
// estimate. Owns the stored ratings and the outcome model. Core-private (torch).
#include "core/loop/family_step.h"
#include "core/loop/loop_context.h"
#include "core/loop/loop_items.h"
#include "core/loop/loop_models.h"
#include "core/loop/outcome_model.h"
#include "core/loop/pair_pipeline.h"
#include "core/loop/parameter_update.h"
#include "core/loop/shuffled_cycle.h"

#include <memory>
#include <optional>
#include <vector>

namespace preflab {

class CausalStep : public FamilyStep {
public:
    // Tokenises setup.ratedResponses (throws std::runtime_error naming a
    // response that is too long or not finite).
    CausalStep(LoopContext& ctx, LoopModels& models, ParameterUpdate& update, PairPipeline& pipeline);
    StepOutcome run(const std::atomic_bool& cancel) override;
    std::vector<SideModel*> sideModels() override { return m_outcome ? m_outcome->sides() : std::vector<SideModel*>{}; }

private:
    // The next batch: stored ratings in a shuffled cycle, or rated fresh
    // responses (generating until enough are judged).
    std::optional<StepOutcome> collectBatch(std::vector<RatedItem>& batch, const std::atomic_bool& cancel);
    // Policy log-probabilities of responses under the tempered sampling distribution.
    at::Tensor temperedLogprobs(const SequenceBatch& batch);

    LoopContext& m_ctx;
    LoopModels& m_models;
    ParameterUpdate& m_update;
    PairPipeline& m_pipeline;
    std::unique_ptr<OutcomeModel> m_outcome;  // dr-cpo and oo-rlhf
    std::vector<RatedItem> m_stored;          // setup.ratedResponses, tokenised
    ShuffledCycle m_storedCycle;
};

}  // namespace preflab
