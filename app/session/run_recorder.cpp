#include "app/session/run_recorder.h"

#include "storage/label_rows.h"

#include <QJsonDocument>
#include <QJsonObject>

#include <filesystem>

namespace preflab {
namespace {

ResponseRow toRow(const GeneratedResponse& r, int64_t step) {
    ResponseRow row;
    row.text = r.text;
    row.tokenCount = r.tokenCount;
    row.endedWithEos = r.endedWithEos ? 1 : 0;
    row.step = step;
    row.logprob = r.policyLogprob;
    row.samplingLogprob = r.samplingLogprob;
    row.refLogprob = r.refLogprob;
    row.goldReward = r.goldReward;
    return row;
}

}  // namespace

void RunRecorder::pairsGenerated(const std::vector<PairRecord>& pairs) {
    std::vector<WriteOp> ops;
    for (const PairRecord& p : pairs) {
        PairRow row;
        row.runId = m_runId;
        row.runIndex = p.pairIndex;
        row.prompt = p.prompt;
        row.a = toRow(p.a, p.generatedAtStep);
        row.b = toRow(p.b, p.generatedAtStep);
        row.createdMs = nowMs();
        ops.emplace_back(std::move(row));
    }
    m_writer.enqueue(std::move(ops));
    if (onPairs) onPairs(pairs);
}

void RunRecorder::pairsJudged(const std::vector<Judgement>& judgements) {
    std::vector<WriteOp> ops;
    for (const Judgement& j : judgements) {
        if (j.stored) continue;
        for (WriteOp& op : judgementRows(m_runId, j)) ops.push_back(std::move(op));
    }
    m_writer.enqueue(std::move(ops));
}

void RunRecorder::pairsTrained(int64_t step, const std::vector<int64_t>& pairIndices) {
    m_writer.enqueue(TrainedMark{m_runId, step, pairIndices});
    m_writer.enqueue(RunStatusUpdate{m_runId, "running", step, {}});
}

void RunRecorder::metricsLogged(const std::vector<MetricSample>& metrics) {
    std::vector<WriteOp> ops;
    for (const MetricSample& m : metrics) ops.emplace_back(MetricRow{m_runId, m.step, m.name, m.value, m.timeMs});
    const std::vector<RunWarning> warnings = m_warnings.observe(metrics);
    for (const RunWarning& w : warnings) ops.emplace_back(RunEventRow{m_runId, w.step, w.kind, w.message, w.advice, nowMs()});
    m_writer.enqueue(std::move(ops));
    if (onMetrics) onMetrics(metrics);
    if (onWarning) {
        for (const RunWarning& w : warnings) onWarning(w);
    }
}

void RunRecorder::evaluationSamples(int64_t step, const std::vector<EvalSample>& samples) {
    std::vector<WriteOp> ops;
    for (const EvalSample& s : samples) ops.emplace_back(EvalSampleRow{m_runId, step, s.promptIndex, s.prompt, s.text, s.goldReward});
    m_writer.enqueue(std::move(ops));
}

void RunRecorder::referenceLogprobsComputed(const std::vector<ReferenceLogprobRecord>& records) {
    std::vector<WriteOp> ops;
    const int64_t now = nowMs();
    for (const ReferenceLogprobRecord& r : records) {
        const CachedReferenceLogprobs& v = r.values;
        ops.emplace_back(RefLogprobRow{r.pairId, v.fingerprint, v.tokensKey, r.chosenIsA ? v.chosen : v.rejected,
                                       r.chosenIsA ? v.rejected : v.chosen, now});
    }
    m_writer.enqueue(std::move(ops));
}

void RunRecorder::noticeRaised(const LoopNotice& n) {
    m_writer.enqueue(RunEventRow{m_runId, n.step, n.kind, n.message, n.advice, nowMs()});
    if (onWarning) onWarning(RunWarning{n.kind, n.step, n.message, n.advice});
}

void RunRecorder::checkpointSaved(const CheckpointRecord& c) {
    QJsonObject metrics;
    for (const auto& [name, value] : c.metrics) metrics[QString::fromStdString(name)] = value;
    m_writer.enqueue(CheckpointRow{m_runId, c.step, c.path,
                                   QJsonDocument(metrics).toJson(QJsonDocument::Compact).toStdString(), nowMs()});
    if (m_checkpoints.empty() || m_checkpoints.back().first != c.step) m_checkpoints.emplace_back(c.step, c.path);
    pruneCheckpoints();
}

void RunRecorder::pruneCheckpoints() {
    if (m_keep <= 0) return;
    while (static_cast<int64_t>(m_checkpoints.size()) > m_keep) {
        m_unlinked.push_back(m_checkpoints.front());
        m_checkpoints.pop_front();
        m_writer.enqueue(CheckpointPrune{m_runId, m_unlinked.back().first});
    }
    // Rows first, files after: a crash in between leaves files no row names
    // (disk, not a broken resume). While the rows cannot be written (the
    // writer reported it and keeps them queued), the files stay; they go at
    // the next prune after a successful write.
    if (m_unlinked.empty() || !m_writer.flush()) return;
    for (const auto& [step, path] : m_unlinked) {
        const std::filesystem::path file(path);
        std::error_code ec;
        std::filesystem::remove(file, ec);
        // Side models beside it (PPO's value model, the CPO family's outcome models): step-N.pt.value, .value1, ...
        const std::string sidePrefix = file.filename().string() + ".value";
        std::filesystem::directory_iterator it(file.parent_path(), ec), end;
        for (; !ec && it != end; it.increment(ec)) {
            if (it->path().filename().string().rfind(sidePrefix, 0) == 0) {
                std::error_code removeError;
                std::filesystem::remove(it->path(), removeError);
            }
        }
    }
    m_unlinked.clear();
}

}  // namespace preflab
