#pragma once
// Turns the online loop's reports into database rows for the StorageWriter.
// Runs on the training thread; enqueueing never waits on disk.
#include "core/values/loop_types.h"
#include "core/values/run_warnings.h"
#include "storage/storage_writer.h"

#include <deque>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace preflab {

class RunRecorder final : public LoopObserver {
public:
    // keepCheckpoints > 0: only that many of the run's newest checkpoints stay
    // on disk; `existing` are the run's checkpoints from before (a resume).
    RunRecorder(int64_t runId, StorageWriter& writer, int64_t keepCheckpoints = 0,
                std::vector<std::pair<int64_t, std::string>> existing = {})
        : m_runId(runId), m_writer(writer), m_keep(keepCheckpoints), m_checkpoints(existing.begin(), existing.end()) {}

    // Called with every metric batch after it was queued for storage (the
    // worker forwards them to the UI).
    std::function<void(const std::vector<MetricSample>&)> onMetrics;
    std::function<void(const std::vector<PairRecord>&)> onPairs;
    // A warning the metrics raised (stored with the run before this is called).
    std::function<void(const RunWarning&)> onWarning;

    void pairsGenerated(const std::vector<PairRecord>& pairs) override;
    void pairsJudged(const std::vector<Judgement>& judgements) override;
    void pairsTrained(int64_t step, const std::vector<int64_t>& pairIndices) override;
    void metricsLogged(const std::vector<MetricSample>& metrics) override;
    void checkpointSaved(const CheckpointRecord& checkpoint) override;
    void evaluationSamples(int64_t step, const std::vector<EvalSample>& samples) override;
    void referenceLogprobsComputed(const std::vector<ReferenceLogprobRecord>& records) override;
    // Stored with the run as a warning (once per kind) and passed to onWarning.
    void noticeRaised(const LoopNotice& notice) override;

private:
    void pruneCheckpoints();

    int64_t m_runId;
    StorageWriter& m_writer;
    RunWarningMonitor m_warnings;
    int64_t m_keep;
    std::deque<std::pair<int64_t, std::string>> m_checkpoints;  // (step, path) on disk, oldest first
    std::vector<std::pair<int64_t, std::string>> m_unlinked;    // rows queued for deletion, files not yet deleted
};

}  // namespace preflab
