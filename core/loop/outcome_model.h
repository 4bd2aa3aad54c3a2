#pragma once
// The CPO family's outcome model g (DR-CPO, OO-RLHF; algorithms.md §3),
// cross-fitted: two regression heads on copies of the policy's trunk, one per
// fold of the rated data (RatedItem::fold). Each is fitted on its own fold
// only; a rated response's residual Y - g(X) is taken from the model that was
// not fitted on it, so the doubly robust correction is not shrunk by
// overfitting (Chernozhukov et al.'s cross-fitting; Lin et al. §4). Fresh
// samples X' are scored by the mean of the two. Owns both models and their
// optimizers (outcome_lr, no warm-up of the rate). Core-private (torch).
#include "core/loop/loop_context.h"
#include "core/loop/loop_items.h"
#include "core/loop/loop_models.h"
#include "core/loop/parameter_update.h"
#include "core/loop/side_model.h"

#include <array>
#include <atomic>
#include <vector>

namespace preflab {

class OutcomeModel {
public:
    // Scalar heads on copies of the policy; predict 0 before they are fitted.
    OutcomeModel(LoopContext& ctx, LoopModels& models, ParameterUpdate& update);

    // Both folds' models, fold 0 first (checkpointed beside the policy).
    std::vector<SideModel*> sides() { return {&m_fold[0], &m_fold[1]}; }
    // True once warmed up, or when both were resumed from a checkpoint.
    bool fitted() const { return m_fitted || (m_fold[0].resumed && m_fold[1].resumed); }
    // Fits each fold's model on its fold of `stored` (the run's stored
    // ratings, if any) before the first policy step; reports outcome/warmup_mse.
    void warmUp(const std::vector<RatedItem>& stored, const std::atomic_bool& cancel);
    // One regression step of each fold's model on its items of `items`
    // (target: outcome + length bias x sentences); returns the mean MSE. A
    // non-finite MSE changes nothing.
    double fit(const std::vector<RatedItem>& items);
    // Out-of-fold g at each rated item (the other fold's model) [N], no gradient.
    at::Tensor predictHeldOut(const std::vector<RatedItem>& items, const SequenceBatch& batch);
    // g at fresh samples: the mean of both folds' models [N], no gradient.
    at::Tensor predictFresh(const SequenceBatch& batch);

private:
    // One regression step of fold `k` on `items` (all of that fold); its MSE.
    double fitFold(int k, const std::vector<const RatedItem*>& items);
    at::Tensor predict(int k, const SequenceBatch& batch);

    LoopContext& m_ctx;
    LoopModels& m_models;
    ParameterUpdate& m_update;
    std::array<SideModel, 2> m_fold;
    bool m_fitted = false;
};

}  // namespace preflab
