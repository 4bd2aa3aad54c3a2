#include "storage/response_label_store.h"

#include "core/values/person_names.h"
#include "storage/preference_store.h"

namespace preflab {

int64_t ResponseLabelStore::insert(const ResponseLabelRow& r) {
    auto& c = m_db.connection();
    const std::optional<std::string> key =
        r.idempotencyKey.empty() ? std::nullopt : std::optional<std::string>(r.idempotencyKey);
    SqlStatement s(c,
                   "INSERT INTO response_labels(response_id, label, source, annotator, created_ms, seconds, "
                   "idempotency_key) VALUES(?,?,?,?,?,?,?) ON CONFLICT(idempotency_key) DO NOTHING",
                   SqlReturning::Id);
    s.bind(1, r.responseId).bind(2, std::string(r.desirable ? "up" : "down")).bind(3, r.source);
    s.bind(4, storedPersonName(r.annotator, "annotator", false, c.path())).bind(5, r.createdMs).bind(6, r.seconds);
    s.bind(7, key);
    if (const std::optional<int64_t> id = s.insertedId()) return *id;
    // Stored already: the same label written again (a retry after a lost COMMIT).
    SqlStatement stored(c, "SELECT id FROM response_labels WHERE idempotency_key = ?");
    stored.bind(1, key);
    if (!stored.step()) throw StorageError(c.path() + ": an unpaired label was not stored");
    return stored.int64(0);
}

int64_t ResponseLabelStore::retract(const ResponseLabelRetraction& r) {
    auto& c = m_db.connection();
    SqlStatement s(c, "DELETE FROM response_labels WHERE response_id = ? AND source = 'human' AND annotator = ? AND created_ms = ?");
    s.bind(1, r.responseId).bind(2, storedPersonName(r.annotator, "annotator", false, c.path())).bind(3, r.createdMs);
    s.run();
    return c.changes();
}

bool ResponseLabelStore::insertIfChanged(const std::string& prompt, const ResponseRow& response, bool desirable,
                                         const std::string& source, const std::string& annotator, int64_t createdMs,
                                         std::optional<double> seconds) {
    auto& c = m_db.connection();
    const std::string name = storedPersonName(annotator, "annotator", false, c.path());
    const PreferenceStore::StoredResponse stored = PreferenceStore(m_db).findOrInsertStoredResponse(prompt, response);
    const int64_t responseId = stored.id;
    if (!stored.created) {
        SqlStatement latest(c, "SELECT label FROM response_labels WHERE response_id = ? AND source = ? AND annotator = ? "
                               "ORDER BY created_ms DESC, id DESC LIMIT 1");
        latest.bind(1, responseId).bind(2, source).bind(3, name);
        if (latest.step() && latest.text(0) == (desirable ? "up" : "down")) return false;  // already says so
    }
    insert({responseId, desirable, source, name, createdMs, seconds, {}});
    return true;
}

void ResponseLabelStore::forEachForExport(const std::function<void(const ExportedResponseLabel&)>& visit) {
    SqlStatement s(m_db.connection(),
                   "SELECT p.text, r.text, l.label, l.annotator, l.seconds FROM response_labels l "
                   "JOIN responses r ON r.id = l.response_id JOIN prompts p ON p.id = r.prompt_id "
                   "ORDER BY l.id");
    while (s.step()) {
        ExportedResponseLabel e{s.text(0), s.text(1), s.text(3), s.text(2) == "up", std::nullopt};
        if (!s.isNull(4)) e.seconds = s.real(4);
        visit(e);
    }
}

std::vector<UnpairedExample> ResponseLabelStore::examples() {
    // Each annotator's latest label of each response, then the majority.
    SqlStatement s(m_db.connection(),
                   "SELECT p.text, r.text, "
                   "sum(CASE WHEN l.label = 'up' THEN 1 ELSE 0 END), sum(CASE WHEN l.label = 'down' THEN 1 ELSE 0 END) "
                   "FROM response_labels l JOIN responses r ON r.id = l.response_id JOIN prompts p ON p.id = r.prompt_id "
                   "WHERE NOT EXISTS(SELECT 1 FROM response_labels n WHERE n.response_id = l.response_id AND "
                   "n.annotator = l.annotator AND n.source = l.source AND "
                   "(n.created_ms > l.created_ms OR (n.created_ms = l.created_ms AND n.id > l.id))) "
                   "GROUP BY r.id, p.text, r.text ORDER BY r.id");
    std::vector<UnpairedExample> out;
    while (s.step()) {
        const int64_t up = s.int64(2), down = s.int64(3);
        if (up != down) out.push_back({s.text(0), s.text(1), up > down});
    }
    return out;
}

}  // namespace preflab
