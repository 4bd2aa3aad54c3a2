#pragma once
// KL(pi_theta || pi_ref) on fresh samples y ~ pi_theta (algorithms.md §0), per
// sequence, summed over response tokens. Core-private (torch).
#include "core/nn/sequence_batch.h"

#include <string>

namespace preflab {

struct KlPerSequence {
    at::Tensor k1;       // sum_t d_t, d_t = log pi(y_t) - log ref(y_t)
    at::Tensor k3;       // sum_t exp(-d_t) - 1 + d_t  (never negative)
    at::Tensor exact;    // sum_t sum_v pi(v) (log pi(v) - log ref(v))
    at::Tensor entropy;  // sum_t -sum_v pi(v) log pi(v)
};

KlPerSequence klPerSequence(const at::Tensor& policyLogits, const at::Tensor& refLogits, const SequenceBatch& batch);

enum class KlEstimator { K1, K3, Exact };
// "k1" | "k3" | "exact"; throws std::invalid_argument otherwise.
KlEstimator parseKlEstimator(const std::string& name);

}  // namespace preflab
