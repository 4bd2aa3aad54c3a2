#include "storage/guidelines_store.h"

#include "storage/preference_store.h"

namespace preflab {

int64_t GuidelinesStore::insert(const GuidelinesRow& row) {
    auto& c = m_db.connection();
    SqlStatement s(c, "INSERT INTO guidelines(run_id, text, author, created_ms) VALUES(?,?,?,?)", SqlReturning::Id);
    s.bind(1, row.runId)
        .bind(2, row.text)
        .bind(3, storedPersonName(row.author, "author", false, c.path()))
        .bind(4, row.createdMs);
    return s.insertedIdOrThrow();
}

std::optional<GuidelinesRow> GuidelinesStore::current(std::optional<int64_t> runId) {
    // The run's own first (run_id = ?1 sorts before NULL), the newest of each.
    SqlStatement s(m_db.connection(),
                   "SELECT run_id, text, author, created_ms FROM guidelines WHERE run_id = ?1 OR run_id IS NULL "
                   "ORDER BY CASE WHEN run_id IS NULL THEN 1 ELSE 0 END, id DESC LIMIT 1");
    s.bind(1, runId);
    if (!s.step() || s.text(1).empty()) return std::nullopt;
    GuidelinesRow row{std::nullopt, s.text(1), s.text(2), s.int64(3)};
    if (!s.isNull(0)) row.runId = s.int64(0);
    return row;
}

}  // namespace preflab
