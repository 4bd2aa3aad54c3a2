#pragma once
// Stored preference pairs (setup.offlinePairs) as training batches: the
// offline methods' data and SAIL's mixed-in dataset share. Pairs are drawn in
// a shuffled cycle and tokenised, with their reference log-probabilities, as
// they are drawn. Core-private (torch).
#include "core/loop/loop_context.h"
#include "core/loop/loop_items.h"
#include "core/loop/loop_models.h"
#include "core/loop/shuffled_cycle.h"

#include <vector>

namespace preflab {

class DatasetPairs {
public:
    DatasetPairs(LoopContext& ctx, LoopModels& models) : m_ctx(ctx), m_models(models) {}
    bool empty() const { return m_ctx.setup.offlinePairs.empty(); }
    // The next `count` pairs of the cycle (online = false).
    std::vector<TrainablePair> draw(size_t count);

private:
    LoopContext& m_ctx;
    LoopModels& m_models;
    ShuffledCycle m_cycle;
};

}  // namespace preflab
