#include "storage/pair_files.h"

#include "storage/file_writing.h"
#include "storage/metric_store.h"
#include "storage/pair_line_parser.h"
#include "storage/preference_store.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <sstream>
#include <map>
#include <unordered_map>

namespace preflab {
namespace {

int64_t nowMillis() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
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

// Streams the file's lines through parsePairLine; `use` gets each good line.
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
        const std::string err = parsePairLine(line, parsed);
        if (!err.empty()) {
            report.errors.push_back({report.linesRead, err});
            continue;
        }
        report.countFormat(parsed.format);
        use(parsed);
    }
    if (in.bad()) throw StorageError(path + ": read error after line " + std::to_string(report.linesRead));
}

}  // namespace

void ImportReport::countFormat(const std::string& format) {
    auto seen = std::find_if(formats.begin(), formats.end(), [&](const auto& f) { return f.first == format; });
    if (seen == formats.end()) formats.emplace_back(format, 1);
    else ++seen->second;
}

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
        if (p.isRating()) {
            report.errors.push_back({report.linesRead, "a rating row (prompt, response, rating), not a pair: rated "
                                                       "responses train cpo, dr-cpo and oo-rlhf after `preflab import`"});
            return;
        }
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
    // One transaction of many pages: a page cache of 256 MiB (the default is
    // 2 MiB) keeps SQLite from reading back and rewriting the pages it just
    // wrote, above all the prompts' unique index, whose keys arrive in random
    // order. Measured on a 1 GB file (5.3 M pairs): 36,400 pairs/s and a peak
    // of 227 MiB with 64 MiB, 53,000 pairs/s and 445 MiB with 256 MiB; the
    // memory is bounded by the cache, not by the file. Set back afterwards.
    struct CacheForImport {
        Database& db;
        explicit CacheForImport(Database& d) : db(d) {
            if (db.dialect() == SqlDialect::Sqlite) db.connection().exec("PRAGMA cache_size = -262144");
        }
        ~CacheForImport() {
            try {
                if (db.dialect() == SqlDialect::Sqlite) db.connection().exec("PRAGMA cache_size = -2000");
            } catch (...) {  // a destructor: the import's own outcome stands
            }
        }
    } cache(db);
    Transaction tx(db.connection());
    const int64_t now = nowMillis();
    // A label file's rows of one pair (the same three texts) merge into one
    // pair: its id by a 64-bit hash of the texts (kept, not the texts, so
    // memory stays small for large files).
    std::unordered_map<uint64_t, int64_t> labelled;
    // Each label-file pair's A and B votes: after the last row, the pair gets
    // the annotators' majority as an unnamed import label (a tie without one),
    // so training and export read the consensus (as readPairsJsonl does), not
    // whichever annotator's row came last. Agreement ignores it: no annotator.
    std::map<int64_t, std::pair<int, int>> votes;
    scanLines(path, report, [&](ParsedLine& line) {
        if (!report.errors.empty() && !skipBadLines) return;  // keep validating, store nothing
        PairRow& pair = line.pair;
        if (line.isRating()) {
            store.insertRatedResponse(pair.prompt, pair.a, *line.rating, "import", annotator, now);
            ++report.ratingsStored;
            return;
        }
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
            votes[id].first += line.label == "a";
            votes[id].second += line.label == "b";
        } else {
            id = store.insertPair(pair);
            store.insertLabel({id, std::nullopt, std::nullopt, "a", "import", annotator, now});
            ++report.pairsStored;
            if (onPair) onPair(pair);
            // UltraFeedback's scores: ratings of the two responses.
            for (const auto& [side, score] : {std::pair{"a", line.scoreA}, std::pair{"b", line.scoreB}}) {
                if (!score) continue;
                store.insertRating({id, std::nullopt, std::nullopt, side, *score, "import", annotator, now});
                ++report.ratingsStored;
            }
        }
        ++report.labelsStored;
    });
    if (!report.errors.empty() && !skipBadLines) {
        report.pairsStored = report.labelsStored = report.ratingsStored = 0;
        return report;  // the transaction rolls back
    }
    for (const auto& [id, v] : votes) {
        const char* consensus = v.first > v.second ? "a" : v.second > v.first ? "b" : "tie";
        store.insertLabel({id, std::nullopt, std::nullopt, consensus, "import", "", now});
    }
    tx.commit();
    report.stored = true;
    return report;
}

