#pragma once
// Pairwise preference losses on sequence log-probabilities, with the metrics of
// algorithms.md §0 under TRL's names. The one place pairwise methods live: the
// algorithm suite adds its methods to PairwiseMethod and pairwiseLoss().
// Core-private (torch).
#include <ATen/ATen.h>

#include <string>
#include <utility>
#include <vector>

namespace preflab {

enum class PairwiseMethod { Dpo };

struct PairwiseOptions {
    PairwiseMethod method = PairwiseMethod::Dpo;
    double beta = 0.1;
};

// Sequence log-probabilities c(x,y), each [N]: policy and frozen reference, for
// the chosen (y_w) and rejected (y_l) responses.
struct PairLogps {
    at::Tensor policyChosen, policyRejected, refChosen, refRejected;
};

using MetricList = std::vector<std::pair<std::string, double>>;

struct LossOutput {
    at::Tensor loss;  // scalar, mean over pairs, differentiable
    MetricList metrics;
};

// h = [c(y_w) - c_ref(y_w)] - [c(y_l) - c_ref(y_l)]
at::Tensor logRatioMargin(const PairLogps& p);

LossOutput pairwiseLoss(const PairwiseOptions& options, const PairLogps& logps);

}  // namespace preflab
