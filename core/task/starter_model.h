#pragma once
// The built-in starter model: a small transformer pretrained on the built-in
// task's corpus until its samples are mostly well-formed but vary in true
// reward. Pretrained once and cached; later runs start at once.
// No torch in this header.
#include "core/nn/transformer_config.h"

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

namespace preflab {

struct PretrainSpec {
    TransformerConfig model;  // defaults: d 96, 4 layers, 4 heads, ~0.5 M parameters
    int64_t steps = 600;
    int64_t batchSize = 24;
    double lr = 3e-3;  // cosine decay to 10 % after a short warm-up
    uint64_t seed = 20240601;
    int threads = 0;

    // Identifies the resulting weights (the cache key).
    std::string fingerprint() const;
};

struct PretrainProgress {
    int64_t step = 0;
    int64_t totalSteps = 0;
    double loss = 0;  // mean token cross-entropy (nats) over the last steps
    double seconds = 0;
};

struct PretrainResult {
    bool completed = false;  // false when cancelled
    double finalLoss = 0;
    double seconds = 0;
};

// Trains from scratch and writes the model file at outPath (atomically).
PretrainResult pretrainStarterModel(const PretrainSpec& spec, const std::string& outPath,
                                    const std::function<void(const PretrainProgress&)>& progress = {},
                                    const std::atomic_bool* cancel = nullptr);

// Where the cached starter model for `spec` lives under dataDir.
std::string starterModelPath(const std::string& dataDir, const PretrainSpec& spec = {});

}  // namespace preflab
