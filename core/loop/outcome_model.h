#pragma once
// The CPO family's outcome model g (DR-CPO, OO-RLHF; algorithms.md §3): a
// regression head on the policy's trunk fitted to the ratings, a warm-up on
// the stored ratings before the first policy step, and its predictions.
// Owns the model and its optimizer (outcome_lr, no warm-up of the rate).
// Core-private (torch).
#include "core/loop/loop_context.h"
#include "core/loop/loop_items.h"
#include "core/loop/loop_models.h"
#include "core/loop/parameter_update.h"
#include "core/loop/side_model.h"

#include <atomic>
#include <vector>

namespace preflab {

class OutcomeModel {
public:
    // A scalar head on a copy of the policy; predicts 0 before it is fitted.
    OutcomeModel(LoopContext& ctx, LoopModels& models, ParameterUpdate& update);

    SideModel& side() { return m_side; }
    // True once warmed up, or when resumed from a checkpoint.
    bool fitted() const { return m_fitted || m_side.resumed; }
    // Fits on `stored` (the run's stored ratings, if any) before the first
    // policy step, and reports outcome/warmup_mse.
    void warmUp(const std::vector<RatedItem>& stored, const std::atomic_bool& cancel);
    // One regression step on `items` (target: outcome + length bias x
    // sentences); returns its MSE. A non-finite MSE changes nothing.
    double fit(const std::vector<RatedItem>& items);
    // g at each sequence of `batch` [N], no gradient.
    at::Tensor predict(const SequenceBatch& batch);

private:
    LoopContext& m_ctx;
    LoopModels& m_models;
    ParameterUpdate& m_update;
    SideModel m_side;
    bool m_fitted = false;
};

}  // namespace preflab
