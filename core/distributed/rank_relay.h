#pragma once
// How the events of every rank reach rank 0's one observer (the recorder that
// writes the database, the GUI's and the terminal's feeds) in a data-parallel
// run. Other ranks record what their loop reports (RelayRecorder) and send it,
// once per step, through the rendezvous store; rank 0 holds its own events of
// the step (StepMerger) until every rank's are in, then passes on the pairs
// of all ranks, then the pairs trained, then each metric averaged over the
// ranks that reported it: every rank trains on an equal share of the batch,
// so the mean of the ranks' means is the metric of the whole batch.
// Plain C++ (QtCore's QDataStream for the bytes); no torch.
#include "core/values/loop_types.h"

#include <string>
#include <vector>

namespace preflab {

// Loop events as bytes, in the order they happened.
class EventLog {
public:
    void pairsGenerated(const std::vector<PairRecord>& pairs);
    void pairsJudged(const std::vector<Judgement>& judgements);
    void pairsTrained(int64_t step, const std::vector<int64_t>& pairIndices);
    void metricsLogged(const std::vector<MetricSample>& samples);
    bool empty() const { return m_bytes.empty(); }
    // The bytes so far; the log starts empty again.
    std::string take();

private:
    std::string m_bytes;
};

// The events one rank sent, decoded. Throws std::runtime_error on bytes that
// are not an event log.
struct RankEvents {
    std::vector<std::vector<PairRecord>> generated;
    std::vector<std::vector<Judgement>> judged;
    std::vector<std::pair<int64_t, std::vector<int64_t>>> trained;
    std::vector<std::vector<MetricSample>> metrics;
};
RankEvents decodeEvents(const std::string& bytes);

// On ranks other than 0: the loop's observer.
class RelayRecorder : public LoopObserver {
public:
    void pairsGenerated(const std::vector<PairRecord>& p) override { m_log.pairsGenerated(p); }
    void pairsJudged(const std::vector<Judgement>& j) override { m_log.pairsJudged(j); }
    void pairsTrained(int64_t step, const std::vector<int64_t>& i) override { m_log.pairsTrained(step, i); }
    void metricsLogged(const std::vector<MetricSample>& m) override { m_log.metricsLogged(m); }
    std::string take() { return m_log.take(); }

private:
    EventLog m_log;
};

// On rank 0: between beginStep() and finishStep() it holds the events the
// loop reports; otherwise (evaluations, checkpoints) it passes them straight on.
class StepMerger : public LoopObserver {
public:
    explicit StepMerger(LoopObserver* target) : m_target(target) {}
    void beginStep() { m_holding = true; }
    // `relayed`: each other rank's bytes for the step, in rank order.
    void finishStep(const std::vector<std::string>& relayed);
    // The averaged metrics finishStep() passed on last.
    const std::vector<MetricSample>& lastMerged() const { return m_lastMerged; }

    void pairsGenerated(const std::vector<PairRecord>& p) override;
    void pairsJudged(const std::vector<Judgement>& j) override;
    void pairsTrained(int64_t step, const std::vector<int64_t>& i) override;
    void metricsLogged(const std::vector<MetricSample>& m) override;
    void checkpointSaved(const CheckpointRecord& c) override;
    void evaluationSamples(int64_t step, const std::vector<EvalSample>& s) override;
    // Rank 0's own cache records and notices pass straight on (the other
    // ranks' stay with them: their pairs are recomputed by a later run).
    void referenceLogprobsComputed(const std::vector<ReferenceLogprobRecord>& r) override {
        if (m_target) m_target->referenceLogprobsComputed(r);
    }
    void noticeRaised(const LoopNotice& n) override {
        if (m_target) m_target->noticeRaised(n);
    }

private:
    LoopObserver* m_target;
    bool m_holding = false;
    EventLog m_own;
    std::vector<MetricSample> m_lastMerged;
};

// Metric samples of several ranks: one sample per (step, name), the mean of
// the ranks that reported it (a count, such as data/truncated_pairs, is
// summed instead), in the order of first appearance, at the latest time.
std::vector<MetricSample> averageMetrics(const std::vector<std::vector<MetricSample>>& perRank);

}  // namespace preflab
