#include "app/session/offline_pairs.h"

#include "storage/pair_files.h"
#include "storage/preference_store.h"

#include <stdexcept>

namespace preflab {

std::vector<OfflinePair> loadOfflinePairs(const std::string& source, Database& db) {
    std::vector<OfflinePair> out;
    if (source == "db" || source.rfind("db:", 0) == 0) {
        std::optional<int64_t> run;
        if (source.size() > 3) {
            try {
                run = std::stoll(source.substr(3));
            } catch (const std::exception&) {
                throw std::runtime_error("pairs = '" + source + "': expected db or db:RUN with a run number");
            }
        }
        PreferenceStore(db).forEachPreference(run, [&](const LabeledPair& p) {
            const bool aWins = p.choice == "a";
            out.push_back({p.prompt, aWins ? p.responseA : p.responseB, aWins ? p.responseB : p.responseA});
        });
        if (out.empty()) {
            throw std::runtime_error(db.connection().path() + " holds no labeled preferences (A or B)" +
                                     (run ? " for run " + std::to_string(*run) : std::string()) + " to train on");
        }
        return out;
    }
    std::vector<PairRow> rows;
    const ImportReport report = readPairsJsonl(source, rows);
    if (!report.errors.empty()) throw std::runtime_error(report.describe());
    if (rows.empty()) throw std::runtime_error(source + ": no pairs in the file");
    for (const PairRow& r : rows) out.push_back({r.prompt, r.a.text, r.b.text});
    return out;
}


}  // namespace preflab
