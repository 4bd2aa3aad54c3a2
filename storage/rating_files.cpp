#include "storage/rating_files.h"

#include "storage/file_writing.h"
#include "storage/preference_store.h"

#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <vector>

namespace preflab {
namespace {

// One CSV record, which may span lines inside quotes. Written by hand: Qt has
// no CSV reader, and RFC 4180 is a dozen lines. Returns false at the end of
// the file; `error` is set for a quote left open at the end.
bool readCsvRecord(std::istream& in, std::vector<std::string>& fields, int64_t& linesRead, std::string& error) {
    fields.clear();
    std::string line;
    if (!std::getline(in, line)) return false;
    ++linesRead;
    std::string field;
    bool quoted = false;
    for (;;) {
        if (!line.empty() && line.back() == '\r') line.pop_back();  // CRLF files; a quoted line break reads as \n
        for (size_t i = 0; i < line.size(); ++i) {
            const char c = line[i];
            if (quoted) {
                if (c != '"') field += c;
                else if (i + 1 < line.size() && line[i + 1] == '"') field += '"', ++i;
                else quoted = false;
            } else if (c == '"' && field.empty()) {
                quoted = true;
            } else if (c == ',') {
                fields.push_back(std::move(field));
                field.clear();
            } else {
                field += c;
            }
        }
        if (!quoted) break;
        if (!std::getline(in, line)) {
            error = "a quoted field is not closed before the end of the file";
            break;
        }
        ++linesRead;
        field += '\n';
    }
    fields.push_back(std::move(field));
    return true;
}

// The shortest text that reads back as the same double (5, 2.25, 0.1).
std::string shortestText(double v) {
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

}  // namespace

ImportReport importRatingsCsv(Database& db, const std::string& path, bool skipBadRows, const std::string& annotator) {
    ImportReport report;
    report.file = path;
    std::ifstream in(path, std::ios::binary);
    if (!in) throw StorageError(path + ": cannot open the file for reading");
    std::vector<std::string> fields;
    std::string error;
    if (!readCsvRecord(in, fields, report.linesRead, error) || !error.empty()) {
        throw StorageError(path + ": " + (error.empty() ? "empty file; expected a header row (prompt,response,rating)" : error));
    }
    // Excel's "CSV UTF-8" starts with a byte-order mark.
    if (fields[0].rfind("\xEF\xBB\xBF", 0) == 0) fields[0].erase(0, 3);
    int prompt = -1, response = -1, rating = -1, logprob = -1;
    std::string ignored;
    for (size_t i = 0; i < fields.size(); ++i) {
        const std::string h = trimmed(fields[i]);
        const int col = static_cast<int>(i);
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
    PreferenceStore store(db);
    Transaction tx(db.connection());
    const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch()).count();
    for (;;) {
        const int64_t first = report.linesRead + 1;
        error.clear();
        if (!readCsvRecord(in, fields, report.linesRead, error)) break;
        if (fields.size() == 1 && fields[0].find_first_not_of(" \t") == std::string::npos && error.empty()) continue;
        auto bad = [&](const std::string& why) { report.errors.push_back({first, why}); };
        if (!error.empty()) {
            bad(error);
            break;
        }
        // The optional sampling_logprob may be left off the end of a row.
        const int need = std::max({prompt, response, rating});
        if (static_cast<int>(fields.size()) <= need) {
            bad("the row has " + std::to_string(fields.size()) + " fields; prompt, response and rating need " +
                std::to_string(need + 1));
            continue;
        }
        if (logprob >= static_cast<int>(fields.size())) fields.resize(static_cast<size_t>(logprob) + 1);
        const std::string pos = invalidUtf8Offset(fields[prompt]) >= 0 || invalidUtf8Offset(fields[response]) >= 0
                                    ? "not valid UTF-8" : "";
        if (!pos.empty()) {
            bad(pos);
            continue;
        }
        ResponseRow r;
        r.text = fields[response];
        double value = 0;
        if (r.text.empty()) {
            bad("the response is empty");
            continue;
        }
        if (!parseNumber(fields[rating], value)) {
            bad("rating '" + fields[rating] + "' is not a finite number");
            continue;
        }
        if (logprob >= 0 && !trimmed(fields[logprob]).empty()) {
            double lp = 0;
            if (!parseNumber(fields[logprob], lp) || lp > 0) {
                bad("sampling_logprob '" + fields[logprob] + "' is not a log-probability (a number <= 0)");
                continue;
            }
            r.samplingLogprob = lp;
        }
        report.countFormat(format);
        if (!report.errors.empty() && !skipBadRows) continue;  // keep validating, store nothing
        store.insertRatedResponse(fields[prompt], r, value, "import", annotator, now);
        ++report.ratingsStored;
    }
    if (in.bad()) throw StorageError(path + ": read error after line " + std::to_string(report.linesRead));
    if (!report.errors.empty() && !skipBadRows) {
        report.ratingsStored = 0;
        return report;  // the transaction rolls back
    }
    tx.commit();
    report.stored = true;
    return report;
}

int64_t exportRatings(Database& db, const std::string& path, std::optional<int64_t> runId) {
    const bool csv = path.size() >= 4 && path.compare(path.size() - 4, 4, ".csv") == 0;
    return writeFileAtomically(path, [&](std::ofstream& out) {
        if (csv) out << "prompt,response,rating,sampling_logprob\n";
        int64_t count = 0;
        PreferenceStore(db).forEachRatingForExport(runId, [&](const ExportedRating& r) {
            const std::string value = shortestText(r.value);
            const std::string lp = r.samplingLogprob ? shortestText(*r.samplingLogprob) : std::string();
            if (csv) {
                out << csvField(r.prompt) << ',' << csvField(r.response) << ',' << value << ',' << lp << '\n';
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
