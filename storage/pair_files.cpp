#include "storage/pair_files.h"

#include "storage/file_writing.h"
#include "storage/metric_store.h"
#include "core/values/person_names.h"
#include "storage/pair_line_parser.h"
#include "storage/preference_store.h"
#include "storage/response_label_store.h"

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

namespace {

// Streams the file's lines through parsePairLine; `use` gets each good line.
// A line over kMaxLineBytes is reported and read past without being held.
void scanLines(const std::string& path, ImportReport& report, const LineChecks& checks,
               const std::function<void(ParsedLine&)>& use) {
    report.file = path;
    std::ifstream in(path, std::ios::binary);
    if (!in) throw StorageError(path + ": cannot open the file for reading");
    skipUtf8Bom(in);
    std::string line;
    bool tooLong = false;
    while (readBoundedLine(in, line, tooLong)) {
        ++report.linesRead;
        if (tooLong) {
            report.errors.push_back({report.linesRead, "the line is longer than the " +
                                                           std::to_string(kMaxLineBytes / (1024 * 1024)) +
                                                           " MiB a line may hold; it was not read"});
            continue;
        }
        if (line.find_first_not_of(" \t") == std::string::npos) continue;  // blank lines are allowed
        ParsedLine parsed;
        const std::string err = parsePairLine(line, parsed, checks);
        if (!err.empty()) {
            report.errors.push_back({report.linesRead, err});
            continue;
        }
        report.countFormat(parsed.format);
        use(parsed);
    }
    if (in.bad()) throw StorageError(path + ": read error after line " + std::to_string(report.linesRead));
}

// A map key that tells a pair's texts apart exactly: each with its length in
// front (a separator could occur inside a text).
std::string exactTextsKey(const PairRow& p) {
    std::string key;
    for (const std::string* t : {&p.prompt, &p.promptMessagesJson, &p.a.text, &p.b.text}) {
        key += std::to_string(t->size()) + ':' + *t;
    }
    return key;
}

}  // namespace

ImportReport readPairsJsonl(const std::string& path, std::vector<PairRow>& pairs) {
    ImportReport report;
    // A label file's pair is one preference, by consensusChoice over each
    // annotator's latest label; only an A or B consensus is a preference.
    struct Votes {
        PairRow pair;
        std::map<std::string, std::string> latest;  // annotator -> label
    };
    std::vector<Votes> voted;
    std::unordered_map<std::string, size_t> index;
    scanLines(path, report, LineChecks{}, [&](ParsedLine& p) {
        if (p.isRating()) {
            report.errors.push_back({report.linesRead, "a rating row (prompt, response, rating), not a pair: rated "
                                                       "responses train cpo, dr-cpo and oo-rlhf after `preflab import`"});
            return;
        }
        if (p.isUnpaired()) {
            report.errors.push_back({report.linesRead, "an unpaired row (prompt, completion, label), not a pair: unpaired "
                                                       "labels train kto with --pairs unpaired after `preflab import`"});
            return;
        }
        if (p.format != kAnnotatorLabels) {
            pairs.push_back(std::move(p.pair));
            return;
        }
        auto it = index.find(exactTextsKey(p.pair));
        std::string label = p.label;
        if (it == index.end()) {
            // The same two responses the other way round are the same pair.
            PairRow swapped = p.pair;
            std::swap(swapped.a, swapped.b);
            it = index.find(exactTextsKey(swapped));
            if (it != index.end()) label = label == "a" ? "b" : label == "b" ? "a" : label;
        }
        if (it == index.end()) {
            it = index.emplace(exactTextsKey(p.pair), voted.size()).first;
            voted.push_back({p.pair, {}});
        }
        voted[it->second].latest[p.annotator] = label;
    });
    for (Votes& v : voted) {
        std::vector<std::string> choices;
        for (const auto& [annotator, label] : v.latest) choices.push_back(label);
        const std::string winner = consensusChoice(choices);
        if (winner != "a" && winner != "b") continue;
        if (winner == "b") std::swap(v.pair.a, v.pair.b);
        pairs.push_back(std::move(v.pair));
    }
    return report;
}

