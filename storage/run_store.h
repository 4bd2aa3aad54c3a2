#pragma once
// Runs, their checkpoints and headline metrics. Uses the caller's connection
// (one per thread).
#include "storage/database.h"
#include "storage/read_models.h"
#include "storage/records.h"

#include <map>
#include <optional>
#include <vector>

namespace preflab {

class RunStore {
public:
    explicit RunStore(Database& db) : m_db(db) {}
    int64_t create(const RunRow& run);
    std::optional<RunRow> find(int64_t id);
    std::vector<RunSummary> list();
    void update(const RunStatusUpdate& u);
    std::optional<CheckpointRow> latestCheckpoint(int64_t runId);
    // Every checkpoint row of the run, oldest first.
    std::vector<CheckpointRow> checkpoints(int64_t runId);
    // The next free pair index of a run (continues numbering after a resume).
    int64_t nextPairIndex(int64_t runId);

    static const std::vector<std::string>& headlineMetrics();

private:
    Database& m_db;
};

}  // namespace preflab
