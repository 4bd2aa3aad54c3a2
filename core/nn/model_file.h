#pragma once
// PrefLab's own model and checkpoint files (LibTorch archives): the weights, the
// transformer config, the tokenizer name and, for checkpoints, the optimizer
// state and loop counters. A model with LoRA adapters is saved as its
// adapters and their settings only: the frozen base comes from the model the
// run started from (a few MB instead of the whole model per checkpoint). Writes go to a temporary file that is renamed into
// place, so an interrupted write never replaces a good file.
// Core-private (torch). Errors are ModelFileError naming the file.
#include "core/nn/transformer.h"

#include <torch/optim/optimizer.h>

#include <map>
#include <stdexcept>
#include <string>

namespace preflab {

class ModelFileError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct ModelFileInfo {
    TransformerConfig config;
    std::string tokenizer = "byte";
    std::map<std::string, int64_t> counters;  // checkpoint state, e.g. "step"
    LoraConfig lora;                          // rank 0: the file holds every weight
};

void saveModelFile(const std::string& path, Transformer& model, const ModelFileInfo& info,
                   torch::optim::Optimizer* optimizer = nullptr);

ModelFileInfo readModelInfo(const std::string& path);
// Loads weights into a new model built from the file's config.
Transformer loadModelFile(const std::string& path, ModelFileInfo* info = nullptr,
                          torch::optim::Optimizer* optimizer = nullptr);
// Loads weights (and optimizer state) into an existing model of the same shape.
// An adapters-only file needs the model it was trained from: its adapters are
// added to `model` when it has none (else their settings must match).
ModelFileInfo loadModelInto(const std::string& path, Transformer& model, torch::optim::Optimizer* optimizer = nullptr);

}  // namespace preflab
