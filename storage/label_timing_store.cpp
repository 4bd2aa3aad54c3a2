#include "storage/label_timing_store.h"

namespace preflab {

std::vector<TimedLabel> annotatorLabelTimings(Database& db, std::optional<int64_t> runId) {
    // The WHERE of PreferenceStore::forEachAnnotatorLabel: the labels agreement
    // counts; and the gold pairs' (mixed into every project, whatever its run).
    SqlStatement s(db.connection(),
                   "SELECT l.annotator, l.choice, l.seconds, coalesce(l.shown_first, ''), l.pair_id, "
                   "coalesce(gp.answer, '') FROM labels l "
                   "JOIN pairs ON pairs.id = l.pair_id LEFT JOIN gold_pairs gp ON gp.pair_id = l.pair_id "
                   "WHERE l.annotator <> '' AND l.source IN ('human', 'import') AND "
                   "(?1 IS NULL OR pairs.run_id = ?1 OR gp.pair_id IS NOT NULL) "
                   "AND l.id = (SELECT max(id) FROM labels m WHERE m.pair_id = l.pair_id AND m.annotator = l.annotator "
                   "AND m.source IN ('human', 'import')) ORDER BY l.pair_id, l.annotator");
    s.bind(1, runId);
    std::vector<TimedLabel> out;
    while (s.step()) {
        TimedLabel t{s.text(0), s.text(1), std::nullopt, s.text(3), s.int64(4), s.text(5)};
        if (!s.isNull(2)) t.seconds = s.real(2);
        out.push_back(std::move(t));
    }
    return out;
}

}  // namespace preflab
