#pragma once
// Turns the online loop's reports into database rows for the StorageWriter.
// Runs on the training thread; enqueueing never waits on disk.
#include "core/loop/loop_types.h"
#include "storage/storage_writer.h"

#include <functional>

namespace preflab {

class RunRecorder final : public LoopObserver {
public:
    RunRecorder(int64_t runId, StorageWriter& writer) : m_runId(runId), m_writer(writer) {}

    // Called with every metric batch after it was queued for storage (the
    // worker forwards them to the UI).
    std::function<void(const std::vector<MetricSample>&)> onMetrics;
    std::function<void(const std::vector<PairRecord>&)> onPairs;

    void pairsGenerated(const std::vector<PairRecord>& pairs) override;
    void pairsJudged(const std::vector<Judgement>& judgements) override;
    void pairsTrained(int64_t step, const std::vector<int64_t>& pairIndices) override;
    void metricsLogged(const std::vector<MetricSample>& metrics) override;
    void checkpointSaved(const CheckpointRecord& checkpoint) override;

private:
    int64_t m_runId;
    StorageWriter& m_writer;
};

}  // namespace preflab
