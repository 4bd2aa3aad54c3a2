#pragma once
// CPO, DR-CPO and OO-RLHF (algorithms.md §3) on numeric outcome ratings:
// self-normalised importance weights from the policy's and the presenting
// (behaviour) policy's log-probabilities, optional pessimistic clipping, the
// doubly robust estimate with an outcome model, and their diagnostics.
// Core-private (torch).
#include <ATen/ATen.h>

namespace preflab {

// w_i = n softmax_i(log P^f(X_i) - log P^R(X_i)): mean 1 over the batch;
// differentiable in logpPolicy.
at::Tensor selfNormalizedWeights(const at::Tensor& logpPolicy, const at::Tensor& logpBehaviour);

struct WeightDiagnostics {
    double effectiveSampleSize = 0;  // (sum w)^2 / sum w^2
    double maxWeight = 0;
};
WeightDiagnostics weightDiagnostics(const at::Tensor& weights);

// CPO's objective (to maximise): (1/n) sum_i w_i Y_i, or with pessimistic
// clipping (1/n) sum_i min(w_i A_i, clip(w_i, 1 - c, 1 + c) A_i).
at::Tensor cpoObjective(const at::Tensor& weights, const at::Tensor& outcomes, double clip = 0.0);

// What the policy ascends, and the value estimate V(f) it stands for.
struct CausalObjective {
    at::Tensor surrogate;  // scalar; its gradient is the estimate's policy gradient
    double value = 0;      // the value estimate at the current policy
};

// CPO: V = (1/n) sum_i w_i Y_i; the surrogate is cpoObjective on Y - mean(Y)
// (sum w_i = n is constant, so centring changes no gradient and gives the
// clip an advantage to act on).
CausalObjective cpoEstimate(const at::Tensor& weights, const at::Tensor& outcomes, double clip = 0.0);

// DR-CPO: V = mean_j g(X'_j) + (1/n) sum_i w_i (Y_i - g(X_i)) with X'_j fresh
// samples from P^f and g(X_i) out of fold (cross-fitted). The surrogate's
// gradient is the score-function gradient of the first term,
// mean_j (g(X'_j) - mean_{k != j} g(X'_k)) grad log P^f(X'_j) (a leave-one-out
// baseline, so it is unbiased; freshLogprobs differentiable),
// plus the weighted correction's (cpoObjective on the centred residuals).
// With g = 0 it equals CPO; the first term alone is OO-RLHF.
CausalObjective drCpoObjective(const at::Tensor& weights, const at::Tensor& outcomes, const at::Tensor& outcomeModelAtData,
                               const at::Tensor& outcomeModelAtFresh, const at::Tensor& freshLogprobs,
                               double clip = 0.0);

// OO-RLHF: V = mean_j g(X'_j), with the score-function surrogate of DR-CPO's first term.
CausalObjective ooRlhfObjective(const at::Tensor& outcomeModelAtFresh, const at::Tensor& freshLogprobs);

}  // namespace preflab
