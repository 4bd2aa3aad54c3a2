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

// DR-CPO's value: mean of g(X') over fresh samples X' ~ P^f, plus
// (1/n) sum_i w_i (Y_i - g(X_i)). With g = 0 it equals CPO; the first term
// alone is OO-RLHF.
at::Tensor drCpoObjective(const at::Tensor& weights, const at::Tensor& outcomes, const at::Tensor& outcomeModelAtData,
                          const at::Tensor& outcomeModelAtFresh);

}  // namespace preflab
