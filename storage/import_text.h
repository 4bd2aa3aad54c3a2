#pragma once
// Reading import files' text, without a database: bounded lines, RFC 4180
// CSV records, a ratings CSV's rows checked, and the report of an import
// (what was read, stored, merged, and every bad line by file and line).
// Plain C++ and QtCore; the fuzz targets build it alone.
#include "storage/records.h"

#include <cstdint>
#include <functional>
#include <istream>
#include <string>
#include <utility>
#include <vector>

namespace preflab {

// The longest line (JSON Lines) or record (CSV) an import reads: checked while
// reading, before the line is held or parsed, so memory stays bounded (a
// 50 MB one-line file took 885 MB to parse). Far above any preference row in
// practice (a 128k-token conversation is about 0.5 MB).
inline constexpr size_t kMaxLineBytes = 16u * 1024 * 1024;

struct LineError {
    int64_t line = 0;
    std::string message;
};

// The range of a rating an import accepts: a person's 1-7 scale by default
// (`preflab import --rating-range LO-HI` sets another).
struct RatingRange {
    double low = 1, high = 7;
    bool contains(double v) const { return v >= low && v <= high; }
    std::string describe() const;  // "1-7"
    // "LO-HI" (each a finite number, LO <= HI); returns false when it is not one.
    static bool parse(const std::string& text, RatingRange& out);
};

struct ImportReport {
    std::string file;
    int64_t linesRead = 0;
    // Pairs: stored anew, already stored and given a label or rating they
    // lacked (merged), already stored with everything the file says (unchanged).
    int64_t pairsStored = 0;
    int64_t pairsMerged = 0;
    int64_t pairsUnchanged = 0;
    int64_t labelsStored = 0;      // label rows added
    int64_t labelsUnchanged = 0;   // labels the database already held (the same annotator's same latest label)
    int64_t ratingsStored = 0;     // rating rows added
    int64_t ratingsUnchanged = 0;  // ratings the database already held
    // Good lines per format, in the order each format was first met.
    std::vector<std::pair<std::string, int64_t>> formats;
    std::string describeFormats() const;  // "1200 lines as TRL implicit prompt (...)"
    void countFormat(const std::string& format);
    std::vector<LineError> errors;
    bool stored = false;  // whether the transaction was committed
    std::string describe() const;  // one line per error, "file:line: message"
};

// Reads one line (its '\n' and a '\r' before it dropped) into `line`. A line
// longer than `limit` bytes is read past to its end without being held:
// `line` is then empty and `tooLong` set. Returns false at the end of input.
bool readBoundedLine(std::istream& in, std::string& line, bool& tooLong, size_t limit = kMaxLineBytes);

// Skips a UTF-8 byte-order mark at the stream's start (Excel's "CSV UTF-8").
void skipUtf8Bom(std::istream& in);

// RFC 4180 records: fields separated by commas; a quoted field may hold
// commas, quotes (doubled) and line breaks, kept as they are (CR included:
// "a\r\nb" inside quotes is a CR LF); a record ends at an unquoted line break
// (LF or CR LF). Written by hand: Qt has no CSV reader.
class CsvReader {
public:
    explicit CsvReader(std::istream& in, size_t maxRecordBytes = kMaxLineBytes) : m_in(in), m_max(maxRecordBytes) {}
    // The next record; false at the end of input. `error` is set (and the
    // record read past) for a quote left open at the end of the file, text
    // after a closing quote, or a record longer than the limit.
    bool next(std::vector<std::string>& fields, std::string& error);
    int64_t linesRead() const { return m_lines; }
    int64_t recordLine() const { return m_recordLine; }  // the first line of the last record

private:
    std::istream& m_in;
    size_t m_max;
    int64_t m_lines = 0, m_recordLine = 0;
};

// A CSV export cell that a spreadsheet would run as a formula (it starts with
// = + - @, a tab or a CR) gets a leading apostrophe, as OWASP recommends; a
// cell that starts with apostrophes followed by one of those gets one more, so
// that fromSpreadsheetCell undoes it exactly: PrefLab's own export reads back
// unchanged. (A hand-made file's cell "'=x" reads as "=x", as a spreadsheet
// shows it.)
std::string spreadsheetCell(const std::string& text);
std::string fromSpreadsheetCell(const std::string& cell);

// One good row of a ratings CSV.
struct RatingCsvRow {
    int64_t line = 0;
    std::string prompt;
    ResponseRow response;
    double rating = 0;
};

// Reads a ratings CSV: a header naming prompt, response and rating (and
// optionally sampling_logprob; other columns are read past and named in the
// format), then rows. Every bad row lands in report.errors with its first
// line; each good one goes to `use`. Throws StorageError for a file without a
// usable header.
void readRatingsCsv(std::istream& in, const std::string& path, const RatingRange& range, ImportReport& report,
                    const std::function<void(RatingCsvRow&)>& use);

}  // namespace preflab
