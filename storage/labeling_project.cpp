#include "storage/labeling_project.h"

#include "storage/gold_pair_store.h"
#include "storage/label_rows.h"
#include "storage/preference_store.h"
#include "storage/response_label_store.h"

#include <cmath>

namespace preflab {
namespace {

// Distinct annotators with a label other than skip: what the overlap counts.
constexpr const char* kAnnotatorsOfPair =
    "(SELECT count(DISTINCT l.annotator) FROM labels l WHERE l.pair_id = pairs.id AND l.annotator <> '' "
    "AND l.source IN ('human', 'import') AND l.choice <> 'skip')";

// The thumbs mode's items: the responses of the project's pairs (?1: the
// run, or NULL for every pair) other than gold pairs (whose responses must
// not become training data as unpaired labels), and the distinct annotators of each.
constexpr const char* kResponseInProject =
    "EXISTS(SELECT 1 FROM pairs WHERE (pairs.response_a = r.id OR pairs.response_b = r.id) AND "
    "(?1 IS NULL OR pairs.run_id = ?1) AND NOT EXISTS(SELECT 1 FROM gold_pairs gp WHERE gp.pair_id = pairs.id))";
constexpr const char* kAnnotatorsOfResponse =
    "(SELECT count(DISTINCT l.annotator) FROM response_labels l WHERE l.response_id = r.id AND "
    "l.annotator <> '' AND l.source IN ('human', 'import'))";

// The project's own pairs (?1: the run, or NULL for every pair): not the
// gold pairs mixed in, nor the corrections annotators made by editing.
const std::string kProjectPair =
    std::string("(?1 IS NULL OR pairs.run_id = ?1) AND pairs.source <> 'edit' AND ") + kNotGoldPair;

// The pairs of a SELECT of id, prompt, a, b as `annotator` sees them.
std::vector<ProjectPair> shownPairs(SqlStatement& s, const std::string& annotator) {
    std::vector<ProjectPair> out;
    while (s.step()) {
        ProjectPair p;
        p.pairId = s.int64(0);
        p.prompt = s.text(1);
        p.swapped = LabelingProject::swappedFor(p.pairId, annotator);
        p.first = p.swapped ? s.text(3) : s.text(2);
        p.second = p.swapped ? s.text(2) : s.text(3);
        out.push_back(std::move(p));
    }
    return out;
}

}  // namespace

LabelingProject::LabelingProject(Database& db, int overlap, std::optional<int64_t> runId)
    : m_db(db), m_overlap(overlap < 1 ? 1 : overlap), m_run(runId) {}

Choice LabelingProject::storedChoice(Choice shown, bool swapped) {
    if (!swapped) return shown;
    return shown == Choice::A ? Choice::B : shown == Choice::B ? Choice::A : shown;
}

bool LabelingProject::swappedFor(int64_t pairId, const std::string& annotator) {
    // FNV-1a over the annotator's name and the pair id: stable across runs and
    // machines (std::hash is not), so a person sees a pair the same way twice.
    uint64_t h = 1469598103934665603ull;
    auto mix = [&](unsigned char c) { h = (h ^ c) * 1099511628211ull; };
    for (char c : annotator) mix(static_cast<unsigned char>(c));
    for (int i = 0; i < 8; ++i) mix(static_cast<unsigned char>(static_cast<uint64_t>(pairId) >> (8 * i)));
    return ((h >> 33) & 1u) != 0;
}

std::optional<ProjectPair> LabelingProject::next(const std::string& annotator) {
    std::vector<ProjectPair> one = nextPairs(annotator, 1);
    if (one.empty()) return std::nullopt;
    return one.front();
}

std::vector<ProjectPair> LabelingProject::nextPairs(const std::string& annotator, int limit) {
    // The count is named in a subquery: PostgreSQL, unlike SQLite, does not
    // let WHERE use a column alias.
    SqlStatement s(m_db.connection(),
                   std::string("SELECT id, prompt, a, b FROM (SELECT pairs.id AS id, p.text AS prompt, ra.text AS a, "
                               "rb.text AS b, ") + kAnnotatorsOfPair + " AS n FROM pairs "
                   "JOIN prompts p ON p.id = pairs.prompt_id "
                   "JOIN responses ra ON ra.id = pairs.response_a JOIN responses rb ON rb.id = pairs.response_b "
                   "WHERE " + kProjectPair + " AND NOT EXISTS(SELECT 1 FROM labels m WHERE "
                   "m.pair_id = pairs.id AND m.annotator = ?3 AND m.source IN ('human', 'import'))) AS open_pairs "
                   "WHERE n < ?2 "
                   // Pairs that others started first; then spread by a multiplicative hash of the id.
                   "ORDER BY n DESC, (id * 2654435761) % 4294967296, id LIMIT ?4");
    s.bind(1, m_run).bind(2, static_cast<int64_t>(m_overlap)).bind(3, annotator).bind(4, static_cast<int64_t>(limit));
    std::vector<ProjectPair> own = shownPairs(s, annotator);
    const double share = GoldPairStore(m_db).share();
    if (!(share > 0) || own.empty()) return own;  // gold pairs only go among the project's own

    // The gold pairs this annotator has not answered, in an order of their own.
    SqlStatement g(m_db.connection(),
                   "SELECT pairs.id, p.text, ra.text, rb.text FROM gold_pairs gp JOIN pairs ON pairs.id = gp.pair_id "
                   "JOIN prompts p ON p.id = pairs.prompt_id "
                   "JOIN responses ra ON ra.id = pairs.response_a JOIN responses rb ON rb.id = pairs.response_b "
                   "WHERE NOT EXISTS(SELECT 1 FROM labels m WHERE m.pair_id = pairs.id AND m.annotator = ?1 AND "
                   "m.source IN ('human', 'import')) ORDER BY (pairs.id * 2654435761) % 4294967296, pairs.id LIMIT ?2");
    g.bind(1, annotator).bind(2, static_cast<int64_t>(limit));
    const std::vector<ProjectPair> gold = shownPairs(g, annotator);
    // The queue's position: every pair this annotator answered (skips too),
    // the project's and gold, so a re-read continues where the last ended.
    SqlStatement answered(m_db.connection(),
                          std::string("SELECT count(DISTINCT l.pair_id) FROM labels l JOIN pairs ON pairs.id = l.pair_id "
                                      "WHERE l.annotator = ?2 AND l.source IN ('human', 'import') AND ((") +
                              kProjectPair + ") OR NOT " + kNotGoldPair + ")");
    answered.bind(1, m_run).bind(2, annotator);
    int64_t position = answered.step() ? answered.int64(0) : 0;
    std::vector<ProjectPair> out;
    size_t o = 0, k = 0;
    for (; static_cast<int>(out.size()) < limit && o < own.size(); ++position) {
        if (k < gold.size() && goldSlot(annotator, position, share)) out.push_back(gold[k++]);
        else out.push_back(own[o++]);
    }
    return out;
}

void LabelingProject::label(const ProjectPair& pair, const std::string& shownChoice, const std::string& annotator,
                            int64_t timeMs, std::optional<double> seconds) {
    if (annotator.empty()) throw StorageError(m_db.connection().path() + ": a label in a labeling project needs an annotator name");
    const std::optional<Choice> shown = choiceFromString(shownChoice);
    if (!shown) throw StorageError(m_db.connection().path() + ": '" + shownChoice + "' is not a label");
    Transaction tx(m_db.connection());
    PreferenceStore(m_db).insertLabel(labelRow(LabelTarget::storedPair(pair.pairId), storedChoice(*shown, pair.swapped),
                                               LabelSource::Human, annotator, timeMs, seconds,
                                               storedChoice(Choice::A, pair.swapped)));
    tx.commit();
}

std::vector<ProjectResponse> LabelingProject::nextResponses(const std::string& annotator, int limit) {
    SqlStatement s(m_db.connection(),
                   std::string("SELECT id, prompt, text FROM (SELECT r.id AS id, p.text AS prompt, r.text AS text, ") +
                       kAnnotatorsOfResponse + " AS n FROM responses r JOIN prompts p ON p.id = r.prompt_id WHERE " +
                       kResponseInProject +
                       " AND NOT EXISTS(SELECT 1 FROM response_labels m WHERE "
                       "m.response_id = r.id AND m.annotator = ?3 AND m.source IN ('human', 'import'))) AS open_responses "
                       "WHERE n < ?2 ORDER BY n DESC, (id * 2654435761) % 4294967296, id LIMIT ?4");
    s.bind(1, m_run).bind(2, static_cast<int64_t>(m_overlap)).bind(3, annotator).bind(4, static_cast<int64_t>(limit));
    std::vector<ProjectResponse> out;
    while (s.step()) out.push_back({s.int64(0), s.text(1), s.text(2)});
    return out;
}

int64_t LabelingProject::responseCount() {
    SqlStatement s(m_db.connection(), std::string("SELECT count(*) FROM responses r WHERE ") + kResponseInProject);
    s.bind(1, m_run);
    return s.step() ? s.int64(0) : 0;
}

int64_t LabelingProject::completeResponseCount() {
    SqlStatement s(m_db.connection(), std::string("SELECT count(*) FROM responses r WHERE ") + kResponseInProject + " AND " +
                                          kAnnotatorsOfResponse + " >= ?2");
    s.bind(1, m_run).bind(2, static_cast<int64_t>(m_overlap));
    return s.step() ? s.int64(0) : 0;
}

void LabelingProject::labelResponse(int64_t responseId, bool desirable, const std::string& annotator, int64_t timeMs,
                                    std::optional<double> seconds) {
    if (annotator.empty()) throw StorageError(m_db.connection().path() + ": a label in a labeling project needs an annotator name");
    Transaction tx(m_db.connection());
    ResponseLabelStore(m_db).insert(responseLabelRow(responseId, desirable, annotator, timeMs, seconds));
    tx.commit();
}

int64_t LabelingProject::pairCount() {
    SqlStatement s(m_db.connection(), "SELECT count(*) FROM pairs WHERE " + kProjectPair);
    s.bind(1, m_run);
    return s.step() ? s.int64(0) : 0;
}

int64_t LabelingProject::completeCount() {
    SqlStatement s(m_db.connection(), "SELECT count(*) FROM pairs WHERE " + kProjectPair + " AND " + kAnnotatorsOfPair + " >= ?2");
    s.bind(1, m_run).bind(2, static_cast<int64_t>(m_overlap));
    return s.step() ? s.int64(0) : 0;
}

int64_t LabelingProject::remainingFor(const std::string& annotator) {
    SqlStatement s(m_db.connection(),
                      "SELECT count(*) FROM pairs WHERE " + kProjectPair + " AND " + kAnnotatorsOfPair +
                          " < ?2 AND NOT EXISTS(SELECT 1 FROM labels m WHERE m.pair_id = pairs.id AND m.annotator = ?3 "
                          "AND m.source IN ('human', 'import'))");
    s.bind(1, m_run).bind(2, static_cast<int64_t>(m_overlap)).bind(3, annotator);
    return s.step() ? s.int64(0) : 0;
}

std::vector<AnnotatorProgress> LabelingProject::progress() {
    std::vector<AnnotatorProgress> out;
    SqlStatement s(m_db.connection(),
                      "SELECT l.annotator, count(DISTINCT l.pair_id), count(DISTINCT CASE WHEN l.choice = 'skip' THEN l.pair_id END), "
                      "max(l.created_ms) FROM labels l JOIN pairs ON pairs.id = l.pair_id "
                      "WHERE l.annotator <> '' AND l.source = 'human' AND (?1 IS NULL OR pairs.run_id = ?1) "
                      "GROUP BY l.annotator ORDER BY l.annotator");
    s.bind(1, m_run);
    while (s.step()) out.push_back({s.text(0), s.int64(1), s.int64(2), std::nan(""), s.int64(3)});
    // Speed: labels per minute between the first and the last label of the
    // annotator's last hour (a break longer than that does not count).
    SqlStatement times(m_db.connection(),
                          "SELECT count(*), min(l.created_ms), max(l.created_ms) FROM labels l JOIN pairs ON pairs.id = l.pair_id "
                          "WHERE l.annotator = ?2 AND l.source = 'human' AND l.created_ms >= ?3 AND (?1 IS NULL OR pairs.run_id = ?1)");
    for (AnnotatorProgress& a : out) {
        times.bind(1, m_run).bind(2, a.annotator).bind(3, a.lastMs - 3600 * 1000);
        if (times.step() && times.int64(0) >= 2 && times.int64(2) > times.int64(1)) {
            a.perMinute = static_cast<double>(times.int64(0) - 1) / (static_cast<double>(times.int64(2) - times.int64(1)) / 60000.0);
        }
        times.reset();
    }
    return out;
}

}  // namespace preflab
