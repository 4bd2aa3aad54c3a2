#include "storage/pair_browser_store.h"

namespace preflab {
namespace {

// The latest label of each pair is the one in force (labels are append-only:
// a relabel adds a row, so the history of a pair's labels is kept).
constexpr const char* kSelect = R"sql(
SELECT p.id, p.run_id, p.run_index, ra.step, p.trained_step, pr.text, ra.text, rb.text,
       ra.gold_reward, rb.gold_reward, l.choice, l.source, l.annotator,
       (SELECT count(*) FROM labels WHERE pair_id = p.id)
FROM pairs p
JOIN prompts pr ON pr.id = p.prompt_id
JOIN responses ra ON ra.id = p.response_a
JOIN responses rb ON rb.id = p.response_b
LEFT JOIN labels l ON l.id = (SELECT max(id) FROM labels WHERE pair_id = p.id)
)sql";

// Appends the WHERE conditions; binds happen in the same order in bindFilter().
std::string whereClause(const PairFilter& f, bool afterId) {
    std::string w = " WHERE TRUE";
    if (afterId) w += " AND p.id > ?";
    if (f.runId) w += " AND p.run_id = ?";
    if (f.labelSource == "none") w += " AND l.id IS NULL";
    else if (!f.labelSource.empty()) w += " AND l.source = ?";
    if (!f.choice.empty()) w += " AND l.choice = ?";
    if (f.trainedStep) w += " AND p.trained_step = ?";
    return w;
}

int bindFilter(SqlStatement& s, const PairFilter& f, int i) {
    if (f.runId) s.bind(i++, *f.runId);
    if (!f.labelSource.empty() && f.labelSource != "none") s.bind(i++, f.labelSource);
    if (!f.choice.empty()) s.bind(i++, f.choice);
    if (f.trainedStep) s.bind(i++, *f.trainedStep);
    return i;
}

std::optional<int64_t> optInt(const SqlStatement& s, int c) {
    return s.isNull(c) ? std::nullopt : std::optional<int64_t>(s.int64(c));
}

std::optional<double> optReal(const SqlStatement& s, int c) {
    return s.isNull(c) ? std::nullopt : std::optional<double>(s.real(c));
}

PairListRow readRow(const SqlStatement& s) {
    PairListRow r;
    r.pairId = s.int64(0);
    r.runId = optInt(s, 1);
    r.runIndex = optInt(s, 2);
    r.generatedStep = optInt(s, 3);
    r.trainedStep = optInt(s, 4);
    r.prompt = s.text(5);
    r.responseA = s.text(6);
    r.responseB = s.text(7);
    r.goldA = optReal(s, 8);
    r.goldB = optReal(s, 9);
    r.choice = s.isNull(10) ? std::string() : s.text(10);
    r.source = s.isNull(11) ? std::string() : s.text(11);
    r.annotator = s.isNull(12) ? std::string() : s.text(12);
    r.labelCount = s.int64(13);
    return r;
}

}  // namespace

std::vector<PairListRow> PairBrowserStore::page(const PairFilter& filter, int64_t afterPairId, int64_t limit) {
    SqlStatement s(m_db.connection(), std::string(kSelect) + whereClause(filter, true) + " ORDER BY p.id LIMIT ?");
    int i = 1;
    s.bind(i++, afterPairId);
    i = bindFilter(s, filter, i);
    s.bind(i, limit);
    std::vector<PairListRow> rows;
    while (s.step()) rows.push_back(readRow(s));
    return rows;
}

int64_t PairBrowserStore::count(const PairFilter& filter) {
    SqlStatement s(m_db.connection(),
                      "SELECT count(*) FROM pairs p LEFT JOIN labels l ON l.id = (SELECT max(id) FROM labels WHERE "
                      "pair_id = p.id)" + whereClause(filter, false));
    bindFilter(s, filter, 1);
    return s.step() ? s.int64(0) : 0;
}

std::optional<PairListRow> PairBrowserStore::find(int64_t pairId) {
    SqlStatement s(m_db.connection(), std::string(kSelect) + " WHERE p.id = ?");
    s.bind(1, pairId);
    if (!s.step()) return std::nullopt;
    return readRow(s);
}

}  // namespace preflab
