#pragma once
// What a training session is started with. The value types that cross from
// the training thread to the UI (metrics, run states, pairs) live in
// core/values/run_state.h, which the UI can include without torch.
#include "core/distributed/rank_options.h"
#include "core/values/human_judge.h"
#include "core/values/run_config.h"
#include "core/values/run_state.h"
#include "storage/storage_writer.h"

#include <memory>
#include <string>

namespace preflab {

struct SessionSetup {
    RunConfig config;
    std::string modelPath;  // resolved model file (the starter model is pretrained before)
    std::string databasePath;
    std::string dataDir;           // checkpoints go under the database's folder in dataDir (checkpoint_paths.h)
    int64_t resumeRunId = 0;       // > 0: continue that run from its last checkpoint
    std::shared_ptr<HumanLabelQueue> humanQueue;  // used when the judge needs a person
    // The database's one writer, shared with the owner (the GUI's labels and
    // corrections go through it too, so they are ordered after the run's
    // rows). Null: the worker opens its own and pauses the run when a write fails.
    std::shared_ptr<StorageWriter> writer;
    // Rank 0 of a data-parallel run (the CLI's --nproc / --world-size): the
    // one process that writes the database and checkpoints.
    RankOptions ranks;
};

}  // namespace preflab
