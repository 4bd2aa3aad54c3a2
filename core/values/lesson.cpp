#include "core/values/lesson.h"

#include "core/values/metric_names.h"
#include "core/values/run_config.h"
#include "core/values/run_warnings.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>
#include <cmath>
#include <set>

namespace preflab {

const std::vector<LessonStatInfo>& lessonStats() {
    using S = LessonStat;
    static const std::vector<LessonStatInfo> table = {
        {S::First, "first", true},
        {S::Last, "last", true},
        {S::Max, "max", true},
        {S::Min, "min", true},
        {S::StepOfMax, "step_of_max", true},
        {S::StepOfMin, "step_of_min", true},
        {S::AtStep, "at_step", false},
        {S::Mean, "mean", false},
        {S::AtKl, "at_kl", false},
        {S::FirstStepAbove, "first_step_above", false},
        {S::FirstStepBelow, "first_step_below", false},
        {S::Now, "now", true},
        {S::Warning, "warning", false},
    };
    return table;
}

const LessonStatInfo* findLessonStat(const std::string& name) {
    for (const LessonStatInfo& s : lessonStats()) {
        if (name == s.name) return &s;
    }
    return nullptr;
}

const char* lessonStatName(LessonStat s) {
    for (const LessonStatInfo& i : lessonStats()) {
        if (i.id == s) return i.name;
    }
    return "?";
}

const LessonRun* Lesson::findRun(const std::string& runId) const {
    for (const LessonRun& r : runs) {
        if (r.id == runId) return &r;
    }
    return nullptr;
}

const LessonCheck* Lesson::findCheck(const std::string& checkId) const {
    for (const LessonCheck& c : checks) {
        if (c.id == checkId) return &c;
    }
    return nullptr;
}

std::vector<LessonPlaceholder> lessonPlaceholders(const std::string& text) {
    std::vector<LessonPlaceholder> out;
    size_t pos = 0;
    while ((pos = text.find('{', pos)) != std::string::npos) {
        const size_t end = text.find('}', pos);
        if (end == std::string::npos) break;
        LessonPlaceholder p;
        p.raw = text.substr(pos + 1, end - pos - 1);
        std::vector<std::string> parts;
        size_t start = 0;
        for (size_t colon; (colon = p.raw.find(':', start)) != std::string::npos; start = colon + 1) {
            parts.push_back(p.raw.substr(start, colon - start));
        }
        parts.push_back(p.raw.substr(start));
        if (parts.size() == 2 && parts[0] == "check") {
            p.check = parts[1];
        } else if (parts.size() == 1) {
            p.metric = parts[0];
        } else {
            const bool withRun = parts.size() >= 3;
            p.run = withRun ? parts[0] : std::string();
            p.metric = parts[withRun ? 1 : 0];
            const LessonStatInfo* s = findLessonStat(parts.back());
            p.stat = s ? s->id : LessonStat::Warning;  // Warning: not a placeholder stat, refused by the parser
            if (parts.size() > 3) p.stat = LessonStat::Warning;
        }
        out.push_back(p);
        pos = end + 1;
    }
    return out;
}

namespace {

// Reads one JSON object, naming the file and the field's path in every error,
// and refusing keys it was not asked for.
class Reader {
public:
    Reader(const std::string& file, std::string path, QJsonObject o)
        : m_file(file), m_path(std::move(path)), m_o(std::move(o)) {}

