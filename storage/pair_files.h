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
#include "storage/preference_store.h"
#include "storage/pair_line_parser.h"
#include "storage/records.h"

#include <optional>
#include <functional>
#include <string>
#include <vector>

namespace preflab {

struct LineError {
    int64_t line = 0;
    std::string message;
};

struct ImportReport {
    std::string file;
    int64_t linesRead = 0;
    int64_t pairsStored = 0;
    int64_t labelsStored = 0;
    int64_t ratingsStored = 0;
    // Good lines per format, in the order each format was first met.
    std::vector<std::pair<std::string, int64_t>> formats;
    std::string describeFormats() const;  // "1200 lines as TRL implicit prompt (...)"
    void countFormat(const std::string& format);
    std::vector<LineError> errors;
    bool stored = false;  // whether the transaction was committed
    std::string describe() const;  // one line per error, "file:line: message"
};

// Parses the file without storing anything (pair.a is the chosen response):
// every good line lands in `pairs`, every bad one in the report's errors. A
// label file's pair becomes one preference by its annotators' majority of A
// and B labels (none without a majority). Rating rows are errors here: they
// are not pairs.
ImportReport readPairsJsonl(const std::string& path, std::vector<PairRow>& pairs);

// skipBadLines = false: any bad line means nothing is stored. `onPair` sees
// each good pair as it is stored (pair.a is the chosen response). Rating rows
// store a rated response each; UltraFeedback's scores become ratings of the
// pair's two responses.
ImportReport importPairsJsonl(Database& db, const std::string& path, bool skipBadLines = false,
                              const std::string& annotator = {},
                              const std::function<void(const PairRow&)>& onPair = {});

enum class PairExportFormat { TrlStandard, Conversational };

// Writes every pair whose label in force under `policy` (preference_store.h)
// is A or B, the winner as chosen.
// Returns the count. The file appears complete or not at all (written to a
// temporary name, then renamed).
int64_t exportPairsJsonl(Database& db, const std::string& path, std::optional<int64_t> runId = std::nullopt,
                         PairExportFormat format = PairExportFormat::TrlStandard,
                         LabelPolicy policy = LabelPolicy::Consensus);
// Writes each annotator's latest label of each pair as a label file row:
// the labels agreement counts (a judge's labels and a reviewer's final labels
// are not written, so the file imports back to the same agreement).
int64_t exportLabelsJsonl(Database& db, const std::string& path, std::optional<int64_t> runId = std::nullopt);
int64_t exportMetricsCsv(Database& db, const std::string& path, int64_t runId);

}  // namespace preflab
