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

// SAIL-RevKL's regulariser (algorithms.md §2): a surrogate whose expected
// gradient over y ~ q_theta is grad KL(q_theta || q_ref), and the k3 value it
// stands for. tokenDelta [N,T'] is log q_theta(y_t) - log q_ref(y_t) at the
// response tokens (0 elsewhere), differentiable in theta; sampledLogprobs [N]
// the sequences' log q_theta (differentiable); rows [N] 0/1 selects fresh
// samples. Per sequence k3 = sum_t exp(-d_t) - 1 + d_t; the surrogate is
// mean over selected rows of k3_i + sg(k3_i - b_i) log q_theta(y_i), b_i the
// mean k3 of the other selected rows (leave-one-out). The pathwise part alone
// would follow grad KL(q_ref || q_theta), the other direction.
struct ReverseKlTerm {
    at::Tensor surrogate;  // scalar, differentiable
    double meanK3 = 0;     // the KL estimate over the selected rows
};
ReverseKlTerm reverseKlSurrogate(const at::Tensor& tokenDelta, const at::Tensor& sampledLogprobs, const at::Tensor& rows);

enum class KlEstimator { K1, K3, Exact };
// "k1" | "k3" | "exact"; throws std::invalid_argument otherwise.
KlEstimator parseKlEstimator(const std::string& name);

}  // namespace preflab