    [[noreturn]] void fail(const std::string& field, const std::string& what) const {
        std::string where = m_path.empty() ? field : field.empty() ? m_path : m_path + "." + field;
        throw LessonError(m_file + ": " + (where.empty() ? std::string() : where + ": ") + what);
    }
    std::string fieldPath(const std::string& key) const { return m_path.empty() ? key : m_path + "." + key; }
    bool has(const char* key) const {
        m_seen.insert(key);
        return m_o.contains(QLatin1String(key));
    }
    QJsonValue value(const char* key) const {
        m_seen.insert(key);
        return m_o.value(QLatin1String(key));
    }
    std::string string(const char* key, bool required = true) const {
        const QJsonValue v = value(key);
        if (v.isUndefined()) {
            if (required) fail(key, "missing (a string)");
            return {};
        }
        if (!v.isString()) fail(key, "must be a string");
        if (required && v.toString().trimmed().isEmpty()) fail(key, "is empty");
        return v.toString().toStdString();
    }
    double number(const char* key, std::optional<double> fallback = std::nullopt) const {
        const QJsonValue v = value(key);
        if (v.isUndefined()) {
            if (!fallback) fail(key, "missing (a number)");
            return *fallback;
        }
        if (!v.isDouble() || !std::isfinite(v.toDouble())) fail(key, "must be a number");
        return v.toDouble();
    }
    int64_t integer(const char* key, std::optional<int64_t> fallback = std::nullopt, int64_t low = 0) const {
        const QJsonValue v = value(key);
        if (v.isUndefined()) {
            if (!fallback) fail(key, "missing (a whole number)");
            return *fallback;
        }
        const double d = v.toDouble(std::nan(""));
        if (!v.isDouble() || d != std::floor(d) || std::fabs(d) > 9e15) fail(key, "must be a whole number");
        if (d < static_cast<double>(low)) fail(key, "must be at least " + std::to_string(low));
        return static_cast<int64_t>(d);
    }
    bool boolean(const char* key, bool fallback) const {
        const QJsonValue v = value(key);
        if (v.isUndefined()) return fallback;
        if (!v.isBool()) fail(key, "must be true or false");
        return v.toBool();
    }
    Reader object(const char* key) const {
        const QJsonValue v = value(key);
        if (!v.isObject()) fail(key, v.isUndefined() ? "missing (an object)" : "must be an object");
        return Reader(m_file, fieldPath(key), v.toObject());
    }
    QJsonArray array(const char* key, bool required = true) const {
        const QJsonValue v = value(key);
        if (v.isUndefined() && !required) return {};
        if (!v.isArray()) fail(key, v.isUndefined() ? "missing (an array)" : "must be an array");
        return v.toArray();
    }
    Reader element(const char* key, const QJsonArray& a, int i) const {
        const std::string path = fieldPath(key) + "[" + std::to_string(i) + "]";
        if (!a.at(i).isObject()) throw LessonError(m_file + ": " + path + ": must be an object");
        return Reader(m_file, path, a.at(i).toObject());
    }
    // After reading: a key nobody asked for is a misspelling or a field of another version.
    void done() const {
        for (auto it = m_o.begin(); it != m_o.end(); ++it) {
            if (!m_seen.count(it.key().toStdString())) fail(it.key().toStdString(), "unknown key");
        }
    }
    const QJsonObject& raw() const { return m_o; }
    const std::string& path() const { return m_path; }

private:
    std::string m_file, m_path;
    QJsonObject m_o;
    mutable std::set<std::string> m_seen;
};

void requireMetric(const Reader& r, const char* field, const std::string& key) {
    if (!findMetric(key))
        r.fail(field, "unknown metric key '" + key + "' (metric_names.cpp lists them, e.g. gold/reward, kl/exact)");
}

void requireRun(const Reader& r, const char* field, const Lesson& l, const std::string& run) {
    if (!l.findRun(run)) r.fail(field, "no run '" + run + "' in this lesson's runs");
}

LessonValue readValue(const Reader& r, const Lesson& l) {
    LessonValue v;
    v.run = r.string("run");
    requireRun(r, "run", l, v.run);
    if (r.has("warning")) {
        v.warning = r.string("warning");
        const auto& kinds = runWarningKinds();
        if (std::find(kinds.begin(), kinds.end(), v.warning) == kinds.end()) {
            r.fail("warning",
                   "unknown warning kind '" + v.warning + "' (run_warnings.h: mode_collapse, kl_runaway, ...)");
        }
        v.stat = LessonStat::Warning;
    } else {
        v.metric = r.string("metric");
        requireMetric(r, "metric", v.metric);
        const std::string stat = r.string("stat");
        const LessonStatInfo* s = findLessonStat(stat);
        if (!s || s->id == LessonStat::Warning || s->id == LessonStat::Now) {
            r.fail("stat", "unknown stat '" + stat +
                               "' (first, last, max, min, step_of_max, step_of_min, at_step, mean, at_kl, "
                               "first_step_above, first_step_below)");
        }
        v.stat = s->id;
        if (v.stat == LessonStat::AtStep) v.step = r.integer("step");
        if (v.stat == LessonStat::Mean) {
            v.from = r.integer("from");
            v.to = r.integer("to");
            if (v.to < v.from) r.fail("to", "is before from");
        }
        if (v.stat == LessonStat::AtKl) v.threshold = r.number("kl");
        if (v.stat == LessonStat::FirstStepAbove || v.stat == LessonStat::FirstStepBelow)
            v.threshold = r.number("threshold");
    }
    if (r.has("minus")) v.minus.push_back(readValue(r.object("minus"), l));
    r.done();
    return v;
}

LessonComparison readComparison(const Reader& r, const Lesson& l) {
    LessonComparison c;
    c.left = readValue(r.object("left"), l);
    const std::string op = r.string("op");
    static const std::vector<std::pair<std::string, LessonOp>> ops = {
        {"<", LessonOp::Less},          {"<=", LessonOp::LessEqual},  {">", LessonOp::Greater},
        {">=", LessonOp::GreaterEqual}, {"exists", LessonOp::Exists}, {"missing", LessonOp::Missing}};
    const auto it = std::find_if(ops.begin(), ops.end(), [&](const auto& p) { return p.first == op; });
    if (it == ops.end()) r.fail("op", "unknown op '" + op + "' (<, <=, >, >=, exists, missing)");
    c.op = it->second;
    if (c.op != LessonOp::Exists && c.op != LessonOp::Missing) {
        const QJsonValue right = r.value("right");
        if (right.isDouble())
            c.number = right.toDouble();
        else if (right.isObject())
            c.right = readValue(Reader(l.file, r.fieldPath("right"), right.toObject()), l);
        else
            r.fail("right", right.isUndefined() ? "missing (a number or a value)" : "must be a number or a value");
        c.by = r.number("by", 0.0);
    }
    r.done();
    return c;
}

void checkText(const Reader& r, const char* field, const std::string& text, const Lesson& l,
               const std::string& cueRun) {
    int depth = 0;
    for (char ch : text) {
        depth += ch == '{' ? 1 : ch == '}' ? -1 : 0;
        if (depth < 0 || depth > 1) r.fail(field, "unbalanced braces in the text");
    }
    if (depth != 0) r.fail(field, "unbalanced braces in the text");
    for (const LessonPlaceholder& p : lessonPlaceholders(text)) {
        if (!p.check.empty()) {
            if (!l.findCheck(p.check)) r.fail(field, "{" + p.raw + "}: no check '" + p.check + "'");
            continue;
        }
        if (p.stat == LessonStat::Warning || !findLessonStat(lessonStatName(p.stat))->placeholder) {
            r.fail(field, "{" + p.raw +
                              "}: expected {KEY}, {KEY:STAT} or {RUN:KEY:STAT} with STAT first, last, max, "
                              "min, step_of_max, step_of_min or now");
        }
        if (p.run.empty() && cueRun.empty()) {
            r.fail(field, "{" + p.raw + "}: the closing text must name the run ({RUN:KEY:STAT})");
        }
        if (!p.run.empty() && !l.findRun(p.run)) r.fail(field, "{" + p.raw + "}: no run '" + p.run + "'");
        if (!findMetric(p.metric)) r.fail(field, "{" + p.raw + "}: unknown metric key '" + p.metric + "'");
    }
}

std::string baseName(const std::string& file) {
    return QFileInfo(QString::fromStdString(file)).completeBaseName().toStdString();
}

}  // namespace

Lesson parseLesson(const std::string& json, const std::string& file) {
    QJsonParseError error{};
    const QJsonDocument doc = QJsonDocument::fromJson(QByteArray::fromStdString(json), &error);
    if (error.error != QJsonParseError::NoError) {
        // Line and column of the offset, which is what an editor shows.
        int line = 1, column = 1;
        for (int i = 0; i < error.offset && i < static_cast<int>(json.size()); ++i) {
            if (json[static_cast<size_t>(i)] == '\n')
                ++line, column = 1;
            else
                ++column;
        }
        throw LessonError(file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": not valid JSON (" +
                          error.errorString().toStdString() + ")");
    }
    if (!doc.isObject()) throw LessonError(file + ": a lesson is a JSON object");
    const Reader r(file, "", doc.object());
    Lesson l;
    l.file = file;
    l.id = r.string("id");
    if (l.id != baseName(file)) r.fail("id", "'" + l.id + "' must match the file's name ('" + baseName(file) + "')");
    l.title = r.string("title");
    l.summary = r.string("summary");
    l.needsPerson = r.boolean("needs_person", false);
    l.seed = r.integer("seed", 1, 0);

    const QJsonArray runs = r.array("runs");
    if (runs.isEmpty()) r.fail("runs", "a lesson starts at least one run");
    for (int i = 0; i < runs.size(); ++i) {
        const Reader rr = r.element("runs", runs, i);
        LessonRun run;
        run.id = rr.string("id");
        if (l.findRun(run.id)) rr.fail("id", "run '" + run.id + "' is defined twice");
        run.title = rr.string("title");
        const std::string kind = rr.string("kind", false);
        if (kind == "best_of_n") {
            run.kind = LessonRunKind::BestOfN;
            const Reader b = rr.object("best_of_n");
            run.bestOfN.rewardModelOf = b.string("reward_model_of");
            const LessonRun* source = l.findRun(run.bestOfN.rewardModelOf);
            if (!source || source->prepare.rewardModelPairs <= 0) {
                b.fail("reward_model_of", "'" + run.bestOfN.rewardModelOf +
                                              "' is not an earlier run of this lesson with prepare.reward_model_pairs");
            }
            run.bestOfN.prompts = b.integer("prompts", 32, 1);
            run.bestOfN.samples = b.integer("samples", 64, 2);
            const QJsonArray n = b.array("n");
            for (int j = 0; j < n.size(); ++j) {
                const double d = n.at(j).toDouble(0);
                if (!n.at(j).isDouble() || d != std::floor(d) || d < 1)
                    b.fail("n[" + std::to_string(j) + "]", "must be a whole number >= 1");
                if (d > static_cast<double>(run.bestOfN.samples)) {
                    b.fail("n[" + std::to_string(j) + "]",
                           "is above samples (" + std::to_string(run.bestOfN.samples) +
                               "): best-of-n is computed from that many samples per prompt");
                }
                if (!run.bestOfN.n.empty() && d <= static_cast<double>(run.bestOfN.n.back()))
                    b.fail("n", "must increase");
                run.bestOfN.n.push_back(static_cast<int64_t>(d));
            }
            if (run.bestOfN.n.empty()) b.fail("n", "is empty");
            b.done();
            run.steps = run.bestOfN.n.back();
        } else if (kind.empty() || kind == "training") {
            const QJsonValue settings = rr.value("settings");
            if (!settings.isObject())
                rr.fail("settings",
                        settings.isUndefined() ? "missing (an object of run settings)" : "must be an object");
            run.settingsJson = QJsonDocument(settings.toObject()).toJson(QJsonDocument::Compact).toStdString();
            RunConfig config;
            std::vector<std::string> errors = parseRunConfigJson(run.settingsJson, config);
            if (errors.empty()) errors = validateRunConfig(config);
            if (!errors.empty()) rr.fail("settings", errors.front());
            if (settings.toObject().contains("seed"))
                rr.fail("settings.seed", "the lesson's seed (and --seed) sets it");
            run.steps = config.steps;
            if (rr.has("prepare")) {
                const Reader p = rr.object("prepare");
                run.prepare.rewardModelPairs = p.integer("reward_model_pairs", 0, 0);
                run.prepare.rewardModelSteps = p.integer("reward_model_steps", 300, 1);
                run.prepare.offlinePairs = p.integer("offline_pairs", 0, 0);
                p.done();
            }
        } else {
            rr.fail("kind", "unknown run kind '" + kind + "' (training, best_of_n)");
        }
        rr.done();
        l.runs.push_back(run);
    }

    // Checks before cues: cues and texts name them.
    const QJsonArray checks = r.array("checks");
    for (int i = 0; i < checks.size(); ++i) {
        const Reader cr = r.element("checks", checks, i);
        LessonCheck c;
        c.id = cr.string("id");
        if (l.findCheck(c.id)) cr.fail("id", "check '" + c.id + "' is defined twice");
        c.claim = cr.string("claim");
        const QJsonArray all = cr.array("all");
        if (all.isEmpty()) cr.fail("all", "a check needs at least one comparison");
        for (int j = 0; j < all.size(); ++j) c.all.push_back(readComparison(cr.element("all", all, j), l));
        cr.done();
        l.checks.push_back(c);
    }

    const QJsonArray cues = r.array("cues");
    std::set<std::string> cueIds;
    for (int i = 0; i < cues.size(); ++i) {
        const Reader cr = r.element("cues", cues, i);
        LessonCue c;
        c.id = cr.string("id");
        if (!cueIds.insert(c.id).second) cr.fail("id", "cue '" + c.id + "' is defined twice");
        c.run = cr.string("run");
        requireRun(cr, "run", l, c.run);
        const Reader w = cr.object("when");
        if (w.has("start")) {
            c.when.kind = LessonTriggerKind::Start;
            if (!w.boolean("start", false)) w.fail("start", "must be true");
        } else if (w.has("end")) {
            c.when.kind = LessonTriggerKind::End;
            if (!w.boolean("end", false)) w.fail("end", "must be true");
        } else if (w.has("step")) {
            c.when.kind = LessonTriggerKind::Step;
            c.when.step = w.integer("step");
            if (c.when.step > l.findRun(c.run)->steps) {
                w.fail("step", "is after the run's last step (" + std::to_string(l.findRun(c.run)->steps) + ")");
            }
        } else if (w.has("metric")) {
            c.when.metric = w.string("metric");
            requireMetric(w, "metric", c.when.metric);
            const int given = int(w.has("above")) + int(w.has("below")) + int(w.has("drop_from_peak"));
            if (given != 1) w.fail("", "a metric trigger takes exactly one of above, below, drop_from_peak");
            if (w.has("above")) c.when.kind = LessonTriggerKind::Above, c.when.value = w.number("above");
            if (w.has("below")) c.when.kind = LessonTriggerKind::Below, c.when.value = w.number("below");
            if (w.has("drop_from_peak")) {
                c.when.kind = LessonTriggerKind::DropFromPeak;
                c.when.value = w.number("drop_from_peak");
                if (c.when.value <= 0) w.fail("drop_from_peak", "must be above 0");
            }
        } else {
            w.fail("", "expected start, end, step or metric");
        }
        w.done();
        c.text = cr.string("text");
        checkText(cr, "text", c.text, l, c.run);
        c.plot = cr.string("plot", false);
        if (!c.plot.empty()) requireMetric(cr, "plot", c.plot);
        c.pause = cr.boolean("pause", false);
        c.check = cr.string("check", false);
        if (!c.check.empty() && !l.findCheck(c.check)) cr.fail("check", "no check '" + c.check + "'");
        if (cr.has("predict")) {
            const Reader p = cr.object("predict");
            LessonPrediction q;
            q.question = p.string("question");
            for (const QJsonValue& v : p.array("choices")) {
                if (!v.isString() || v.toString().isEmpty()) p.fail("choices", "must be non-empty strings");
                q.choices.push_back(v.toString().toStdString());
            }
            if (q.choices.size() < 2) p.fail("choices", "a question needs at least two choices");
            q.check = p.string("check");
            if (!l.findCheck(q.check)) p.fail("check", "no check '" + q.check + "'");
            q.ifHeld = p.string("if_held");
            q.ifFailed = p.string("if_failed");
            for (const std::string* a : {&q.ifHeld, &q.ifFailed}) {
                if (std::find(q.choices.begin(), q.choices.end(), *a) == q.choices.end()) {
                    p.fail(a == &q.ifHeld ? "if_held" : "if_failed", "'" + *a + "' is not one of the choices");
                }
            }
            p.done();
            c.predict = q;
        }
        cr.done();
        l.cues.push_back(c);
    }
    if (l.cues.empty()) r.fail("cues", "a lesson needs at least one cue");
    l.closing = r.string("closing");
    checkText(r, "closing", l.closing, l, "");
    r.done();
    return l;
}

RunConfig lessonRunConfig(const Lesson& lesson, const LessonRun& run, int64_t seed) {
    RunConfig config;
    const std::vector<std::string> errors = parseRunConfigJson(run.settingsJson, config);
    if (!errors.empty()) throw LessonError(lesson.file + ": runs." + run.id + ".settings: " + errors.front());
    config.seed = seed;
    config.name = "lesson " + lesson.id + ": " + run.title;
    return config;
}

Lesson readLessonFile(const std::string& path) {
    QFile f(QString::fromStdString(path));
    if (!f.open(QIODevice::ReadOnly)) throw LessonError(path + ": cannot read (" + f.errorString().toStdString() + ")");
    return parseLesson(f.readAll().toStdString(), path);
}

std::vector<Lesson> readLessonFolder(const std::string& dir) {
    const QDir d(QString::fromStdString(dir));
    if (!d.exists()) throw LessonError(dir + ": no such lesson folder");
    std::vector<Lesson> out;
    for (const QString& name : d.entryList({"*.json"}, QDir::Files, QDir::Name)) {
        out.push_back(readLessonFile(d.filePath(name).toStdString()));
    }
    std::sort(out.begin(), out.end(), [](const Lesson& a, const Lesson& b) { return a.id < b.id; });
    return out;
}

}  // namespace preflab
