#pragma once
// Metric rows (run, step, name, value, time).
#include "storage/database.h"
#include "storage/records.h"

#include <vector>

namespace preflab {

class MetricStore {
public:
    explicit MetricStore(Database& db) : m_db(db) {}
    void insert(const std::vector<MetricRow>& rows);
    std::vector<MetricRow> forRun(int64_t runId, const std::string& name = {});
    void insertCheckpoint(const CheckpointRow& row);
    void deleteCheckpoint(const CheckpointPrune& prune);
    // A run keeps the first event of each kind.
    void insertEvent(const RunEventRow& row);
    std::vector<RunEventRow> events(int64_t runId);
    void insertEvalSample(const EvalSampleRow& row);
    // In step order, then prompt order.
    std::vector<EvalSampleRow> evalSamples(int64_t runId);

private:
    Database& m_db;
};

}  // namespace preflab
