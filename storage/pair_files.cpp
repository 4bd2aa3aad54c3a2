#include "storage/pair_files.h"

#include "storage/metric_store.h"
#include "storage/preference_store.h"

#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <sstream>
#include <unordered_map>

namespace preflab {
namespace {

int64_t nowMillis() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// The byte offset of the first byte that is not valid UTF-8 (RFC 3629: no
// overlong forms, no surrogates, nothing above U+10FFFF), or -1. Written by
// hand because Qt's public API can tell that a text is invalid UTF-8 but not
// where, and a person fixing a file needs the place.
int64_t invalidUtf8Offset(const std::string& s) {
    const auto* b = reinterpret_cast<const unsigned char*>(s.data());
    const size_t n = s.size();
    for (size_t i = 0; i < n;) {
        const unsigned char c = b[i];
        if (c < 0x80) {
            ++i;
            continue;
        }
        size_t len = 0;
        unsigned char lo = 0x80, hi = 0xBF;  // the allowed range of the second byte
        if (c >= 0xC2 && c <= 0xDF) len = 2;
        else if (c == 0xE0) len = 3, lo = 0xA0;
        else if (c == 0xED) len = 3, hi = 0x9F;
        else if (c >= 0xE1 && c <= 0xEF) len = 3;
        else if (c == 0xF0) len = 4, lo = 0x90;
        else if (c == 0xF4) len = 4, hi = 0x8F;
        else if (c >= 0xF1 && c <= 0xF3) len = 4;
        else return static_cast<int64_t>(i);
        if (i + len > n || b[i + 1] < lo || b[i + 1] > hi) return static_cast<int64_t>(i);
        for (size_t k = 2; k < len; ++k) {
            if (b[i + k] < 0x80 || b[i + k] > 0xBF) return static_cast<int64_t>(i);
        }
        i += len;
    }
    return -1;
}

// HH-RLHF's turn marker: the prompt runs to the end of the last one.
constexpr const char* kAssistantTurn = "\n\nAssistant:";

// An implicit-prompt row: splits the two dialogues at chosen's final
// "\n\nAssistant:" turn, which rejected must share.
std::string splitImplicitPrompt(const std::string& chosen, const std::string& rejected, PairRow& pair) {
    const size_t turn = chosen.rfind(kAssistantTurn);
    if (turn == std::string::npos) {
        return "no \"prompt\", and \"chosen\" has no \"\\n\\nAssistant:\" turn to take the prompt from "
               "(TRL's implicit-prompt format, as HH-RLHF)";
    }
    const size_t end = turn + std::char_traits<char>::length(kAssistantTurn);
    if (rejected.compare(0, end, chosen, 0, end) != 0) {
        return "chosen and rejected do not share the dialogue up to chosen's final \"\\n\\nAssistant:\" turn, "
               "so there is no common prompt";
    }
    pair.prompt = chosen.substr(0, end);
    pair.a.text = chosen.substr(end);
    pair.b.text = rejected.substr(end);
    return {};
}

// One good line: the pair (a is the chosen response, except in label files,
// where a and b are as given), its format, and a label file's label.
struct ParsedLine {
    PairRow pair;
    const char* format = kTrlStandard;
    std::string label = "a";
    std::string annotator;
};

std::string parseLabelRow(const QJsonObject& o, ParsedLine& out) {
    for (const char* key : {"prompt", "response_a", "response_b", "annotator", "label"}) {
        if (!o.contains(key)) return std::string("missing \"") + key + "\" (an annotator label row has prompt, response_a, response_b, annotator and label)";
        if (!o[key].isString()) return std::string("\"") + key + "\" must be a string";
    }
    out.format = kAnnotatorLabels;
    out.pair.prompt = o["prompt"].toString().toStdString();
    out.pair.a.text = o["response_a"].toString().toStdString();
    out.pair.b.text = o["response_b"].toString().toStdString();
    out.annotator = o["annotator"].toString().toStdString();
    out.label = o["label"].toString().toStdString();
    if (out.annotator.empty()) return "\"annotator\" must not be empty: agreement is counted per annotator";
    if (out.label != "a" && out.label != "b" && out.label != "tie" && out.label != "both_bad" && out.label != "skip") {
        return "\"label\" is '" + out.label + "'; expected a, b, tie, both_bad or skip";
    }
    if (out.pair.a.text.empty() || out.pair.b.text.empty()) return "response_a and response_b must not be empty";
    return {};
}

// Validates one line; returns the error message, empty when the pair is good.
std::string parseLine(const std::string& line, ParsedLine& parsed) {
    PairRow& pair = parsed.pair;
    const char*& format = parsed.format;
    if (const int64_t at = invalidUtf8Offset(line); at >= 0) {
        return "not valid UTF-8 (byte " + std::to_string(at + 1) + " of the line)";
    }
    QJsonParseError err;
    const QJsonDocument doc = QJsonDocument::fromJson(QByteArray::fromStdString(line), &err);
    if (doc.isNull()) return "not valid JSON (" + err.errorString().toStdString() + " at column " + std::to_string(err.offset + 1) + ")";
    if (!doc.isObject()) return "expected a JSON object with prompt, chosen and rejected";
    const QJsonObject o = doc.object();
    if (o.contains("response_a") || o.contains("label")) return parseLabelRow(o, parsed);
    const bool implicit = !o.contains("prompt");
    for (const char* key : {"prompt", "chosen", "rejected"}) {
        if (implicit && std::string(key) == "prompt") continue;
        if (!o.contains(key)) return std::string("missing \"") + key + "\"";
        if (o[key].isArray()) return std::string("\"") + key + "\" is a conversation (list of messages); only string formats are supported";
        if (!o[key].isString()) return std::string("\"") + key + "\" must be a string";
    }
    if (implicit) {
        format = kTrlImplicitPrompt;
        const std::string err =
            splitImplicitPrompt(o["chosen"].toString().toStdString(), o["rejected"].toString().toStdString(), pair);
        if (!err.empty()) return err;
    } else {
        format = kTrlStandard;
        pair.prompt = o["prompt"].toString().toStdString();
        pair.a.text = o["chosen"].toString().toStdString();
        pair.b.text = o["rejected"].toString().toStdString();
    }
    if (pair.a.text.empty() || pair.b.text.empty()) return "chosen and rejected must not be empty";
    if (pair.a.text == pair.b.text) return "chosen and rejected are identical: there is nothing to learn from the pair";
    return {};
}

// Writes through `body` into path.partial, then renames it into place, so the
// file appears complete or not at all. Returns what body returns.
int64_t writeAtomically(const std::string& path, const std::function<int64_t(std::ofstream&)>& body) {
    const std::string tmp = path + ".partial";
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw StorageError(path + ": cannot open the file for writing");
    const int64_t count = body(out);
    out.flush();
    const bool ok = static_cast<bool>(out);
    out.close();
    if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
        std::remove(tmp.c_str());
        throw StorageError(path + (ok ? ": cannot move the file into place" : ": write failed (disk full?)"));
    }
    return count;
}

std::string csvField(const std::string& s) {
    if (s.find_first_of(",\"\n") == std::string::npos) return s;
    std::string out = "\"";
    for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
}

}  // namespace

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

