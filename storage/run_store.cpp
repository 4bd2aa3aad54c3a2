#include "storage/run_store.h"

#include "core/values/metric_names.h"

namespace preflab {

const std::vector<std::string>& RunStore::headlineMetrics() {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> out;
        for (const Metric m : preflab::headlineMetrics()) out.emplace_back(metricKey(m));
        return out;
    }();
    return names;
}

int64_t RunStore::create(const RunRow& r) {
    auto& c = m_db.connection();
    SqlStatement s(c,
                      "INSERT INTO runs(name, created_ms, config_json, seed, code_version, model, status, last_step) "
                      "VALUES(?,?,?,?,?,?,?,?)", SqlReturning::Id);
    s.bind(1, r.name).bind(2, r.createdMs).bind(3, r.configJson).bind(4, r.seed).bind(5, r.codeVersion);
    s.bind(6, r.model).bind(7, r.status).bind(8, r.lastStep);
    return s.insertedIdOrThrow();
}

namespace {
const char* kRunColumns = "id, name, created_ms, config_json, seed, code_version, model, status, last_step, message";

RunRow readRun(SqlStatement& s) {
    RunRow r;
    r.id = s.int64(0);
    r.name = s.text(1);
    r.createdMs = s.int64(2);
    r.configJson = s.text(3);
    r.seed = s.int64(4);
    r.codeVersion = s.text(5);
    r.model = s.text(6);
    r.status = s.text(7);
    r.lastStep = s.int64(8);
    r.message = s.text(9);
    return r;
}
}  // namespace

std::optional<RunRow> RunStore::find(int64_t id) {
    SqlStatement s(m_db.connection(), std::string("SELECT ") + kRunColumns + " FROM runs WHERE id = ?");
    s.bind(1, id);
    if (!s.step()) return std::nullopt;
    return readRun(s);
}

std::vector<RunSummary> RunStore::list() {
    std::vector<RunSummary> out;
    SqlStatement s(m_db.connection(), std::string("SELECT ") + kRunColumns + " FROM runs ORDER BY id");
    while (s.step()) out.push_back({readRun(s), {}, 0, 0});
    SqlStatement latest(m_db.connection(),
                           "SELECT value FROM metrics WHERE run_id = ? AND name = ? ORDER BY step DESC, rowid DESC LIMIT 1");
    SqlStatement counts(m_db.connection(),
                           "SELECT (SELECT count(*) FROM pairs WHERE run_id = ?1), "
                           "(SELECT count(*) FROM labels JOIN pairs ON pairs.id = labels.pair_id WHERE pairs.run_id = ?1)");
    for (RunSummary& summary : out) {
        for (const std::string& name : headlineMetrics()) {
            latest.bind(1, summary.run.id).bind(2, name);
            if (latest.step()) summary.latest[name] = latest.real(0);
            latest.reset();
        }
        counts.bind(1, summary.run.id);
        if (counts.step()) {
            summary.pairs = counts.int64(0);
            summary.labels = counts.int64(1);
        }
        counts.reset();
    }
    return out;
}

void RunStore::update(const RunStatusUpdate& u) {
    SqlStatement s(m_db.connection(), "UPDATE runs SET status = ?, last_step = ?, message = ? WHERE id = ?");
    s.bind(1, u.status).bind(2, u.lastStep).bind(3, u.message).bind(4, u.runId);
    s.run();
}

std::optional<CheckpointRow> RunStore::latestCheckpoint(int64_t runId) {
    SqlStatement s(m_db.connection(),
                      "SELECT step, path, metrics_json, created_ms FROM checkpoints WHERE run_id = ? ORDER BY step DESC LIMIT 1");
    s.bind(1, runId);
    if (!s.step()) return std::nullopt;
    return CheckpointRow{runId, s.int64(0), s.text(1), s.text(2), s.int64(3)};
}

std::vector<CheckpointRow> RunStore::checkpoints(int64_t runId) {
    SqlStatement s(m_db.connection(),
                      "SELECT step, path, metrics_json, created_ms FROM checkpoints WHERE run_id = ? ORDER BY step");
    s.bind(1, runId);
    std::vector<CheckpointRow> out;
    while (s.step()) out.push_back(CheckpointRow{runId, s.int64(0), s.text(1), s.text(2), s.int64(3)});
    return out;
}

int64_t RunStore::nextPairIndex(int64_t runId) {
    SqlStatement s(m_db.connection(), "SELECT coalesce(max(run_index) + 1, 0) FROM pairs WHERE run_id = ?");
    s.bind(1, runId);
    return s.step() ? s.int64(0) : 0;
}

}  // namespace preflab
