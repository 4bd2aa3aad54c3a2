#include "storage/preference_store.h"

#include "core/values/judge_registry.h"
#include "core/values/person_names.h"
#include "storage/gold_pair_store.h"
#include "storage/pair_identity.h"
#include "storage/postgres_connection.h"

#include <limits>
#include <map>
#include <stdexcept>

namespace preflab {

int64_t PreferenceStore::promptId(const std::string& text) {
    auto& c = m_db.connection();
    // A new prompt's id comes back from the insert: no lookup (most imported
    // prompts are new); a known one's insert returns no row.
    SqlStatement ins(c, "INSERT INTO prompts(text) VALUES(?) ON CONFLICT DO NOTHING", SqlReturning::Id);
    if (const auto id = ins.bind(1, text).insertedId()) return *id;
    SqlStatement sel(c, "SELECT id FROM prompts WHERE text = ?");
    sel.bind(1, text);
    if (!sel.step()) {
        // Only a different prompt with the same MD5 (PostgreSQL's uniqueness
        // key) can get here.
        throw StorageError(c.path() + ": the prompt '" + text.substr(0, 60) + "' could be neither stored nor found");
    }
    return sel.int64(0);
}

int64_t PreferenceStore::insertResponse(int64_t prompt, const ResponseRow& r, std::optional<int64_t> runId) {
    auto& c = m_db.connection();
    SqlStatement s(c,
                      "INSERT INTO responses(prompt_id, text, token_count, ended_with_eos, run_id, step, logprob, "
                      "sampling_logprob, ref_logprob, gold_reward) VALUES(?,?,?,?,?,?,?,?,?,?)", SqlReturning::Id);
    s.bind(1, prompt).bind(2, r.text).bind(3, r.tokenCount).bind(4, r.endedWithEos).bind(5, runId).bind(6, r.step);
    s.bind(7, r.logprob).bind(8, r.samplingLogprob).bind(9, r.refLogprob).bind(10, r.goldReward);
    return s.insertedIdOrThrow();
}

std::string PreferenceStore::asStored(const std::string& text) const {
    return m_db.dialect() == SqlDialect::Postgres ? storableUtf8(text) : text;
}

namespace {

// The pair's identity key over its texts as the database stores them.
int64_t storedKey(const PairRow& p, SqlDialect dialect) {
    if (dialect != SqlDialect::Postgres) return pairTextKey(p.prompt, p.promptMessagesJson, p.a.text, p.b.text);
    return pairTextKey(storableUtf8(p.prompt), storableUtf8(p.promptMessagesJson), storableUtf8(p.a.text),
                       storableUtf8(p.b.text));
}

}  // namespace

std::string storedPersonName(const std::string& raw, const char* what, bool required, const std::string& where) {
    std::string name;
    const std::string error = normalizeName(raw, name, what, required);
    if (!error.empty()) throw StorageError(where + ": " + error);
    return name;
}

int64_t PreferenceStore::insertPair(const PairRow& p) {
    const int64_t prompt = promptId(p.prompt);
    const int64_t a = insertResponse(prompt, p.a, p.runId);
    const int64_t b = insertResponse(prompt, p.b, p.runId);
    auto& c = m_db.connection();
    SqlStatement s(c,
                      "INSERT INTO pairs(run_id, run_index, prompt_id, response_a, response_b, source, created_ms, text_key) "
                      "VALUES(?,?,?,?,?,?,?,?)", SqlReturning::Id);
    s.bind(1, p.runId).bind(2, p.runIndex).bind(3, prompt).bind(4, a).bind(5, b).bind(6, p.source).bind(7, p.createdMs);
    s.bind(8, storedKey(p, m_db.dialect()));
    const int64_t id = s.insertedIdOrThrow();
    if (!p.promptMessagesJson.empty()) {
        SqlStatement conv(c, "INSERT INTO conversations(pair_id, prompt_messages, source_row) VALUES(?,?,?)");
        conv.bind(1, id).bind(2, p.promptMessagesJson).bind(3, p.sourceRow);
        conv.run();
    }
    return id;
}

ImportedPair PreferenceStore::findOrInsertImportedPair(const PairRow& p) {
    auto& c = m_db.connection();
    SqlStatement s(c, "SELECT pairs.id, pr.text, coalesce(cv.prompt_messages, ''), ra.text, rb.text FROM pairs "
                      "JOIN prompts pr ON pr.id = pairs.prompt_id "
                      "JOIN responses ra ON ra.id = pairs.response_a JOIN responses rb ON rb.id = pairs.response_b "
                      "LEFT JOIN conversations cv ON cv.pair_id = pairs.id "
                      "WHERE pairs.text_key = ? AND pairs.run_id IS NULL ORDER BY pairs.id");
    s.bind(1, storedKey(p, m_db.dialect()));
    bool compared = false;
    std::string prompt, messages, a, b;
    while (s.step()) {
        // The key only narrows the search: the texts decide.
        if (!compared) {
            prompt = asStored(p.prompt), messages = asStored(p.promptMessagesJson);
            a = asStored(p.a.text), b = asStored(p.b.text);
            compared = true;
        }
        if (s.text(1) != prompt || s.text(2) != messages) continue;
        const std::string storedA = s.text(3), storedB = s.text(4);
        if (storedA == a && storedB == b) return {s.int64(0), false, false};
        if (storedA == b && storedB == a) return {s.int64(0), false, true};
    }
    return {insertPair(p), true, false};
}

std::string PreferenceStore::latestLabel(int64_t pairId, const std::string& source, const std::string& annotator) {
    SqlStatement s(m_db.connection(), "SELECT choice FROM labels WHERE pair_id = ? AND source = ? AND annotator = ? "
                                      "ORDER BY id DESC LIMIT 1");
    s.bind(1, pairId).bind(2, source).bind(3, annotator);
    return s.step() ? s.text(0) : std::string();
}

bool PreferenceStore::insertLabelIfChanged(const LabelRow& l) {
    LabelRow label = l;
    label.annotator = storedPersonName(l.annotator, "annotator", false, m_db.path());
    label.pairId = resolvePairId(l.pairId, l.runId, l.runIndex, "label");
    if (latestLabel(*label.pairId, label.source, label.annotator) == label.choice) return false;
    insertLabel(label);
    return true;
}

int64_t PreferenceStore::responseIdOf(int64_t pairId, const std::string& side) {
    auto& c = m_db.connection();
    if (side != "a" && side != "b") throw StorageError(c.path() + ": rating side must be 'a' or 'b', not '" + side + "'");
    SqlStatement find(c, side == "a" ? "SELECT response_a FROM pairs WHERE id = ?" : "SELECT response_b FROM pairs WHERE id = ?");
    find.bind(1, pairId);
    if (!find.step()) throw StorageError(c.path() + ": rating for unknown pair id " + std::to_string(pairId));
    return find.int64(0);
}

namespace {

// Whether the latest rating of the response by this source and annotator is `value`.
bool holdsRating(SqlConnection& c, int64_t responseId, const std::string& source, const std::string& annotator,
                 double value) {
    SqlStatement s(c, "SELECT value FROM ratings WHERE response_id = ? AND source = ? AND annotator = ? "
                      "ORDER BY id DESC LIMIT 1");
    s.bind(1, responseId).bind(2, source).bind(3, annotator);
    return s.step() && !s.isNull(0) && s.real(0) == value;
}

}  // namespace

bool PreferenceStore::insertRatingIfChanged(const RatingRow& r) {
    const std::string annotator = storedPersonName(r.annotator, "annotator", false, m_db.path());
    const int64_t pairId = resolvePairId(r.pairId, r.runId, r.runIndex, "rating");
    if (holdsRating(m_db.connection(), responseIdOf(pairId, r.side), r.source, annotator, r.value)) return false;
    RatingRow row = r;
    row.pairId = pairId;
    row.annotator = annotator;
    insertRating(row);
    return true;
}

PreferenceStore::RatedResponse PreferenceStore::insertRatedResponseIfChanged(const std::string& prompt,
                                                                             const ResponseRow& response, double value,
                                                                             const std::string& source,
                                                                             const std::string& annotator,
                                                                             int64_t createdMs) {
    auto& c = m_db.connection();
    const std::string name = storedPersonName(annotator, "annotator", false, c.path());
    const int64_t promptRow = promptId(prompt);
    RatedResponse out;
    int64_t responseId = 0;
    SqlStatement find(c, "SELECT id, sampling_logprob FROM responses WHERE prompt_id = ? AND text = ? AND run_id IS NULL "
                         "ORDER BY id LIMIT 1");
    find.bind(1, promptRow).bind(2, response.text);
    if (find.step()) {
        responseId = find.int64(0);
        if (response.samplingLogprob) {
            if (find.isNull(1)) {
                SqlStatement fill(c, "UPDATE responses SET sampling_logprob = ? WHERE id = ?");
                fill.bind(1, *response.samplingLogprob).bind(2, responseId);
                fill.run();
            } else if (find.real(1) != *response.samplingLogprob) {
                out.conflict = "this response is stored with sampling_logprob " + std::to_string(find.real(1)) +
                               ", not " + std::to_string(*response.samplingLogprob) +
                               " (a log-probability belongs to the sample that made the response)";
                return out;
            }
        }
    } else {
        responseId = insertResponse(promptRow, response, std::nullopt);
        out.responseCreated = true;
    }
    if (holdsRating(c, responseId, source, name, value)) return out;
    SqlStatement s(c, "INSERT INTO ratings(response_id, value, source, annotator, created_ms) VALUES(?,?,?,?,?)",
                   SqlReturning::Id);
    s.bind(1, responseId).bind(2, value).bind(3, source).bind(4, name).bind(5, createdMs);
    s.insertedIdOrThrow();
    out.ratingAdded = true;
    return out;
}

int64_t PreferenceStore::maxPairId() {
    SqlStatement s(m_db.connection(), "SELECT coalesce(max(id), 0) FROM pairs");
    return s.step() ? s.int64(0) : 0;
}

int64_t PreferenceStore::insertRatedResponse(const std::string& prompt, const ResponseRow& response, double value,
                                             const std::string& source, const std::string& annotator, int64_t createdMs) {
    auto& c = m_db.connection();
    const int64_t responseId = insertResponse(promptId(prompt), response, std::nullopt);
    SqlStatement s(c, "INSERT INTO ratings(response_id, value, source, annotator, created_ms) VALUES(?,?,?,?,?)",
                   SqlReturning::Id);
    s.bind(1, responseId).bind(2, value).bind(3, source).bind(4, storedPersonName(annotator, "annotator", false, c.path()));
    s.bind(5, createdMs);
    return s.insertedIdOrThrow();
}

int64_t PreferenceStore::resolvePairId(std::optional<int64_t> pairId, std::optional<int64_t> runId,
                                       std::optional<int64_t> runIndex, const char* what) {
    if (pairId) return *pairId;
    auto& c = m_db.connection();
    SqlStatement find(c, "SELECT id FROM pairs WHERE run_id = ? AND run_index = ?");
    find.bind(1, runId).bind(2, runIndex);
    if (!find.step()) {
        throw StorageError(c.path() + ": " + what + " for unknown pair " + std::to_string(runIndex.value_or(-1)) +
                           " of run " + std::to_string(runId.value_or(-1)));
    }
    return find.int64(0);
}

int64_t PreferenceStore::insertRating(const RatingRow& r) {
    auto& c = m_db.connection();
    if (r.side != "a" && r.side != "b") throw StorageError(c.path() + ": rating side must be 'a' or 'b', not '" + r.side + "'");
    const int64_t pairId = resolvePairId(r.pairId, r.runId, r.runIndex, "rating");
    const int64_t responseId = responseIdOf(pairId, r.side);
    SqlStatement s(c, "INSERT INTO ratings(response_id, value, source, annotator, created_ms) VALUES(?,?,?,?,?)",
                   SqlReturning::Id);
    s.bind(1, responseId).bind(2, r.value).bind(3, r.source).bind(4, storedPersonName(r.annotator, "annotator", false, c.path()));
    s.bind(5, r.createdMs);
    return s.insertedIdOrThrow();
}

PreferenceStore::StoredResponse PreferenceStore::findOrInsertStoredResponse(const std::string& prompt,
                                                                             const ResponseRow& response) {
    const int64_t promptRow = promptId(prompt);
    SqlStatement find(m_db.connection(),
                      "SELECT id FROM responses WHERE prompt_id = ? AND text = ? AND run_id IS NULL ORDER BY id LIMIT 1");
    find.bind(1, promptRow).bind(2, response.text);
    if (find.step()) return {find.int64(0), false};
    return {insertResponse(promptRow, response, std::nullopt), true};
}

int64_t PreferenceStore::insertLabel(const LabelRow& l) {
    auto& c = m_db.connection();
    const int64_t pairId = resolvePairId(l.pairId, l.runId, l.runIndex, "label");
    const std::string annotator = storedPersonName(l.annotator, l.source == "adjudicated" ? "reviewer" : "annotator",
                                                   l.source == "adjudicated", c.path());
    auto orNull = [](const std::string& t) { return t.empty() ? std::nullopt : std::optional<std::string>(t); };
    SqlStatement s(c,
                   "INSERT INTO labels(pair_id, choice, source, annotator, created_ms, seconds, shown_first, "
                   "idempotency_key) VALUES(?,?,?,?,?,?,?,?) ON CONFLICT(idempotency_key) DO NOTHING",
                   SqlReturning::Id);
    s.bind(1, pairId).bind(2, l.choice).bind(3, l.source).bind(4, annotator).bind(5, l.createdMs).bind(6, l.seconds);
    s.bind(7, orNull(l.shownFirst)).bind(8, orNull(l.idempotencyKey));
    if (const std::optional<int64_t> id = s.insertedId()) return *id;
    // Nothing inserted: this very label is stored already (a write retried
    // after a COMMIT whose answer was lost).
    SqlStatement stored(c, "SELECT id FROM labels WHERE idempotency_key = ?");
    stored.bind(1, orNull(l.idempotencyKey));
    if (!stored.step())
        throw StorageError(c.path() + ": a label of pair " + std::to_string(pairId) + " was not stored");
    return stored.int64(0);
}

int64_t PreferenceStore::retractLabel(const LabelRetraction& r) {
    auto& c = m_db.connection();
    const int64_t pairId = resolvePairId(r.pairId, r.runId, r.runIndex, "label retraction");
    SqlStatement ratings(c, "DELETE FROM ratings WHERE source = 'human' AND annotator = ?1 AND created_ms = ?2 AND "
                               "response_id IN (SELECT response_a FROM pairs WHERE id = ?3 UNION SELECT response_b FROM pairs WHERE id = ?3)");
    ratings.bind(1, r.annotator).bind(2, r.createdMs).bind(3, pairId);
    ratings.run();
    SqlStatement labels(c, "DELETE FROM labels WHERE pair_id = ? AND source = 'human' AND annotator = ? AND created_ms = ?");
    labels.bind(1, pairId).bind(2, r.annotator).bind(3, r.createdMs);
    labels.run();
    return c.changes();
}

void PreferenceStore::markTrained(const TrainedMark& m) {
    SqlStatement s(m_db.connection(), "UPDATE pairs SET trained_step = ? WHERE run_id = ? AND run_index = ?");
    for (int64_t index : m.runIndices) {
        s.bind(1, m.step).bind(2, m.runId).bind(3, index);
        s.run();
    }
}

void PreferenceStore::storeRefLogprobs(const RefLogprobRow& r) {
    // From the pairs table, so that a pair deleted since the run read it
    // stores nothing instead of failing the writer's whole batch.
    SqlStatement s(m_db.connection(),
                   "INSERT INTO ref_logprobs(pair_id, fingerprint, tokens_key, ref_a, ref_b, created_ms) "
                   "SELECT id, ?, ?, ?, ?, ? FROM pairs WHERE id = ? "
                   "ON CONFLICT(pair_id) DO UPDATE SET fingerprint = excluded.fingerprint, tokens_key = excluded.tokens_key, "
                   "ref_a = excluded.ref_a, ref_b = excluded.ref_b, created_ms = excluded.created_ms");
    s.bind(1, r.fingerprint).bind(2, r.tokensKey).bind(3, r.refA).bind(4, r.refB).bind(5, r.createdMs).bind(6, r.pairId);
    s.run();
}

std::map<int64_t, StoredRefLogprobs> PreferenceStore::refLogprobs() {
    // SQLite keeps whatever a damaged or hand-edited row holds (text in a
    // REAL column reads as 0.0): only numbers count, anything else is NaN.
    const bool sqlite = m_db.dialect() == SqlDialect::Sqlite;
    SqlStatement s(m_db.connection(),
                   sqlite ? "SELECT pair_id, fingerprint, tokens_key, "
                            "CASE WHEN typeof(ref_a) IN ('real', 'integer') THEN ref_a END, "
                            "CASE WHEN typeof(ref_b) IN ('real', 'integer') THEN ref_b END FROM ref_logprobs"
                          : "SELECT pair_id, fingerprint, tokens_key, ref_a, ref_b FROM ref_logprobs");
    std::map<int64_t, StoredRefLogprobs> out;
    const double nan = std::numeric_limits<double>::quiet_NaN();
    while (s.step()) {
        StoredRefLogprobs r;
        r.fingerprint = s.text(1);
        r.tokensKey = s.int64(2);
        r.refA = s.isNull(3) ? nan : s.real(3);
        r.refB = s.isNull(4) ? nan : s.real(4);
        out.emplace(s.int64(0), std::move(r));
    }
    return out;
}

int64_t PreferenceStore::countPairs() {
    SqlStatement s(m_db.connection(), "SELECT count(*) FROM pairs");
    return s.step() ? s.int64(0) : 0;
}

int64_t PreferenceStore::countLabels(const std::string& source) {
    SqlStatement s(m_db.connection(), source.empty() ? "SELECT count(*) FROM labels"
                                                        : "SELECT count(*) FROM labels WHERE source = ?");
    if (!source.empty()) s.bind(1, source);
    return s.step() ? s.int64(0) : 0;
}

LabelPolicy labelPolicyFromName(const std::string& name) {
    if (name == "consensus") return LabelPolicy::Consensus;
    if (name == "latest") return LabelPolicy::Latest;
    throw std::invalid_argument("label policy '" + name + "': expected consensus or latest");
}

namespace {

// One pair's labels, oldest first, folded into the label in force.
class PairVotes {
public:
    void add(const std::string& choice, const std::string& source, const std::string& annotator) {
        if (source == "adjudicated") {
            m_adjudicated = {choice, source};
            return;
        }
        m_latest = {choice, source};
        m_voters[{source, annotator}] = choice;  // a voter's later label replaces their earlier one
    }
    // {choice, source} in force, or an empty choice.
    std::pair<std::string, std::string> decide(LabelPolicy policy) const {
        if (!m_adjudicated.first.empty()) return m_adjudicated;
        if (policy == LabelPolicy::Latest) return m_latest;
        // People outvote judges: where any person gave a label other than
        // skip, only people vote; else the judges and an import's summary.
        bool personVoted = false;
        for (const auto& [voter, choice] : m_voters) personVoted |= isPerson(voter) && choice != "skip";
        std::map<std::string, int> votes;
        std::map<std::string, std::string> sourceOf;
        for (const auto& [voter, choice] : m_voters) {
            if (choice == "skip" || isPerson(voter) != personVoted) continue;
            ++votes[choice];
            auto& s = sourceOf[choice];
            s = s.empty() || s == voter.first ? voter.first : "consensus";
        }
        std::string best;
        int top = 0, atTop = 0;
        for (const auto& [choice, n] : votes) {
            if (n > top) best = choice, top = n, atTop = 1;
            else if (n == top) ++atTop;
        }
        if (atTop != 1) return {};
        return {best, sourceOf[best]};
    }

private:
    // A person: a human label (named or not), or an imported annotator's.
    static bool isPerson(const std::pair<std::string, std::string>& voter) {
        return voter.first == toString(LabelSource::Human) || (voter.first == toString(LabelSource::Import) && !voter.second.empty());
    }
    std::pair<std::string, std::string> m_adjudicated, m_latest;
    std::map<std::pair<std::string, std::string>, std::string> m_voters;
};

}  // namespace

std::string consensusChoice(const std::vector<std::string>& choices) {
    std::map<std::string, int> votes;
    for (const std::string& c : choices) {
        if (c != "skip") ++votes[c];
    }
    std::string best;
    int top = 0, atTop = 0;
    for (const auto& [choice, n] : votes) {
        if (n > top) best = choice, top = n, atTop = 1;
        else if (n == top) ++atTop;
    }
    return atTop == 1 ? best : std::string();
}

std::string PreferenceStore::annotatorConsensus(int64_t pairId) {
    // As LabelPolicy::Consensus counts people: each (source, annotator)'s
    // latest label, a person being a human label or a named imported one.
    SqlStatement s(m_db.connection(), "SELECT choice, source, annotator FROM labels WHERE pair_id = ? ORDER BY id");
    s.bind(1, pairId);
    std::map<std::pair<std::string, std::string>, std::string> latest;
    while (s.step()) {
        const std::string source = s.text(1), annotator = s.text(2);
        if (source == toString(LabelSource::Human) || (source == toString(LabelSource::Import) && !annotator.empty())) {
            latest[{source, annotator}] = s.text(0);
        }
    }
    std::vector<std::string> choices;
    for (const auto& [voter, choice] : latest) choices.push_back(choice);
    return consensusChoice(choices);
}

void PreferenceStore::forEachPreference(std::optional<int64_t> runId,
                                        const std::function<void(const LabeledPair&)>& visit, LabelPolicy policy) {
    // Every label of every pair, by pair and then in the order given; the
    // texts repeat on a pair's rows, most pairs have one label.
    SqlStatement s(m_db.connection(),
                   "SELECT pairs.id, p.text, ra.text, rb.text, coalesce(cv.prompt_messages, ''), "
                   "coalesce(cv.source_row, ''), l.choice, l.source, l.annotator FROM pairs "
                   "JOIN prompts p ON p.id = pairs.prompt_id "
                   "JOIN responses ra ON ra.id = pairs.response_a JOIN responses rb ON rb.id = pairs.response_b "
                   "JOIN labels l ON l.pair_id = pairs.id "
                   "LEFT JOIN conversations cv ON cv.pair_id = pairs.id "
                   // Gold pairs test annotators and are never trained on (gold_pair_store.h).
                   "WHERE (?1 IS NULL OR pairs.run_id = ?1) AND " + std::string(kNotGoldPair) + " ORDER BY pairs.id, l.id");
    s.bind(1, runId);
    int64_t current = -1;
    LabeledPair pair;
    PairVotes votes;
    auto finish = [&] {
        if (current < 0) return;
        auto [choice, source] = votes.decide(policy);
        if (choice != "a" && choice != "b") return;
        pair.choice = std::move(choice);
        pair.source = std::move(source);
        visit(pair);
    };
    while (s.step()) {
        const int64_t id = s.int64(0);
        if (id != current) {
            finish();
            current = id;
            votes = PairVotes();
            pair = {s.text(1), s.text(2), s.text(3), {}, {}, s.text(4), s.text(5), id};
        }
        votes.add(s.text(6), s.text(7), s.text(8));
    }
    finish();
}

void PreferenceStore::forEachLabelForExport(std::optional<int64_t> runId,
                                            const std::function<void(const ExportedLabel&)>& visit) {
    SqlStatement s(m_db.connection(),
                   "SELECT p.text, ra.text, rb.text, l.annotator, l.choice, l.seconds, coalesce(l.shown_first, '') "
                   "FROM labels l JOIN pairs ON pairs.id = l.pair_id "
                   "JOIN prompts p ON p.id = pairs.prompt_id "
                   "JOIN responses ra ON ra.id = pairs.response_a JOIN responses rb ON rb.id = pairs.response_b "
                   "WHERE (?1 IS NULL OR pairs.run_id = ?1) AND l.annotator <> '' AND l.source IN ('human', 'import') "
                   "AND l.id = (SELECT max(id) FROM labels m WHERE m.pair_id = l.pair_id AND m.annotator = l.annotator "
                   // Not gold pairs' labels: imported elsewhere they would be an ordinary pair's, and trained on.
                   "AND m.source IN ('human', 'import')) AND " + std::string(kNotGoldPair) + " ORDER BY l.pair_id, l.id");
    s.bind(1, runId);
    while (s.step()) {
        ExportedLabel e{s.text(0), s.text(1), s.text(2), s.text(3), s.text(4), std::nullopt, s.text(6)};
        if (!s.isNull(5)) e.seconds = s.real(5);
        visit(e);
    }
}

void PreferenceStore::forEachRatingForExport(std::optional<int64_t> runId,
                                             const std::function<void(const ExportedRating&)>& visit) {
    SqlStatement s(m_db.connection(),
                      "SELECT p.text, r.text, ra.value, r.sampling_logprob FROM responses r "
                      "JOIN prompts p ON p.id = r.prompt_id "
                      "JOIN ratings ra ON ra.id = (SELECT max(id) FROM ratings WHERE response_id = r.id) "
                      "WHERE (?1 IS NULL OR r.run_id = ?1) ORDER BY r.id");
    s.bind(1, runId);
    while (s.step()) {
        ExportedRating e{s.text(0), s.text(1), s.real(2), std::nullopt};
        if (!s.isNull(3)) e.samplingLogprob = s.real(3);
        visit(e);
    }
}

void PreferenceStore::forEachAnnotatorLabel(
    std::optional<int64_t> runId, const std::function<void(int64_t, const std::string&, const std::string&)>& visit) {
    SqlStatement s(m_db.connection(),
                      "SELECT l.pair_id, l.annotator, l.choice FROM labels l JOIN pairs ON pairs.id = l.pair_id "
                      "WHERE l.annotator <> '' AND l.source IN ('human', 'import') AND (?1 IS NULL OR pairs.run_id = ?1) "
                      "AND l.id = (SELECT max(id) FROM labels m WHERE m.pair_id = l.pair_id AND m.annotator = l.annotator "
                      "AND m.source IN ('human', 'import')) ORDER BY l.pair_id, l.annotator");
    s.bind(1, runId);
    while (s.step()) visit(s.int64(0), s.text(1), s.text(2));
}

void PreferenceStore::forEachJudgeVerdict(
    std::optional<int64_t> runId, const std::function<void(int64_t, const std::string&, const std::string&)>& visit) {
    const char* labelledByPeople =
        "EXISTS(SELECT 1 FROM labels h WHERE h.pair_id = pairs.id AND h.annotator <> '' AND h.source IN ('human', 'import'))";
    SqlStatement stored(m_db.connection(),
                           std::string("SELECT l.pair_id, l.source, l.choice FROM labels l JOIN pairs ON pairs.id = l.pair_id "
                                       "WHERE l.source IN ('task', 'reward_model', 'self', 'llm') AND (?1 IS NULL OR pairs.run_id = ?1) "
                                       "AND l.id = (SELECT max(id) FROM labels m WHERE m.pair_id = l.pair_id AND m.source = l.source) AND ") +
                               labelledByPeople + " ORDER BY l.pair_id, l.source");
    stored.bind(1, runId);
    while (stored.step()) {
        visit(stored.int64(0), stored.text(1), stored.text(2));
    }
    SqlStatement gold(m_db.connection(),
                         std::string("SELECT pairs.id, ra.gold_reward, rb.gold_reward FROM pairs "
                                     "JOIN responses ra ON ra.id = pairs.response_a JOIN responses rb ON rb.id = pairs.response_b "
                                     "WHERE ra.gold_reward IS NOT NULL AND rb.gold_reward IS NOT NULL AND (?1 IS NULL OR pairs.run_id = ?1) "
                                     "AND NOT EXISTS(SELECT 1 FROM labels t WHERE t.pair_id = pairs.id AND t.source = 'task') AND ") +
                             labelledByPeople + " ORDER BY pairs.id");
    gold.bind(1, runId);
    while (gold.step()) {
        const double a = gold.real(1), b = gold.real(2);
        visit(gold.int64(0), "task", a > b ? "a" : b > a ? "b" : "tie");
    }
}

void PreferenceStore::forEachDisagreement(std::optional<int64_t> runId, const std::function<void(const Disagreement&)>& visit) {
    auto& c = m_db.connection();
    SqlStatement texts(c, "SELECT p.text, ra.text, rb.text FROM pairs JOIN prompts p ON p.id = pairs.prompt_id "
                             "JOIN responses ra ON ra.id = pairs.response_a JOIN responses rb ON rb.id = pairs.response_b "
                             "WHERE pairs.id = ?");
    SqlStatement adjudicated(c, "SELECT choice, annotator FROM labels WHERE pair_id = ? AND source = 'adjudicated' "
                             "ORDER BY id DESC LIMIT 1");
    Disagreement current;
    auto finish = [&] {
        std::string first;
        bool differ = false;
        for (const auto& [annotator, choice] : current.labels) {
            if (choice == "skip") continue;
            if (first.empty()) first = choice;
            else differ = differ || choice != first;
        }
        if (!differ) return;
        texts.bind(1, current.pairId);
        if (texts.step()) {
            current.prompt = texts.text(0);
            current.responseA = texts.text(1);
            current.responseB = texts.text(2);
        }
        texts.reset();
        adjudicated.bind(1, current.pairId);
        if (adjudicated.step()) {
            current.finalChoice = adjudicated.text(0);
            current.reviewer = adjudicated.text(1);
        }
        adjudicated.reset();
        visit(current);
    };
    forEachAnnotatorLabel(runId, [&](int64_t pairId, const std::string& annotator, const std::string& choice) {
        if (pairId != current.pairId) {
            if (current.pairId != 0) finish();
            current = Disagreement{};
            current.pairId = pairId;
        }
        current.labels.emplace_back(annotator, choice);
    });
    if (current.pairId != 0) finish();
}

int64_t PreferenceStore::insertAdjudication(int64_t pairId, const std::string& choice, const std::string& reviewer,
                                            int64_t createdMs) {
    auto& c = m_db.connection();
    SqlStatement exists(c, "SELECT 1 FROM pairs WHERE id = ?");
    exists.bind(1, pairId);
    if (!exists.step()) throw StorageError(c.path() + ": no pair " + std::to_string(pairId) + " to adjudicate");
    return insertLabel({pairId, std::nullopt, std::nullopt, choice, "adjudicated",
                        storedPersonName(reviewer, "reviewer", true, c.path()), createdMs});
}

int64_t PreferenceStore::insertPreferredEdit(const PreferredEditRow& e) {
    auto& c = m_db.connection();
    auto orNull = [](const std::string& t) { return t.empty() ? std::nullopt : std::optional<std::string>(t); };
    if (!e.idempotencyKey.empty()) {
        // A retried write whose first COMMIT did reach the database.
        SqlStatement stored(c, "SELECT pair_id FROM labels WHERE idempotency_key = ?");
        stored.bind(1, orNull(e.idempotencyKey));
        if (stored.step()) return stored.int64(0);
    }
    const int64_t original = resolvePairId(e.pairId, e.runId, e.runIndex, "edited response");
    if (storedPersonName(e.annotator, "annotator", false, c.path()).empty())
        throw StorageError(c.path() + ": the edit of pair " + std::to_string(original) + " needs its annotator's name");
    if (e.side != "a" && e.side != "b")
        throw StorageError(c.path() + ": the edited side of pair " + std::to_string(original) + " must be 'a' or 'b', not '" + e.side + "'");
    SqlStatement read(c, "SELECT pairs.run_id, pairs.prompt_id, p.text, r.id, r.text, coalesce(cv.prompt_messages, '') "
                         "FROM pairs JOIN prompts p ON p.id = pairs.prompt_id "
                         "JOIN responses r ON r.id = CASE WHEN ?2 = 'a' THEN pairs.response_a ELSE pairs.response_b END "
                         "LEFT JOIN conversations cv ON cv.pair_id = pairs.id WHERE pairs.id = ?1");
    read.bind(1, original).bind(2, e.side);
    if (!read.step()) throw StorageError(c.path() + ": edited response for unknown pair " + std::to_string(original));
    const std::optional<int64_t> runId = read.isNull(0) ? std::nullopt : std::optional<int64_t>(read.int64(0));
    const int64_t prompt = read.int64(1);
    const std::string promptText = read.text(2), messages = read.text(5), originalText = read.text(4);
    const int64_t originalResponse = read.int64(3);
    if (asStored(e.text) == originalText)
        throw StorageError(c.path() + ": the edit of response " + e.side + " of pair " + std::to_string(original) +
                           " leaves its text unchanged");
    SqlStatement response(c, "INSERT INTO responses(prompt_id, text, run_id, edited_from) VALUES(?,?,?,?)",
                          SqlReturning::Id);
    response.bind(1, prompt).bind(2, e.text).bind(3, runId).bind(4, originalResponse);
    const int64_t edited = response.insertedIdOrThrow();
    SqlStatement pair(c, "INSERT INTO pairs(run_id, prompt_id, response_a, response_b, source, created_ms, text_key) "
                         "VALUES(?,?,?,?,'edit',?,?)", SqlReturning::Id);
    PairRow keyed;
    keyed.prompt = promptText, keyed.promptMessagesJson = messages, keyed.a.text = e.text, keyed.b.text = originalText;
    pair.bind(1, runId).bind(2, prompt).bind(3, edited).bind(4, originalResponse).bind(5, e.createdMs);
    pair.bind(6, storedKey(keyed, m_db.dialect()));
    const int64_t id = pair.insertedIdOrThrow();
    if (!messages.empty()) {
        // The turns, for a chat template; no source row: export writes the
        // correction from its texts, not as the original's row.
        SqlStatement conv(c, "INSERT INTO conversations(pair_id, prompt_messages, source_row) VALUES(?,?,'')");
        conv.bind(1, id).bind(2, messages);
        conv.run();
    }
    LabelRow label{id, std::nullopt, std::nullopt, "a", "human", e.annotator, e.createdMs, e.seconds, "", e.idempotencyKey};
    insertLabel(label);
    return id;
}

void PreferenceStore::forEachUntrainedHumanPreference(int64_t runId,
                                                      const std::function<void(int64_t, const LabeledPair&)>& visit) {
    SqlStatement s(m_db.connection(),
                      "SELECT pairs.run_index, p.text, ra.text, rb.text, l.choice, l.source FROM pairs "
                      "JOIN prompts p ON p.id = pairs.prompt_id "
                      "JOIN responses ra ON ra.id = pairs.response_a JOIN responses rb ON rb.id = pairs.response_b "
                      "JOIN labels l ON l.id = (SELECT max(id) FROM labels WHERE pair_id = pairs.id) "
                      "WHERE l.choice IN ('a','b') AND l.source = 'human' AND pairs.run_id = ?1 "
                      "AND pairs.trained_step IS NULL AND pairs.run_index IS NOT NULL AND " + std::string(kNotGoldPair) +
                      " ORDER BY pairs.run_index");
    s.bind(1, std::optional<int64_t>(runId));
    while (s.step()) visit(s.int64(0), {s.text(1), s.text(2), s.text(3), s.text(4), s.text(5)});
}

int64_t PreferenceStore::forEachRating(std::optional<int64_t> runId, const std::function<void(const StoredRating&)>& visit) {
    SqlStatement s(m_db.connection(),
                      "SELECT p.text, r.text, coalesce(r.ended_with_eos, 1), ra.value, r.sampling_logprob FROM responses r "
                      "JOIN prompts p ON p.id = r.prompt_id "
                      "JOIN ratings ra ON ra.id = (SELECT max(id) FROM ratings WHERE response_id = r.id) "
                      "WHERE (?1 IS NULL OR r.run_id = ?1) ORDER BY r.id");
    s.bind(1, runId);
    int64_t withoutPropensity = 0;
    while (s.step()) {
        if (s.isNull(4)) {
            ++withoutPropensity;
            continue;
        }
        visit({s.text(0), s.text(1), s.int64(2) != 0, s.real(3), s.real(4)});
    }
    return withoutPropensity;
}

}  // namespace preflab