namespace {

// Streams the file's lines through parseLine; `use` gets each good line.
void scanLines(const std::string& path, ImportReport& report, const std::function<void(ParsedLine&)>& use) {
    report.file = path;
    std::ifstream in(path, std::ios::binary);
    if (!in) throw StorageError(path + ": cannot open the file for reading");
    std::string line;
    while (std::getline(in, line)) {
        ++report.linesRead;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.find_first_not_of(" \t") == std::string::npos) continue;  // blank lines are allowed
        ParsedLine parsed;
        const std::string err = parseLine(line, parsed);
        if (!err.empty()) {
            report.errors.push_back({report.linesRead, err});
            continue;
        }
        const char* format = parsed.format;
        auto seen = std::find_if(report.formats.begin(), report.formats.end(), [&](const auto& f) { return f.first == format; });
        if (seen == report.formats.end()) report.formats.emplace_back(format, 1);
        else ++seen->second;
        use(parsed);
    }
    if (in.bad()) throw StorageError(path + ": read error after line " + std::to_string(report.linesRead));
}

}  // namespace

ImportReport readPairsJsonl(const std::string& path, std::vector<PairRow>& pairs) {
    ImportReport report;
    // A label file's pair is one preference, by the majority of its
    // annotators' A/B labels (ties, both-bad and skips do not vote); a pair
    // without a majority is left out.
    struct Votes {
        PairRow pair;
        int a = 0, b = 0;
    };
    std::vector<Votes> voted;
    std::unordered_map<std::string, size_t> index;
    scanLines(path, report, [&](ParsedLine& p) {
        if (p.format != kAnnotatorLabels) {
            pairs.push_back(std::move(p.pair));
            return;
        }
        const std::string key = p.pair.prompt + '\x1f' + p.pair.a.text + '\x1f' + p.pair.b.text;
        auto it = index.find(key);
        if (it == index.end()) {
            it = index.emplace(key, voted.size()).first;
            voted.push_back({p.pair, 0, 0});
        }
        voted[it->second].a += p.label == "a";
        voted[it->second].b += p.label == "b";
    });
    for (Votes& v : voted) {
        if (v.a == v.b) continue;
        if (v.b > v.a) std::swap(v.pair.a, v.pair.b);
        pairs.push_back(std::move(v.pair));
    }
    return report;
}

