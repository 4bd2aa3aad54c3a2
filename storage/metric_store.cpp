#include "storage/metric_store.h"

namespace preflab {

void MetricStore::insert(const std::vector<MetricRow>& rows) {
    SqlStatement s(m_db.connection(), "INSERT INTO metrics(run_id, step, name, value, created_ms) VALUES(?,?,?,?,?)");
    for (const MetricRow& r : rows) {
        s.bind(1, r.runId).bind(2, r.step).bind(3, r.name).bind(4, r.value).bind(5, r.createdMs);
        s.run();
    }
}

std::vector<MetricRow> MetricStore::forRun(int64_t runId, const std::string& name) {
    SqlStatement s(m_db.connection(),
                      "SELECT step, name, value, created_ms FROM metrics WHERE run_id = ?1 AND (?2 = '' OR name = ?2) "
                      "ORDER BY step, rowid");
    s.bind(1, runId).bind(2, name);
    std::vector<MetricRow> out;
    while (s.step()) out.push_back({runId, s.int64(0), s.text(1), s.real(2), s.int64(3)});
    return out;
}

void MetricStore::insertCheckpoint(const CheckpointRow& r) {
    SqlStatement s(m_db.connection(),
                      "INSERT INTO checkpoints(run_id, step, path, metrics_json, created_ms) VALUES(?,?,?,?,?) "
                      "ON CONFLICT(run_id, step) DO UPDATE SET path = excluded.path, metrics_json = excluded.metrics_json, "
                      "created_ms = excluded.created_ms");
    s.bind(1, r.runId).bind(2, r.step).bind(3, r.path).bind(4, r.metricsJson).bind(5, r.createdMs);
    s.run();
}

void MetricStore::deleteCheckpoint(const CheckpointPrune& r) {
    SqlStatement s(m_db.connection(), "DELETE FROM checkpoints WHERE run_id = ? AND step = ?");
    s.bind(1, r.runId).bind(2, r.step);
    s.run();
}

void MetricStore::insertEvent(const RunEventRow& r) {
    SqlStatement s(m_db.connection(),
                      "INSERT INTO run_events(run_id, step, kind, message, advice, created_ms) VALUES(?,?,?,?,?,?) "
                      "ON CONFLICT DO NOTHING");
    s.bind(1, r.runId).bind(2, r.step).bind(3, r.kind).bind(4, r.message).bind(5, r.advice).bind(6, r.createdMs);
    s.run();
}

std::vector<RunEventRow> MetricStore::events(int64_t runId) {
    SqlStatement s(m_db.connection(),
                      "SELECT step, kind, message, advice, created_ms FROM run_events WHERE run_id = ? ORDER BY step, id");
    s.bind(1, runId);
    std::vector<RunEventRow> out;
    while (s.step()) out.push_back({runId, s.int64(0), s.text(1), s.text(2), s.text(3), s.int64(4)});
    return out;
}

void MetricStore::insertEvalSample(const EvalSampleRow& r) {
    SqlStatement s(m_db.connection(),
                      "INSERT INTO eval_samples(run_id, step, prompt_index, prompt, text, gold_reward) VALUES(?,?,?,?,?,?) "
                      "ON CONFLICT(run_id, step, prompt_index) DO UPDATE SET prompt = excluded.prompt, text = excluded.text, "
                      "gold_reward = excluded.gold_reward");
    s.bind(1, r.runId).bind(2, r.step).bind(3, r.promptIndex).bind(4, r.prompt).bind(5, r.text).bind(6, r.goldReward);
    s.run();
}

std::vector<EvalSampleRow> MetricStore::evalSamples(int64_t runId) {
    SqlStatement s(m_db.connection(),
                      "SELECT step, prompt_index, prompt, text, gold_reward FROM eval_samples WHERE run_id = ? "
                      "ORDER BY step, prompt_index");
    s.bind(1, runId);
    std::vector<EvalSampleRow> out;
    while (s.step()) out.push_back({runId, s.int64(0), s.int64(1), s.text(2), s.text(3), s.real(4)});
    return out;
}

}  // namespace preflab
