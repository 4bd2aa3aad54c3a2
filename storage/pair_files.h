#pragma once
// Preference pairs, labels and ratings in and out as JSON Lines, and metrics
// as CSV. Import recognises each line's format by its keys
// (pair_line_parser.h lists them: TRL standard, implicit prompt and
// conversational, UltraFeedback-style message lists, annotator label files,
// ratings), streams the file, reports every bad line (file, line, what is
// wrong) and stores in one transaction: all good lines, or (by default, if any
// line is bad) nothing at all. The rows of a label file that name one pair
// (the same three texts) merge into one pair with each annotator's label.
// Export writes TRL's standard or conversational format (a row imported as a
// conversation comes back as it was read), label files and ratings; each file
// appears complete or not at all.
#include "storage/database.h"
#include "storage/import_text.h"
#include "storage/preference_store.h"
#include "storage/pair_line_parser.h"
#include "storage/records.h"

#include <optional>
#include <functional>
#include <string>
#include <vector>

namespace preflab {

// How an import reads and stores (ImportReport, LineError and RatingRange
// are in import_text.h).
struct ImportOptions {
    // false: any bad line means nothing is stored.
    bool skipBadLines = false;
    // The name stored with a file's labels and ratings (a label file's rows
    // name their own annotators). Normalised as core/values/person_names.h says; a bad one is an error.
    std::string annotator;
    LineChecks checks;  // rating and score ranges
};

// Parses the file without storing anything (pair.a is the chosen response):
// every good line lands in `pairs`, every bad one in the report's errors. A
// label file's pair (the same texts, pair_identity.h) becomes one preference
// by consensusChoice over each annotator's latest label, as an import's
// consensus does (none unless A or B wins). Rating rows are errors here:
// they are not pairs.
ImportReport readPairsJsonl(const std::string& path, std::vector<PairRow>& pairs);

// Stores the file's good lines in one transaction (or nothing, see
// ImportOptions::skipBadLines). Imports merge: a pair is the stored pair
// (outside runs) with the same texts (pair_identity.h), so the same file
// twice changes nothing and one file per annotator gives one pair with every
// annotator's label. A label or rating the database already holds in force
// (the same source and annotator's latest) is not stored again; a different
// one is appended and, labels being append-only, the latest counts. The
// report counts pairs new, merged (given a label or rating) and unchanged.
// `onPair` sees each new pair as it is stored (pair.a is the chosen
// response). Rating rows store a rated response each (one per prompt and
// text); UltraFeedback's scores become ratings of the pair's two responses.
// A label file's pair also gets an unnamed import label, the people's
// consensus (a tie without one), as its latest label, so that label_policy
// latest and consensus agree on it.
ImportReport importPairsJsonl(Database& db, const std::string& path, const ImportOptions& options,
                              const std::function<void(const PairRow&)>& onPair = {});
inline ImportReport importPairsJsonl(Database& db, const std::string& path, bool skipBadLines = false,
                                     const std::string& annotator = {},
                                     const std::function<void(const PairRow&)>& onPair = {}) {
    ImportOptions options;
    options.skipBadLines = skipBadLines;
    options.annotator = annotator;
    return importPairsJsonl(db, path, options, onPair);
}

enum class PairExportFormat { TrlStandard, Conversational };

// Writes every pair whose label in force under `policy` (preference_store.h)
// is A or B, the winner as chosen.
// Returns the count. Files are written as file_writing.h says (a regular
// file complete or not at all; a FIFO, device or "-" streamed).
int64_t exportPairsJsonl(Database& db, const std::string& path, std::optional<int64_t> runId = std::nullopt,
                         PairExportFormat format = PairExportFormat::TrlStandard,
                         LabelPolicy policy = LabelPolicy::Consensus);
// Writes each annotator's latest label of each pair as a label file row:
// the labels agreement counts (a judge's labels and a reviewer's final labels
// are not written, so the file imports back to the same agreement).
int64_t exportLabelsJsonl(Database& db, const std::string& path, std::optional<int64_t> runId = std::nullopt);
// Every unpaired label (thumbs up or down on one response) in TRL's unpaired
// format, {"prompt", "completion", "label": true|false}, with "annotator" where
// one gave it; `preflab import` reads it back to the same rows.
int64_t exportUnpairedJsonl(Database& db, const std::string& path);
int64_t exportMetricsCsv(Database& db, const std::string& path, int64_t runId);

}  // namespace preflab
