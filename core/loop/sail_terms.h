#pragma once
// SAIL's terms on top of the DPO loss (algorithms.md §2): the exploration
// surrogate of SAIL-PR and SAIL-PP, SAIL-PP's self-judged square, and
// SAIL-DP's preferences re-drawn from the policy with its rho term. Each
// draws its routing from the run's seed and the step. Core-private (torch).
#include "core/algo/pairwise_loss.h"
#include "core/loop/loop_context.h"
#include "core/loop/loop_items.h"

#include <vector>

namespace preflab {

struct DatasetRedraw {
    at::Tensor mask;     // [N] 1 for the pairs routed to the policy's preference
    double routed = 0;   // how many were routed
    double swapped = 0;  // how many of those swapped chosen and rejected
};

// SAIL-DP: each dataset pair is routed with probability r; a routed pair's
// preference is re-drawn from the policy, swapped (in `lp`) with probability
// 1 - s(beta h).
DatasetRedraw redrawDatasetPreferences(const LoopContext& ctx, PairLogps& lp);
// SAIL-DP's -1/2 rho ell^2 on the routed pairs (none routed or rho 0: nothing).
void addRedrawSquare(const LoopContext& ctx, const PairLogps& lp, const DatasetRedraw& redraw, LossOutput& out);
// SAIL-PR / SAIL-PP: the SAIL terms apply to the policy pairs of a mixed
// batch (`mixesDatasetPairs`), or (no dataset) to each pair with probability
// sail_prob; with no pair routed the loss is exactly the DPO loss. Other
// methods: nothing.
// `sampledChosen` / `sampledRejected` are the responses' log-probabilities under
// the distribution they were sampled from (tempered), for the exploration term.
void addSailTerms(const LoopContext& ctx, bool mixesDatasetPairs, const PairLogps& lp, const at::Tensor& sampledChosen,
                  const at::Tensor& sampledRejected, const std::vector<TrainablePair>& batch, LossOutput& out);

}  // namespace preflab
