#include "core/values/checkpoint_paths.h"

#include <cstdio>
#include <filesystem>

namespace preflab {

std::string runCheckpointDir(const std::string& dataDir, const std::string& databaseId, int64_t runId) {
    return (std::filesystem::path(dataDir) / "runs" / databaseId / std::to_string(runId)).string();
}

std::string checkpointPath(const std::string& runDir, int64_t step) {
    char name[64];
    std::snprintf(name, sizeof name, "step-%08lld.pt", static_cast<long long>(step));
    return (std::filesystem::path(runDir) / name).string();
}

std::string sideModelPath(const std::string& checkpointPath, int index) {
    return checkpointPath + ".value" + (index == 0 ? std::string() : std::to_string(index));
}

}  // namespace preflab
