#pragma once
// Finds the cached starter model, pretraining it first (with a progress bar)
// when it is missing. Returns the model file path; throws on failure.
#include <string>

namespace preflab {

std::string ensureStarterModel(const std::string& dataDir, bool force = false, long long steps = 0);

// The file or folder a run's `model` names (resolveModel), pretraining the
// starter first when it is the one named and missing.
std::string resolveModelForRun(const std::string& name, const std::string& dataDir);

}  // namespace preflab
