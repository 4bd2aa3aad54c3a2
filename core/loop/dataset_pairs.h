#pragma once
// Stored preference pairs (setup.offlinePairs) as training batches: the
// offline methods' data and SAIL's mixed-in dataset share. Pairs are drawn in
// a shuffled cycle and tokenised as they are drawn, with their reference
// log-probabilities (computed once per pair: reference_cache.h). Core-private (torch).
#include "core/loop/loop_context.h"
#include "core/loop/loop_items.h"
#include "core/loop/loop_models.h"
#include "core/loop/reference_cache.h"
#include "core/loop/shuffled_cycle.h"

#include <unordered_set>
#include <utility>
#include <vector>

namespace preflab {

class DatasetPairs {
public:
    DatasetPairs(LoopContext& ctx, LoopModels& models) : m_ctx(ctx), m_models(models), m_reference(ctx, models) {}
    bool empty() const { return m_ctx.setup.offlinePairs.empty(); }
    // The next `total` pairs of the cycle are the whole step's (over all
    // ranks); this rank takes `count` of them from `begin` (online = false),
    // each fitted into the model's context by fitPairToContext's rule.
    std::vector<TrainablePair> draw(size_t total, size_t begin, size_t count);
    // How many distinct dataset pairs were cut to fit so far; whether that
    // count grew since the last call.
    size_t truncatedPairs() const { return m_truncated.size(); }
    bool takeTruncationNews() { return std::exchange(m_newlyTruncated, false); }

private:
    LoopContext& m_ctx;
    LoopModels& m_models;
    ReferenceCache m_reference;
    ShuffledCycle m_cycle;
    std::unordered_set<size_t> m_truncated;
    bool m_newlyTruncated = false;
};

}  // namespace preflab
