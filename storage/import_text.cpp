#include "storage/import_text.h"

#include "storage/pair_line_parser.h"
#include "storage/sql_connection.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <sstream>

namespace preflab {

std::string ImportReport::describeFormats() const {
    std::string out;
    for (const auto& [format, lines] : formats) {
        out += (out.empty() ? "" : ", ") + std::to_string(lines) + (lines == 1 ? " line as " : " lines as ") + format;
    }
    return out;
}

std::string ImportReport::describe() const {
    std::ostringstream s;
    for (const LineError& e : errors) s << file << ":" << e.line << ": " << e.message << "\n";
    return s.str();
}

void ImportReport::countFormat(const std::string& format) {
    auto seen = std::find_if(formats.begin(), formats.end(), [&](const auto& f) { return f.first == format; });
    if (seen == formats.end()) formats.emplace_back(format, 1);
    else ++seen->second;
}

namespace {

// The shortest text that reads back as the same double (5, 2.25, 0.1).
std::string shortest(double v) {
    char buf[32];
    const auto res = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, res.ptr);
}

std::string trimmed(const std::string& s) {
    const size_t b = s.find_first_not_of(" \t");
    if (b == std::string::npos) return {};
    return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

// A finite number, surrounding spaces allowed. std::from_chars reads "0.5"
// whatever the locale (strtod would read "0,5" under de_DE).
bool parseNumber(const std::string& text, double& out) {
    const std::string s = trimmed(text);
    if (s.empty()) return false;
    const char* begin = s.c_str() + (s[0] == '+' ? 1 : 0);
    const auto [end, ec] = std::from_chars(begin, s.c_str() + s.size(), out);
    return ec == std::errc() && end == s.c_str() + s.size() && std::isfinite(out);
}

bool isFormulaStart(char c) {
    return c == '=' || c == '+' || c == '-' || c == '@' || c == '\t' || c == '\r';
}

// Whether `s` is apostrophes followed by a formula-starting character.
bool isQuotedFormula(const std::string& s) {
    const size_t first = s.find_first_not_of('\'');
    return first != std::string::npos && first > 0 && isFormulaStart(s[first]);
}

}  // namespace

std::string RatingRange::describe() const {
    return shortest(low) + "-" + shortest(high);
}

bool RatingRange::parse(const std::string& text, RatingRange& out) {
    // "LO-HI" where either may be negative or in exponent form ("-5--1",
    // "1e-3-7"): try each '-' that is not a sign as the separator.
    for (size_t i = 1; i < text.size(); ++i) {
        if (text[i] != '-' || text[i - 1] == 'e' || text[i - 1] == 'E' || text[i - 1] == '-') continue;
        double lo = 0, hi = 0;
        if (parseNumber(text.substr(0, i), lo) && parseNumber(text.substr(i + 1), hi) && lo <= hi) {
            out = {lo, hi};
            return true;
        }
    }
    return false;
}

bool readBoundedLine(std::istream& in, std::string& line, bool& tooLong, size_t limit) {
    line.clear();
    tooLong = false;
    bool any = false;
    char buf[64 * 1024];
    for (;;) {
        in.getline(buf, sizeof buf);
        const std::streamsize n = in.gcount();
        if (n > 0) any = true;
        if (in.bad()) return false;
        size_t stored = static_cast<size_t>(n);
        bool done = true;
        if (in.eof()) {
            // The last line, without a line break.
        } else if (in.fail()) {
            in.clear();  // the buffer is full: the line goes on
            done = false;
        } else {
            --stored;  // the '\n' was extracted, not stored
        }
        if (!tooLong && line.size() + stored > limit) {
            tooLong = true;
            std::string().swap(line);  // give the memory back: the rest is read past
        }
        if (!tooLong) line.append(buf, stored);
        if (done) break;
    }
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return any;
}

void skipUtf8Bom(std::istream& in) {
    std::streambuf* sb = in.rdbuf();
    const char bom[] = "\xEF\xBB\xBF";
    for (int i = 0; i < 3; ++i) {
        if (sb->sgetc() != static_cast<unsigned char>(bom[i])) {
            // Not a BOM: put back what was taken (at most two bytes, which
            // any stream buffer can return).
            for (int k = i; k > 0; --k) sb->sungetc();
            return;
        }
        sb->sbumpc();
    }
}

bool CsvReader::next(std::vector<std::string>& fields, std::string& error) {
    fields.clear();
    error.clear();
    std::streambuf* sb = m_in.rdbuf();
    if (sb->sgetc() == std::char_traits<char>::eof()) return false;
    m_recordLine = ++m_lines;
    std::string field;
    size_t bytes = 0;
    bool tooLong = false;
    enum { FieldStart, Unquoted, Quoted, AfterQuote } state = FieldStart;
    auto add = [&](char c) {
        if (tooLong) return;
        if (++bytes > m_max) {
            tooLong = true;
            std::string().swap(field);
            fields.clear();
            return;
        }
        field += c;
    };
    auto endField = [&] {
        if (!tooLong) fields.push_back(std::move(field));
        field.clear();
        state = FieldStart;
    };
    // An unquoted line break ends the record; CR LF counts as one.
    auto lineBreak = [&](char c) {
        if (c == '\n') return true;
        if (c == '\r' && sb->sgetc() == '\n') {
            sb->sbumpc();
            return true;
        }
        return false;
    };
    for (;;) {
        const int got = sb->sbumpc();
        if (got == std::char_traits<char>::eof()) {
            if (state == Quoted) error = "a quoted field is not closed before the end of the file";
            break;
        }
        const char c = static_cast<char>(got);
        if (state == Quoted) {
            if (c == '"') {
                state = AfterQuote;
            } else {
                if (c == '\n') ++m_lines;
                add(c);
            }
            continue;
        }
        if (state == AfterQuote) {
            if (c == '"') {
                add('"');
                state = Quoted;
                continue;
            }
            if (c == ',') {
                endField();
                continue;
            }
            if (lineBreak(c)) break;
            if (error.empty()) {
                error = "text after the closing quote of field " + std::to_string(fields.size() + 1) +
                        " (a quote inside a quoted field is written twice: \"\")";
            }
            state = Unquoted;
            add(c);
            continue;
        }
        if (state == FieldStart && c == '"') {
            state = Quoted;
            continue;
        }
        if (c == ',') {
            endField();
            continue;
        }
        if (lineBreak(c)) break;
        state = Unquoted;
        add(c);
    }
    if (!tooLong) fields.push_back(std::move(field));
    if (tooLong) {
        fields.clear();
        error = "the record is longer than the " + std::to_string(m_max / (1024 * 1024)) +
                " MiB a record may hold (an unclosed quote?)";
    }
    return true;
}

std::string spreadsheetCell(const std::string& text) {
    if (text.empty()) return text;
    if (isFormulaStart(text[0]) || isQuotedFormula(text)) return "'" + text;
    return text;
}

std::string fromSpreadsheetCell(const std::string& cell) {
    return isQuotedFormula(cell) ? cell.substr(1) : cell;
}

void readRatingsCsv(std::istream& in, const std::string& path, const RatingRange& range, ImportReport& report,
                    const std::function<void(RatingCsvRow&)>& use) {
    report.file = path;
    // Excel's "CSV UTF-8" starts with a byte-order mark; it goes before the
    // first field is read, so a quoted first header still reads as quoted.
    skipUtf8Bom(in);
    CsvReader csv(in);
    std::vector<std::string> fields;
    std::string error;
    const bool any = csv.next(fields, error);
    report.linesRead = csv.linesRead();
    if (!any || !error.empty()) {
        throw StorageError(path + ":1: " + (error.empty() ? "empty file; expected a header row (prompt,response,rating)" : error));
    }
    int prompt = -1, response = -1, rating = -1, logprob = -1;
    std::string ignored;
    std::map<std::string, size_t> seen;
    for (size_t i = 0; i < fields.size(); ++i) {
        const std::string h = trimmed(fields[i]);
        const int col = static_cast<int>(i);
        if (!h.empty()) {
            const auto [it, fresh] = seen.emplace(h, i);
            if (!fresh) {
                throw StorageError(path + ":1: the header names the column '" + h + "' twice (columns " +
                                   std::to_string(it->second + 1) + " and " + std::to_string(i + 1) +
                                   "): which one to read is unclear");
            }
        }
        if (h == "prompt") prompt = col;
        else if (h == "response") response = col;
        else if (h == "rating") rating = col;
        else if (h == "sampling_logprob") logprob = col;
        else ignored += (ignored.empty() ? "" : ", ") + h;
    }
    if (prompt < 0 || response < 0 || rating < 0) {
        throw StorageError(path + ":1: the header must name the columns prompt, response and rating (and optionally "
                                  "sampling_logprob)");
    }
    const std::string format = std::string("ratings CSV (prompt, response, rating") +
                               (logprob >= 0 ? ", sampling_logprob" : "") +
                               (ignored.empty() ? "" : "; columns read past: " + ignored) + ")";
    const size_t columns = fields.size();
    for (;;) {
        const bool more = csv.next(fields, error);
        report.linesRead = csv.linesRead();
        if (!more) break;
        const int64_t first = csv.recordLine();
        if (error.empty() && fields.size() == 1 && fields[0].find_first_not_of(" \t") == std::string::npos) continue;
        auto bad = [&](const std::string& why) { report.errors.push_back({first, why}); };
        if (!error.empty()) {
            bad(error);
            continue;
        }
        if (fields.size() > columns) {
            bad("the row has " + std::to_string(fields.size()) + " fields but the header names " + std::to_string(columns) +
                " columns (a text with a comma must be quoted)");
            continue;
        }
        // The optional sampling_logprob may be left off the end of a row.
        const int need = std::max({prompt, response, rating});
        if (static_cast<int>(fields.size()) <= need) {
            bad("the row has " + std::to_string(fields.size()) + " fields; prompt, response and rating need " +
                std::to_string(need + 1));
            continue;
        }
        if (logprob >= static_cast<int>(fields.size())) fields.resize(static_cast<size_t>(logprob) + 1);
        if (invalidUtf8Offset(fields[prompt]) >= 0 || invalidUtf8Offset(fields[response]) >= 0) {
            bad("not valid UTF-8");
            continue;
        }
        RatingCsvRow row;
        row.line = first;
        row.prompt = fromSpreadsheetCell(fields[prompt]);
        row.response.text = fromSpreadsheetCell(fields[response]);
        if (row.response.text.empty()) {
            bad("the response is empty");
            continue;
        }
        if (!parseNumber(fields[rating], row.rating)) {
            bad("rating '" + fields[rating].substr(0, 40) + "' is not a finite number");
            continue;
        }
        if (!range.contains(row.rating)) {
            bad("rating " + shortest(row.rating) + " is outside " + range.describe() +
                " (--rating-range LO-HI accepts another scale)");
            continue;
        }
        if (logprob >= 0 && !trimmed(fields[logprob]).empty()) {
            double lp = 0;
            if (!parseNumber(fields[logprob], lp) || lp > 0) {
                bad("sampling_logprob '" + fields[logprob].substr(0, 40) + "' is not a log-probability (a number <= 0)");
                continue;
            }
            row.response.samplingLogprob = lp;
        }
        report.countFormat(format);
        use(row);
    }
    if (in.bad()) throw StorageError(path + ": read error after line " + std::to_string(report.linesRead));
}

}  // namespace preflab
