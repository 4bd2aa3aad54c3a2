#pragma once
// Rated responses in and out: CSV with a header row naming prompt, response,
// rating and optionally sampling_logprob (other columns are read past and
// named in the report), or JSON Lines through importPairsJsonl. The CPO family
// trains on ratings whose responses carry a sampling log-probability.
#include "storage/database.h"
#include "storage/pair_files.h"

#include <optional>
#include <string>

namespace preflab {

// Streams the CSV (RFC 4180: quoted fields may hold commas, quotes and line
// breaks, CR LF included; readRatingsCsv in import_text.h) and stores every
// rating in one transaction, or nothing when a row is bad and
// options.skipBadLines is false. A row with more fields than the header, a
// header naming a column twice and a rating outside options.checks.ratings
// are bad. A response is one per prompt and text: importing the file again
// changes nothing, a corrected rating is a newer rating of the same response.
// Line numbers in errors are the row's first line.
ImportReport importRatingsCsv(Database& db, const std::string& path, const ImportOptions& options);
inline ImportReport importRatingsCsv(Database& db, const std::string& path, bool skipBadRows = false,
                                     const std::string& annotator = {}) {
    ImportOptions options;
    options.skipBadLines = skipBadRows;
    options.annotator = annotator;
    return importRatingsCsv(db, path, options);
}

// Writes each rated response's latest rating: CSV when the path ends in .csv
// (texts that a spreadsheet would run as formulas escaped: spreadsheetCell),
// else JSON Lines ({"prompt", "response", "rating"[, "sampling_logprob"]}).
int64_t exportRatings(Database& db, const std::string& path, std::optional<int64_t> runId = std::nullopt);

}  // namespace preflab
