#pragma once
// A scalar-head model trained beside the policy, with its optimizer: PPO's
// value model or the CPO family's outcome model. Checkpoints save it beside
// the policy (sideModelPath) and a resume loads it. Core-private (torch).
#include "core/nn/transformer.h"

#include <torch/optim/adamw.h>

#include <memory>

namespace preflab {

struct SideModel {
    Transformer model{nullptr};
    std::unique_ptr<torch::optim::AdamW> optimizer;
    bool resumed = false;  // loaded from a checkpoint: already trained
};

}  // namespace preflab
