#pragma once
// Finds the cached starter model, pretraining it first (with a progress bar)
// when it is missing. Returns the model file path; throws on failure.
#include <cstdio>
#include <string>

namespace preflab {

std::string ensureStarterModel(const std::string& dataDir, bool force = false, long long steps = 0);

// The reward model's cached base (core/task/reward_base_model.h), pretrained
// first with the starter's progress bar and its time printed when missing.
// *pretrainSeconds: the one-time pretraining's seconds, 0 when it was cached.
struct PretrainSpec;
std::string ensureRewardBase(const std::string& dataDir, const PretrainSpec& spec, std::FILE* out,
                             double* pretrainSeconds = nullptr);

// The file or folder a run's `model` names (resolveModel), pretraining the
// starter first when it is the one named and missing.
std::string resolveModelForRun(const std::string& name, const std::string& dataDir);

}  // namespace preflab
