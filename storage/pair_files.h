#pragma once
// Preference pairs in and out as JSON Lines, and metrics as CSV. Import reads
// TRL's standard format ({"prompt": ..., "chosen": ..., "rejected": ...},
// strings) and its implicit-prompt format ({"chosen": ..., "rejected": ...}
// only, as Anthropic's HH-RLHF: the prompt is the dialogue both texts share
// up to and including the final "\n\nAssistant:" turn), recognised line by
// line from the keys, and label files from several annotators
// ({"prompt", "response_a", "response_b", "annotator", "label"}, label one of
// a, b, tie, both_bad, skip), where the rows of one pair (the same three
// texts) merge into one pair with each annotator's label; export writes the
// standard format.
// Import streams the file, reports every bad line (file, line, what is wrong)
// and stores in one transaction: all good lines, or (by default, if any line is
// bad) nothing at all.
#include "storage/database.h"
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

// The import formats, as ImportReport::formats names them.
inline const char* const kTrlStandard = "TRL standard (prompt, chosen, rejected)";
inline const char* const kTrlImplicitPrompt = "TRL implicit prompt (chosen, rejected; HH-RLHF)";
inline const char* const kAnnotatorLabels = "annotator labels (prompt, response_a, response_b, annotator, label)";

struct ImportReport {
    std::string file;
    int64_t linesRead = 0;
    int64_t pairsStored = 0;
    int64_t labelsStored = 0;
    // Good lines per format, in the order each format was first met.
    std::vector<std::pair<std::string, int64_t>> formats;
    std::string describeFormats() const;  // "1200 lines as TRL implicit prompt (...)"
    std::vector<LineError> errors;
    bool stored = false;  // whether the transaction was committed
    std::string describe() const;  // one line per error, "file:line: message"
};

// Parses the file without storing anything (pair.a is the chosen response):
// every good line lands in `pairs`, every bad one in the report's errors. A
// label file's pair becomes one preference by its annotators' majority of A
// and B labels (none without a majority).
ImportReport readPairsJsonl(const std::string& path, std::vector<PairRow>& pairs);

// skipBadLines = false: any bad line means nothing is stored. `onPair` sees
// each good pair as it is stored (pair.a is the chosen response).
ImportReport importPairsJsonl(Database& db, const std::string& path, bool skipBadLines = false,
                              const std::string& annotator = {},
                              const std::function<void(const PairRow&)>& onPair = {});

// Writes every pair whose latest label is A or B. Returns the count. The file
// appears complete or not at all (written to a temporary name, then renamed).
int64_t exportPairsJsonl(Database& db, const std::string& path, std::optional<int64_t> runId = std::nullopt);
int64_t exportMetricsCsv(Database& db, const std::string& path, int64_t runId);

}  // namespace preflab
