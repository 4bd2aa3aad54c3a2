#include "storage/rating_files.h"

#include "storage/file_writing.h"
#include "storage/import_text.h"
#include "core/values/person_names.h"
#include "storage/preference_store.h"

#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <vector>

namespace preflab {
namespace {

// The shortest text that reads back as the same double (5, 2.25, 0.1).
std::string shortestText(double v) {
    char buf[32];
    const auto res = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, res.ptr);
}

}  // namespace

ImportReport importRatingsCsv(Database& db, const std::string& path, const ImportOptions& options) {
    ImportReport report;
    report.file = path;
    std::string annotator;
    if (const std::string e = normalizeName(options.annotator, annotator, "annotator", false); !e.empty()) {
        throw StorageError("--annotator: " + e);
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) throw StorageError(path + ": cannot open the file for reading");
    PreferenceStore store(db);
    Transaction tx(db.connection());
    const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch()).count();
    readRatingsCsv(in, path, options.checks.ratings, report, [&](RatingCsvRow& row) {
        if (!report.errors.empty() && !options.skipBadLines) return;  // keep validating, store nothing
        const PreferenceStore::RatedResponse r =
            store.insertRatedResponseIfChanged(row.prompt, row.response, row.rating, "import", annotator, now);
        if (!r.conflict.empty()) {
            report.errors.push_back({row.line, r.conflict});
            return;
        }
        (r.ratingAdded ? report.ratingsStored : report.ratingsUnchanged) += 1;
    });
    if (!report.errors.empty() && !options.skipBadLines) {
        report.ratingsStored = report.ratingsUnchanged = 0;
        return report;  // the transaction rolls back
    }
    tx.commit();
    report.stored = true;
    return report;
}

int64_t exportRatings(Database& db, const std::string& path, std::optional<int64_t> runId) {
    const bool csv = path.size() >= 4 && path.compare(path.size() - 4, 4, ".csv") == 0;
    return writeFileAtomically(path, [&](std::ostream& out) {
        if (csv) out << "prompt,response,rating,sampling_logprob\n";
        int64_t count = 0;
        PreferenceStore(db).forEachRatingForExport(runId, [&](const ExportedRating& r) {
            const std::string value = shortestText(r.value);
            const std::string lp = r.samplingLogprob ? shortestText(*r.samplingLogprob) : std::string();
            if (csv) {
                out << csvField(spreadsheetCell(r.prompt)) << ',' << csvField(spreadsheetCell(r.response)) << ',' << value << ',' << lp << '\n';
            } else {
                out << "{\"prompt\":" << jsonString(r.prompt) << ",\"response\":" << jsonString(r.response)
                    << ",\"rating\":" << value;
                if (r.samplingLogprob) out << ",\"sampling_logprob\":" << lp;
                out << "}\n";
            }
            ++count;
        });
        return count;
    });
}

}  // namespace preflab