ImportReport importPairsJsonl(Database& db, const std::string& path, bool skipBadLines, const std::string& annotator,
                              const std::function<void(const PairRow&)>& onPair) {
    ImportReport report;
    PreferenceStore store(db);
    // One transaction of many pages: a 64 MB page cache (the default is 2 MB)
    // keeps SQLite from reading back and rewriting the pages it just wrote
    // (measured: about a third of the import's time went to pread/pwrite).
    db.connection().exec("PRAGMA cache_size = -65536");
    Transaction tx(db.connection());
    const int64_t now = nowMillis();
    // A label file's rows of one pair (the same three texts) merge into one
    // pair: its id by a 64-bit hash of the texts (kept, not the texts, so
    // memory stays small for large files).
    std::unordered_map<uint64_t, int64_t> labelled;
    scanLines(path, report, [&](ParsedLine& line) {
        if (!report.errors.empty() && !skipBadLines) return;  // keep validating, store nothing
        PairRow& pair = line.pair;
        pair.source = "import";
        pair.createdMs = now;
        int64_t id = 0;
        if (line.format == kAnnotatorLabels) {
            const uint64_t key = std::hash<std::string>{}(pair.prompt + '\x1f' + pair.a.text + '\x1f' + pair.b.text);
            const auto it = labelled.find(key);
            if (it != labelled.end()) {
                id = it->second;
            } else {
                id = store.insertPair(pair);
                labelled.emplace(key, id);
                ++report.pairsStored;
                if (onPair) onPair(pair);
            }
            store.insertLabel({id, std::nullopt, std::nullopt, line.label, "import", line.annotator, now});
        } else {
            id = store.insertPair(pair);
            store.insertLabel({id, std::nullopt, std::nullopt, "a", "import", annotator, now});
            ++report.pairsStored;
            if (onPair) onPair(pair);
        }
        ++report.labelsStored;
    });
    if (!report.errors.empty() && !skipBadLines) {
        report.pairsStored = report.labelsStored = 0;
        return report;  // the transaction rolls back
    }
    tx.commit();
    report.stored = true;
    return report;
}

int64_t exportPairsJsonl(Database& db, const std::string& path, std::optional<int64_t> runId) {
    return writeAtomically(path, [&](std::ofstream& out) {
        int64_t count = 0;
        PreferenceStore(db).forEachPreference(runId, [&](const LabeledPair& p) {
            const bool aWins = p.choice == "a";
            QJsonObject o;
            o["prompt"] = QString::fromStdString(p.prompt);
            o["chosen"] = QString::fromStdString(aWins ? p.responseA : p.responseB);
            o["rejected"] = QString::fromStdString(aWins ? p.responseB : p.responseA);
            out << QJsonDocument(o).toJson(QJsonDocument::Compact).toStdString() << '\n';
            ++count;
        });
        return count;
    });
}

int64_t exportMetricsCsv(Database& db, const std::string& path, int64_t runId) {
    return writeAtomically(path, [&](std::ofstream& out) {
        out.precision(10);
        out << "run_id,step,name,value,time_ms\n";
        int64_t count = 0;
        for (const MetricRow& r : MetricStore(db).forRun(runId)) {
            out << r.runId << ',' << r.step << ',' << csvField(r.name) << ',' << r.value << ',' << r.createdMs << '\n';
            ++count;
        }
        return count;
    });
}

}  // namespace preflab
