#include "core/compare/comparison_files.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <cmath>
#include <map>
#include <stdexcept>
#include <tuple>

namespace preflab {

std::vector<std::string> splitCsvLine(const std::string& line) {
    std::vector<std::string> fields(1);
    bool quoted = false;
    for (size_t i = 0; i < line.size(); ++i) {
        const char c = line[i];
        if (quoted) {
            if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
                fields.back() += '"';
                ++i;
            } else if (c == '"') {
                quoted = false;
            } else {
                fields.back() += c;
            }
        } else if (c == '"') {
            quoted = true;
        } else if (c == ',') {
            fields.emplace_back();
        } else if (c != '\r') {
            fields.back() += c;
        }
    }
    return fields;
}

namespace {

double number(const std::string& text, const std::string& where, const char* column) {
    try {
        size_t used = 0;
        const double v = std::stod(text, &used);
        if (used == text.size()) return v;
    } catch (const std::exception&) {
    }
    throw std::runtime_error(where + ": " + column + " '" + text + "' is not a number");
}

std::vector<CompareRun> readRuns(const std::string& path) {
    QFile f(QString::fromStdString(path));
    if (!f.open(QIODevice::ReadOnly)) {
        throw std::runtime_error(path + ": cannot open (" + f.errorString().toStdString() +
                                 "); choose the folder preflab-compare wrote (--out)");
    }
    const std::string header = f.readLine().trimmed().toStdString();
    if (header.rfind("method,knob,seed,step,kl_exact,gold", 0) != 0) {
        throw std::runtime_error(path + ": line 1 is not preflab-compare's header (method,knob,seed,step,kl_exact,gold,...)");
    }
    std::vector<CompareRun> runs;
    std::map<std::tuple<std::string, double, int64_t>, size_t> index;
    int64_t lineNo = 1;
    while (!f.atEnd()) {
        ++lineNo;
        const std::string line = f.readLine().trimmed().toStdString();
        if (line.empty()) continue;
        const std::string where = path + " line " + std::to_string(lineNo);
        const std::vector<std::string> v = splitCsvLine(line);
        if (v.size() < 6) throw std::runtime_error(where + ": expected at least 6 fields, found " + std::to_string(v.size()));
        const double knob = number(v[1], where, "knob");
        const auto seed = static_cast<int64_t>(number(v[2], where, "seed"));
        TrajectoryPoint p{static_cast<int64_t>(number(v[3], where, "step")), number(v[4], where, "kl_exact"),
                          number(v[5], where, "gold")};
        if (!std::isfinite(p.kl) || !std::isfinite(p.gold)) throw std::runtime_error(where + ": a KL or gold that is not finite");
        const auto key = std::make_tuple(v[0], knob, seed);
        auto it = index.find(key);
        if (it == index.end()) {
            it = index.emplace(key, runs.size()).first;
            runs.push_back({v[0], knob, seed, {}});
        }
        runs[it->second].trajectory.push_back(p);
    }
    if (runs.empty()) throw std::runtime_error(path + ": no evaluations");
    return runs;
}

std::vector<Claim> readClaims(const std::string& path) {
    QFile f(QString::fromStdString(path));
    if (!f.exists()) return {};
    if (!f.open(QIODevice::ReadOnly)) throw std::runtime_error(path + ": cannot open (" + f.errorString().toStdString() + ")");
    QJsonParseError error{};
    const QJsonDocument doc = QJsonDocument::fromJson(f.readAll(), &error);
    if (error.error != QJsonParseError::NoError || !doc.isArray()) {
        throw std::runtime_error(path + ": not a JSON list of claims" +
                                 (error.error != QJsonParseError::NoError ? " (" + error.errorString().toStdString() + ")" : ""));
    }
    std::vector<Claim> claims;
    for (const QJsonValue& v : doc.array()) {
        const QJsonObject o = v.toObject();
        Claim c;
        c.claim = o.value("claim").toString().toStdString();
        c.source = o.value("source").toString().toStdString();
        c.reproduced = o.value("reproduced").toBool();
        c.judged = o.value("judged").toBool(true);
        c.evidence = o.value("evidence").toString().toStdString();
        c.verdict = o.value("verdict").toString().toStdString();
        if (c.verdict.empty()) {  // written before verdicts were: from the other fields
            c.verdict = !c.judged ? "not judged"
                        : c.reproduced ? "reproduced"
                        : c.evidence.find("refuted") != std::string::npos ? "refuted"
                                                                         : "inconclusive";
        }
        if (c.claim.empty()) throw std::runtime_error(path + ": a claim without its \"claim\" text");
        claims.push_back(std::move(c));
    }
    return claims;
}

}  // namespace

ComparisonResults readComparisonFolder(const std::string& folder) {
    ComparisonResults r;
    r.folder = folder;
    r.runs = readRuns(folder + "/compare.csv");
    r.claims = readClaims(folder + "/orderings.json");
    return r;
}

}  // namespace preflab
