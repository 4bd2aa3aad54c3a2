#pragma once
// Where a run's checkpoints live on disk: the one place their paths are
// spelled. A run's folder is keyed by the identity of its database (a UUID
// stored in the database when it is created) and the run id, because run ids
// are only unique within one database. Lookups of a run's checkpoints go
// through the database's checkpoint rows, never a folder scan. No torch.
#include <cstdint>
#include <stdexcept>
#include <string>

namespace preflab {

// A checkpoint could not be written (a full disk, a file size limit, a
// folder that is not writable). The step it belongs to was applied; the
// previous checkpoint is untouched. The message names the file.
class CheckpointWriteError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// <dataDir>/runs/<databaseId>/<runId>
std::string runCheckpointDir(const std::string& dataDir, const std::string& databaseId, int64_t runId);
// The policy checkpoint of `step` inside a run's folder: step-00000100.pt.
std::string checkpointPath(const std::string& runDir, int64_t step);
// Where a side model (PPO's value model, the CPO family's cross-fitted
// outcome models) is kept beside a policy checkpoint: index 0 at
// step-00000100.pt.value, index k > 0 at step-00000100.pt.value<k>.
std::string sideModelPath(const std::string& checkpointPath, int index = 0);

}  // namespace preflab