ImportReport importPairsJsonl(Database& db, const std::string& path, const ImportOptions& options,
                              const std::function<void(const PairRow&)>& onPair) {
    ImportReport report;
    report.file = path;
    std::string annotator;
    if (const std::string e = normalizeName(options.annotator, annotator, "annotator", false); !e.empty()) {
        throw StorageError("--annotator: " + e);
    }
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
    // Pairs stored before this import (ids up to `before`): whether the file
    // touched each (bit 1) and added to it (bit 2), for the merged and
    // unchanged counts; one byte per stored pair, not a set of ids.
    const int64_t before = store.maxPairId();
    std::vector<uint8_t> touched;
    auto mark = [&](int64_t id, bool changed) {
        if (id > before) return;  // new in this import: counted when stored
        if (touched.empty()) touched.assign(static_cast<size_t>(before) + 1, 0);
        touched[static_cast<size_t>(id)] |= static_cast<uint8_t>(1 | (changed ? 2 : 0));
    };
    // The label-file pairs this import touched: each gets the people's
    // consensus as its latest unnamed import label afterwards.
    std::vector<int64_t> labelFilePairs;
    auto flip = [](const std::string& choice) { return choice == "a" ? "b" : choice == "b" ? "a" : choice; };
    scanLines(path, report, options.checks, [&](ParsedLine& line) {
        if (!report.errors.empty() && !options.skipBadLines) return;  // keep validating, store nothing
        PairRow& pair = line.pair;
        if (line.isUnpaired()) {
            const bool added = ResponseLabelStore(db).insertIfChanged(
                pair.prompt, pair.a, *line.desirable, "import", line.annotator.empty() ? annotator : line.annotator,
                now, line.seconds);
            (added ? report.labelsStored : report.labelsUnchanged) += 1;
            return;
        }
        if (line.isRating()) {
            const PreferenceStore::RatedResponse r =
                store.insertRatedResponseIfChanged(pair.prompt, pair.a, *line.rating, "import", annotator, now);
            if (!r.conflict.empty()) {
                report.errors.push_back({report.linesRead, r.conflict});
                return;
            }
            (r.ratingAdded ? report.ratingsStored : report.ratingsUnchanged) += 1;
            return;
        }
        pair.source = "import";
        pair.createdMs = now;
        const ImportedPair found = store.findOrInsertImportedPair(pair);
        if (found.created) {
            ++report.pairsStored;
            if (onPair) onPair(pair);
        }
        bool changed = false;
        // A new pair holds nothing yet: no lookup before its first label.
        auto addLabel = [&](const LabelRow& label) {
            if (!found.created) return store.insertLabelIfChanged(label);
            store.insertLabel(label);
            return true;
        };
        if (line.format == kAnnotatorLabels) {
            const std::string choice = found.swapped ? flip(line.label) : line.label;
            const std::string shownFirst = found.swapped ? flip(line.shownFirst) : line.shownFirst;
            const bool added = addLabel({found.id, std::nullopt, std::nullopt, choice, "import", line.annotator, now,
                                         line.seconds, shownFirst});
            (added ? report.labelsStored : report.labelsUnchanged) += 1;
            changed |= added;
            labelFilePairs.push_back(found.id);
        } else {
            const bool added = addLabel({found.id, std::nullopt, std::nullopt, found.swapped ? "b" : "a", "import",
                                         annotator, now});
            (added ? report.labelsStored : report.labelsUnchanged) += 1;
            changed |= added;
            // UltraFeedback's scores: ratings of the two responses.
            for (const auto& [side, score] : {std::pair{"a", line.scoreA}, std::pair{"b", line.scoreB}}) {
                if (!score) continue;
                const bool added = store.insertRatingIfChanged(
                    {found.id, std::nullopt, std::nullopt, found.swapped ? flip(side) : side, *score, "import", annotator, now});
                (added ? report.ratingsStored : report.ratingsUnchanged) += 1;
                changed |= added;
            }
        }
        mark(found.id, changed);
    });
    if (!report.errors.empty() && !options.skipBadLines) {
        report.pairsStored = report.pairsMerged = report.pairsUnchanged = 0;
        report.labelsStored = report.labelsUnchanged = report.ratingsStored = report.ratingsUnchanged = 0;
        return report;  // the transaction rolls back
    }
    std::sort(labelFilePairs.begin(), labelFilePairs.end());
    labelFilePairs.erase(std::unique(labelFilePairs.begin(), labelFilePairs.end()), labelFilePairs.end());
    for (const int64_t id : labelFilePairs) {
        // The people's consensus (a tie without one) as the pair's latest
        // label: `latest` then takes what `consensus` takes, not whichever
        // annotator's row came last, and a re-import that changes nothing
        // adds nothing.
        std::string consensus = store.annotatorConsensus(id);
        if (consensus.empty()) consensus = "tie";
        SqlStatement last(db.connection(), "SELECT choice, source, annotator FROM labels WHERE pair_id = ? ORDER BY id DESC LIMIT 1");
        last.bind(1, id);
        if (last.step() && last.text(0) == consensus && last.text(1) == "import" && last.text(2).empty()) continue;
        store.insertLabel({id, std::nullopt, std::nullopt, consensus, "import", "", now});
    }
    for (size_t id = 0; id < touched.size(); ++id) {
        if (touched[id] & 2) ++report.pairsMerged;
        else if (touched[id] & 1) ++report.pairsUnchanged;
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
    return writeFileAtomically(path, [&](std::ostream& out) {
        int64_t count = 0;
        PreferenceStore(db).forEachPreference(runId, [&](const LabeledPair& p) {
            out << (format == PairExportFormat::Conversational ? conversationalRow(p) : standardRow(p)) << '\n';
            ++count;
        }, policy);
        return count;
    });
}

int64_t exportLabelsJsonl(Database& db, const std::string& path, std::optional<int64_t> runId) {
    return writeFileAtomically(path, [&](std::ostream& out) {
        int64_t count = 0;
        PreferenceStore(db).forEachLabelForExport(runId, [&](const ExportedLabel& l) {
            out << "{\"prompt\":" << jsonString(l.prompt) << ",\"response_a\":" << jsonString(l.responseA)
                << ",\"response_b\":" << jsonString(l.responseB) << ",\"annotator\":" << jsonString(l.annotator)
                << ",\"label\":" << jsonString(l.choice);
            // How the person gave it, where stored: read back by import, so
            // the file round-trips and the quality signals survive it.
            if (l.seconds) out << ",\"seconds\":" << shortestNumber(*l.seconds);
            if (!l.shownFirst.empty()) out << ",\"shown_first\":" << jsonString(l.shownFirst);
            out << "}\n";
            ++count;
        });
        return count;
    });
}

int64_t exportUnpairedJsonl(Database& db, const std::string& path) {
    return writeFileAtomically(path, [&](std::ostream& out) {
        int64_t count = 0;
        ResponseLabelStore(db).forEachForExport([&](const ExportedResponseLabel& l) {
            out << "{\"prompt\":" << jsonString(l.prompt) << ",\"completion\":" << jsonString(l.completion)
                << ",\"label\":" << (l.desirable ? "true" : "false");
            if (!l.annotator.empty()) out << ",\"annotator\":" << jsonString(l.annotator);
            if (l.seconds) out << ",\"seconds\":" << shortestNumber(*l.seconds);  // read back by import
            out << "}\n";
            ++count;
        });
        return count;
    });
}

int64_t exportMetricsCsv(Database& db, const std::string& path, int64_t runId) {
    return writeFileAtomically(path, [&](std::ostream& out) {
        out.precision(10);
        out << "run_id,step,name,value,time_ms\n";
        int64_t count = 0;
        for (const MetricRow& r : MetricStore(db).forRun(runId)) {
            out << r.runId << ',' << r.step << ',' << csvField(spreadsheetCell(r.name)) << ',' << r.value << ',' << r.createdMs << '\n';
            ++count;
        }
        return count;
    });
}

}  // namespace preflab
