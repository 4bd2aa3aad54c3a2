#include "app/session/offline_pairs.h"

#include "core/hf/chat_template.h"
#include "core/values/run_config.h"

#include "storage/pair_files.h"
#include "storage/preference_store.h"
#include "storage/response_label_store.h"

#include <algorithm>
#include <map>
#include <stdexcept>

namespace preflab {

namespace {

bool isDatabaseSource(const std::string& source) {
    return source == "db" || source.rfind("db:", 0) == 0;
}

// "db" -> every run; "db:RUN" -> that run.
std::optional<int64_t> runOfSource(const std::string& key, const std::string& source) {
    if (source.size() <= 3) return std::nullopt;
    try {
        size_t used = 0;
        const int64_t run = std::stoll(source.substr(3), &used);
        if (used == source.size() - 3) return run;
    } catch (const std::exception&) {
    }
    throw std::runtime_error(key + " = '" + source + "': expected db or db:RUN with a run number");
}

}  // namespace

std::vector<OfflinePair> loadOfflinePairs(const std::string& source, Database& db, const std::string& labelPolicy) {
    std::vector<OfflinePair> out;
    if (source == kUnpairedSource) {
        // KTO on unpaired labels: the desirable and the undesirable examples
        // side by side as pairs; the shorter list repeats (kto_desirable_weight
        // and kto_undesirable_weight still weigh the two kinds).
        std::vector<UnpairedExample> up, down;
        for (UnpairedExample& e : ResponseLabelStore(db).examples()) (e.desirable ? up : down).push_back(std::move(e));
        if (up.empty() || down.empty()) {
            throw std::runtime_error(db.connection().path() + " holds " + std::to_string(up.size()) + " desirable and " +
                                     std::to_string(down.size()) + " undesirable unpaired labels: kto needs at least one "
                                     "of each (preflab annotate --thumbs, or import TRL's unpaired format)");
        }
        for (size_t i = 0; i < std::max(up.size(), down.size()); ++i) {
            const UnpairedExample& u = up[i % up.size()];
            const UnpairedExample& d = down[i % down.size()];
            OfflinePair p;
            p.prompt = u.prompt;
            p.chosen = u.completion;
            p.rejected = d.completion;
            p.rejectedPrompt = d.prompt;
            out.push_back(std::move(p));
        }
        return out;
    }
    if (isDatabaseSource(source)) {
        const std::optional<int64_t> run = runOfSource("pairs", source);
        PreferenceStore store(db);
        // Each pair comes with the reference log-probabilities an earlier
        // run kept for it (schema v13); the loop decides whether they hold.
        const std::map<int64_t, StoredRefLogprobs> cached = store.refLogprobs();
        store.forEachPreference(
            run,
            [&](const LabeledPair& p) {
                const bool aWins = p.choice == "a";
                OfflinePair pair{p.prompt, aWins ? p.responseA : p.responseB, aWins ? p.responseB : p.responseA,
                                 chatMessagesFromJson(p.promptMessagesJson)};
                pair.pairId = p.pairId;
                pair.chosenIsA = aWins;
                if (const auto it = cached.find(p.pairId); it != cached.end()) {
                    const StoredRefLogprobs& c = it->second;
                    pair.cachedRef = CachedReferenceLogprobs{c.fingerprint, c.tokensKey, aWins ? c.refA : c.refB,
                                                             aWins ? c.refB : c.refA};
                }
                out.push_back(std::move(pair));
            },
            labelPolicyFromName(labelPolicy));
        if (out.empty()) {
            throw std::runtime_error(db.connection().path() + " holds no labeled preferences (A or B" +
                                     (labelPolicy == "consensus" ? " by the annotators' consensus" : "") + ")" +
                                     (run ? " for run " + std::to_string(*run) : std::string()) + " to train on");
        }
        return out;
    }
    std::vector<PairRow> rows;
    const ImportReport report = readPairsJsonl(source, rows);
    if (!report.errors.empty()) throw std::runtime_error(report.describe());
    if (rows.empty()) throw std::runtime_error(source + ": no pairs in the file");
    for (const PairRow& r : rows) out.push_back({r.prompt, r.a.text, r.b.text, chatMessagesFromJson(r.promptMessagesJson)});
    return out;
}


std::vector<RatedResponse> loadRatedResponses(const std::string& source, Database& db) {
    if (!isDatabaseSource(source)) {
        throw std::runtime_error("ratings = '" + source + "': expected db or db:RUN (ratings need the stored sampling "
                                 "log-probabilities of their responses)");
    }
    const std::optional<int64_t> run = runOfSource("ratings", source);
    std::vector<RatedResponse> out;
    const int64_t skipped = PreferenceStore(db).forEachRating(run, [&](const StoredRating& r) {
        out.push_back({r.prompt, r.response, r.endedWithEos, r.value, r.samplingLogprob});
    });
    if (out.empty()) {
        throw std::runtime_error(db.connection().path() + " holds no rated responses" +
                                 (run ? " for run " + std::to_string(*run) : std::string()) +
                                 (skipped > 0 ? " with a stored sampling log-probability (" + std::to_string(skipped) +
                                                    " rated responses have none: imported, not generated here)"
                                              : std::string()) +
                                 " to train cpo, dr-cpo or oo-rlhf on");
    }
    return out;
}

}  // namespace preflab
