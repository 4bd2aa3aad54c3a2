#pragma once
// A run's checkpoints: writing the policy with its optimizer state and the
// loop's counters (and the side model beside it), and resuming from one.
// Paths come from checkpoint_paths.h. Core-private (torch).
#include "core/loop/loop_context.h"
#include "core/loop/loop_models.h"
#include "core/loop/side_model.h"

#include <string>
#include <vector>

namespace preflab {

class Checkpoints {
public:
    Checkpoints(LoopContext& ctx, LoopModels& models) : m_ctx(ctx), m_models(models) {}
    // Loads setup.resumeFrom into the policy, its optimizer and each of
    // `sides` whose file exists, and restores the step and pair counters.
    // False when the run starts fresh.
    bool resume(const std::vector<SideModel*>& sides);
    // Writes the current step's checkpoint (and `sides` beside it), reports it; returns its path.
    std::string save(const std::vector<SideModel*>& sides);

private:
    LoopContext& m_ctx;
    LoopModels& m_models;
};

}  // namespace preflab