namespace {

std::string messageJson(const char* role, const std::string& content) {
    return std::string("{\"role\":\"") + role + "\",\"content\":" + jsonString(content) + "}";
}

// A preference as a TRL conversational row. A row imported as a conversation
// is written as it was read, with chosen and rejected (and their scores)
// exchanged when the latest label prefers its rejected response.
std::string conversationalRow(const LabeledPair& p) {
    const bool aWins = p.choice == "a";
    if (!p.sourceRow.empty()) {
        if (aWins) return p.sourceRow;
        // Every per-side field changes sides (chosen, score_chosen,
        // chosen_model, chosen-rating, ...), and UltraFeedback's "messages",
        // a copy of the chosen conversation, follows the new chosen one.
        const QJsonObject in = QJsonDocument::fromJson(QByteArray::fromStdString(p.sourceRow)).object();
        QJsonObject out = in;
        for (const QString& key : in.keys()) {
            if (!key.contains(QLatin1String("chosen"))) continue;
            const QString other = QString(key).replace(QLatin1String("chosen"), QLatin1String("rejected"));
            if (!in.contains(other)) continue;
            out[key] = in[other];
            out[other] = in[key];
        }
        if (in.contains(QLatin1String("messages")) && in["messages"] == in["chosen"]) out["messages"] = in["rejected"];
        return QJsonDocument(out).toJson(QJsonDocument::Compact).toStdString();
    }
    // A dialogue split into turns at import (HH-RLHF) keeps its turns.
    std::string prompt = "[" + messageJson("user", p.prompt) + "]";
    if (!p.promptMessagesJson.empty()) {
        prompt.clear();
        for (const QJsonValue& m : QJsonDocument::fromJson(QByteArray::fromStdString(p.promptMessagesJson)).array()) {
            const QJsonObject o = m.toObject();
            prompt += (prompt.empty() ? "[" : ",") +
                      messageJson(o["role"].toString().toUtf8().constData(), o["content"].toString().toStdString());
        }
        prompt += "]";
    }
    return "{\"prompt\":" + prompt + ",\"chosen\":[" +
           messageJson("assistant", aWins ? p.responseA : p.responseB) + "],\"rejected\":[" +
           messageJson("assistant", aWins ? p.responseB : p.responseA) + "]}";
}

std::string standardRow(const LabeledPair& p) {
    const bool aWins = p.choice == "a";
    return "{\"prompt\":" + jsonString(p.prompt) + ",\"chosen\":" + jsonString(aWins ? p.responseA : p.responseB) +
           ",\"rejected\":" + jsonString(aWins ? p.responseB : p.responseA) + "}";
}

}  // namespace

int64_t exportPairsJsonl(Database& db, const std::string& path, std::optional<int64_t> runId, PairExportFormat format,
                         LabelPolicy policy) {
    return writeFileAtomically(path, [&](std::ofstream& out) {
        int64_t count = 0;
        PreferenceStore(db).forEachPreference(runId, [&](const LabeledPair& p) {
            out << (format == PairExportFormat::Conversational ? conversationalRow(p) : standardRow(p)) << '\n';
            ++count;
        }, policy);
        return count;
    });
}

int64_t exportLabelsJsonl(Database& db, const std::string& path, std::optional<int64_t> runId) {
    return writeFileAtomically(path, [&](std::ofstream& out) {
        int64_t count = 0;
        PreferenceStore(db).forEachLabelForExport(runId, [&](const ExportedLabel& l) {
            out << "{\"prompt\":" << jsonString(l.prompt) << ",\"response_a\":" << jsonString(l.responseA)
                << ",\"response_b\":" << jsonString(l.responseB) << ",\"annotator\":" << jsonString(l.annotator)
                << ",\"label\":" << jsonString(l.choice) << "}\n";
            ++count;
        });
        return count;
    });
}

int64_t exportMetricsCsv(Database& db, const std::string& path, int64_t runId) {
    return writeFileAtomically(path, [&](std::ofstream& out) {
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
