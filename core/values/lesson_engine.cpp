#include "core/values/lesson_engine.h"

#include "core/values/metric_names.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace preflab {

std::string lessonNumber(double v) {
    if (!std::isfinite(v)) return "n/a";
    char buf[64];
    const double a = std::fabs(v);
    std::snprintf(buf, sizeof buf, a != 0 && a < 0.1 ? "%.3f" : a >= 1000 ? "%.0f" : "%.2f", v);
    return buf;
}

namespace {

const LessonSeries kEmpty;
const std::map<std::string, int64_t> kNoWarnings;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// A value of a series with the step it was read at (NaN value: no data).
struct Reading {
    double value = kNaN;
    int64_t step = -1;
    std::string why;  // when there is no value: why
    bool ok() const { return std::isfinite(value); }
};

bool isStepStat(LessonStat s) {
    return s == LessonStat::StepOfMax || s == LessonStat::StepOfMin || s == LessonStat::FirstStepAbove ||
           s == LessonStat::FirstStepBelow || s == LessonStat::Warning;
}

std::string describe(const LessonValue& v) {
    std::string d = v.run + " ";
    switch (v.stat) {
    case LessonStat::Warning: return d + "warning " + v.warning + " (step)";
    case LessonStat::AtStep: d += v.metric + " at step " + std::to_string(v.step); break;
    case LessonStat::Mean:
        d += v.metric + " mean over steps " + std::to_string(v.from) + "-" + std::to_string(v.to);
        break;
    case LessonStat::AtKl: d += v.metric + " at exact KL " + lessonNumber(v.threshold); break;
    case LessonStat::FirstStepAbove: d += "first step " + v.metric + " > " + lessonNumber(v.threshold); break;
    case LessonStat::FirstStepBelow: d += "first step " + v.metric + " < " + lessonNumber(v.threshold); break;
    default: d += v.metric + " " + lessonStatName(v.stat);
    }
    return d;
}

std::string show(const Reading& r, LessonStat stat) {
    if (!r.ok()) return r.why;
    if (isStepStat(stat)) return "step " + std::to_string(static_cast<int64_t>(r.value));
    std::string s = lessonNumber(r.value);
    if (r.step >= 0) s += " (step " + std::to_string(r.step) + ")";
    return s;
}

}  // namespace

LessonEngine::LessonEngine(Lesson lesson) : m_lesson(std::move(lesson)) {}

const LessonSeries& LessonEngine::series(const std::string& run, const std::string& metric) const {
    const auto r = m_runs.find(run);
    if (r == m_runs.end()) return kEmpty;
    const auto s = r->second.series.find(metric);
    return s == r->second.series.end() ? kEmpty : s->second;
}

const std::map<std::string, int64_t>& LessonEngine::warnings(const std::string& run) const {
    const auto r = m_runs.find(run);
    return r == m_runs.end() ? kNoWarnings : r->second.warnings;
}

namespace {

// Reads one value of a run's series (no `minus`).
Reading readSeries(const LessonEngine& e, const LessonValue& v) {
    Reading r;
    if (v.stat == LessonStat::Warning) {
        const auto& w = e.warnings(v.run);
        const auto it = w.find(v.warning);
        if (it == w.end()) {
            r.why = "no " + v.warning + " warning";
            return r;
        }
        r.value = static_cast<double>(it->second);
        return r;
    }
    const LessonSeries& s = e.series(v.run, v.metric);
    if (s.empty()) {
        r.why = "no " + v.metric + " values in run " + v.run;
        return r;
    }
    auto at = [&](size_t i) {
        r.value = s[i].second;
        r.step = s[i].first;
    };
    switch (v.stat) {
    case LessonStat::First: at(0); break;
    case LessonStat::Last:
    case LessonStat::Now: at(s.size() - 1); break;
    case LessonStat::Max:
    case LessonStat::StepOfMax:
    case LessonStat::Min:
    case LessonStat::StepOfMin: {
        const bool max = v.stat == LessonStat::Max || v.stat == LessonStat::StepOfMax;
        size_t best = 0;
        for (size_t i = 1; i < s.size(); ++i) {
            if (max ? s[i].second > s[best].second : s[i].second < s[best].second) best = i;
        }
        at(best);
        if (v.stat == LessonStat::StepOfMax || v.stat == LessonStat::StepOfMin) r.value = static_cast<double>(r.step);
        break;
    }
    case LessonStat::AtStep: {
        std::optional<size_t> found;
        for (size_t i = 0; i < s.size() && s[i].first <= v.step; ++i) found = i;
        if (!found)
            r.why = "no " + v.metric + " value at or before step " + std::to_string(v.step);
        else if (s.back().first < v.step)
            r.why = "run " + v.run + " has not reached step " + std::to_string(v.step);
        else
            at(*found);
        break;
    }
    case LessonStat::Mean: {
        double sum = 0;
        int n = 0;
        for (const auto& [step, value] : s) {
            if (step >= v.from && step <= v.to) sum += value, ++n;
        }
        if (n == 0 || s.back().first < v.to)
            r.why = "run " + v.run + " has no " + v.metric + " over steps " + std::to_string(v.from) + "-" +
                    std::to_string(v.to) + " yet";
        else
            r.value = sum / n;
        break;
    }
    case LessonStat::AtKl: {
        const LessonSeries& kl = e.series(v.run, metricKey(Metric::KlExact));
        std::map<int64_t, double> byStep(s.begin(), s.end());
        double prevKl = kNaN, prevV = kNaN;
        for (const auto& [step, k] : kl) {
            const auto it = byStep.find(step);
            if (it == byStep.end()) continue;
            if (k >= v.threshold) {
                if (std::isfinite(prevKl) && k > prevKl) {
                    const double t = (v.threshold - prevKl) / (k - prevKl);
                    r.value = prevV + t * (it->second - prevV);
                } else {
                    r.value = it->second;
                }
                r.step = step;
                return r;
            }
            prevKl = k;
            prevV = it->second;
        }
        r.why = "run " + v.run + " never reached exact KL " + lessonNumber(v.threshold) +
                (std::isfinite(prevKl) ? " (last " + lessonNumber(prevKl) + ")" : "");
        break;
    }
    case LessonStat::FirstStepAbove:
    case LessonStat::FirstStepBelow: {
        const bool above = v.stat == LessonStat::FirstStepAbove;
        for (const auto& [step, value] : s) {
            if (above ? value > v.threshold : value < v.threshold) {
                r.value = static_cast<double>(step);
                return r;
            }
        }
        double extreme = s.front().second;
        for (const auto& p : s) extreme = above ? std::max(extreme, p.second) : std::min(extreme, p.second);
        r.why = v.metric + " never went " + (above ? "above " : "below ") + lessonNumber(v.threshold) + " (" +
                (above ? "max " : "min ") + lessonNumber(extreme) + ")";
        break;
    }
    case LessonStat::Warning: break;
    }
    return r;
}

Reading read(const LessonEngine& e, const LessonValue& v, std::string& shown) {
    Reading r = readSeries(e, v);
    shown = describe(v) + " = " + show(r, v.stat);
    for (const LessonValue& m : v.minus) {
        std::string sub;
        const Reading o = read(e, m, sub);
        shown = "[" + shown + "] - [" + sub + "]";
        if (!r.ok()) break;
        if (!o.ok()) {
            r.value = kNaN;
            r.why = o.why;
            break;
        }
        r.value -= o.value;
        r.step = -1;
        shown += " = " + lessonNumber(r.value);
    }
    return r;
}

const char* opText(LessonOp op) {
    switch (op) {
    case LessonOp::Less: return "<";
    case LessonOp::LessEqual: return "<=";
    case LessonOp::Greater: return ">";
    case LessonOp::GreaterEqual: return ">=";
    case LessonOp::Exists: return "exists";
    case LessonOp::Missing: return "missing";
    }
    return "?";
}

}  // namespace

LessonCheckResult LessonEngine::evaluate(const LessonCheck& check) const {
    LessonCheckResult out;
    out.id = check.id;
    out.claim = check.claim;
    out.held = true;
    std::string evidence;
    for (const LessonComparison& c : check.all) {
        std::string left;
        const Reading l = read(*this, c.left, left);
        bool held = false;
        std::string part;
        if (c.op == LessonOp::Exists || c.op == LessonOp::Missing) {
            held = (c.op == LessonOp::Exists) == l.ok();
            part = left;
        } else {
            std::string right;
            Reading r;
            if (c.right)
                r = read(*this, *c.right, right);
            else
                r.value = c.number, right = lessonNumber(c.number);
            const double by = c.by;
            if (l.ok() && r.ok()) {
                switch (c.op) {
                case LessonOp::Less: held = l.value < r.value - by; break;
                case LessonOp::LessEqual: held = l.value <= r.value - by; break;
                case LessonOp::Greater: held = l.value > r.value + by; break;
                case LessonOp::GreaterEqual: held = l.value >= r.value + by; break;
                default: break;
                }
            }
            const char* sign = c.op == LessonOp::Less || c.op == LessonOp::LessEqual ? " - " : " + ";
            part = left + " " + opText(c.op) + " " + right + (by != 0 ? sign + lessonNumber(by) : std::string());
        }
        part += held ? " (yes)" : " (no)";
        out.held = out.held && held;
        evidence += (evidence.empty() ? "" : "; ") + part;
    }
    out.evidence = evidence;
    return out;
}

std::vector<LessonCheckResult> LessonEngine::checkResults() const {
    std::vector<LessonCheckResult> out;
    for (const LessonCheck& c : m_lesson.checks) out.push_back(evaluate(c));
    return out;
}

std::string LessonEngine::render(const std::string& text, const std::string& run) const {
    std::string out;
    size_t pos = 0;
    for (const LessonPlaceholder& p : lessonPlaceholders(text)) {
        const size_t open = text.find("{" + p.raw + "}", pos);
        out += text.substr(pos, open - pos);
        pos = open + p.raw.size() + 2;
        if (!p.check.empty()) {
            const LessonCheck* c = m_lesson.findCheck(p.check);
            out += c ? evaluate(*c).evidence : "?";
            continue;
        }
        LessonValue v;
        v.run = p.run.empty() ? run : p.run;
        v.metric = p.metric;
        v.stat = p.stat;
        const Reading r = readSeries(*this, v);
        out += !r.ok()              ? "n/a"
               : isStepStat(p.stat) ? std::to_string(static_cast<int64_t>(r.value))
                                    : lessonNumber(r.value);
    }
    return out + text.substr(pos);
}

void LessonEngine::answer(const std::string& cueId, const std::string& choice) {
    m_answers[cueId] = choice;
}

std::vector<LessonEvent> LessonEngine::startRun(const std::string& runId) {
    std::vector<LessonEvent> out;
    if (!m_current.empty() && !m_runs[m_current].ended) {
        std::vector<LessonEvent> ended = endRun();
        out.insert(out.end(), ended.begin(), ended.end());
    }
    m_current = runId;
    m_runs[runId];  // the run exists from here on, with no data yet
    m_asked.clear();
    for (const LessonCue& c : m_lesson.cues) {
        if (c.run == runId && c.when.kind == LessonTriggerKind::Start) fire(c, 0, out);
    }
    return out;
}

std::vector<LessonEvent> LessonEngine::observe(const std::vector<MetricSample>& samples) {
    std::vector<LessonEvent> out;
    if (m_current.empty()) return out;
    // Taken a step at a time, in step order, as they were logged.
    std::vector<MetricSample> sorted = samples;
    std::stable_sort(sorted.begin(), sorted.end(),
                     [](const MetricSample& a, const MetricSample& b) { return a.step < b.step; });
    size_t i = 0;
    while (i < sorted.size()) {
        size_t j = i;
        while (j < sorted.size() && sorted[j].step == sorted[i].step) ++j;
        step(sorted[i].step,
             std::vector<MetricSample>(sorted.begin() + static_cast<long>(i), sorted.begin() + static_cast<long>(j)),
             out);
        i = j;
    }
    return out;
}

void LessonEngine::step(int64_t stepNo, const std::vector<MetricSample>& samples, std::vector<LessonEvent>& out) {
    RunData& run = m_runs[m_current];
    for (const MetricSample& s : samples) {
        if (!std::isfinite(s.value)) continue;
        LessonSeries& series = run.series[s.name];
        // A step logged again (a resumed run) replaces the value.
        if (!series.empty() && series.back().first == s.step)
            series.back().second = s.value;
        else
            series.emplace_back(s.step, s.value);
    }
    for (const RunWarning& w : run.monitor.observe(samples)) run.warnings.emplace(w.kind, w.step);
    run.lastStep = std::max(run.lastStep, stepNo);
    for (const LessonCue& c : m_lesson.cues) {
        if (c.run == m_current && !m_fired.count(c.id) && triggered(c, stepNo)) fire(c, stepNo, out);
    }
}

bool LessonEngine::triggered(const LessonCue& cue, int64_t stepNo) const {
    switch (cue.when.kind) {
    case LessonTriggerKind::Start:
    case LessonTriggerKind::End: return false;
    case LessonTriggerKind::Step: return stepNo >= cue.when.step;
    default: break;
    }
    const LessonSeries& s = series(m_current, cue.when.metric);
    if (s.empty() || s.back().first != stepNo) return false;  // only when the metric was logged now
    const double v = s.back().second;
    if (cue.when.kind == LessonTriggerKind::Above) return v > cue.when.value;
    if (cue.when.kind == LessonTriggerKind::Below) return v < cue.when.value;
    double peak = s.front().second;
    for (const auto& p : s) peak = std::max(peak, p.second);
    return v <= peak - cue.when.value;
}

void LessonEngine::fire(const LessonCue& cue, int64_t stepNo, std::vector<LessonEvent>& out) {
    m_fired.insert(cue.id);
    LessonEvent e;
    e.cue = cue.id;
    e.run = cue.run;
    e.step = stepNo;
    e.plot = cue.plot;
    e.pause = cue.pause;
    if (!cue.check.empty()) {
        const LessonCheckResult r = evaluate(*m_lesson.findCheck(cue.check));
        if (!r.held) {
            e.kind = LessonEvent::Kind::Instead;
            e.text = "The lesson expected here: " + r.claim + ". This run shows otherwise: " + r.evidence + ".";
            out.push_back(e);
            return;
        }
    }
    e.text = render(cue.text, cue.run);
    out.push_back(e);
    if (cue.predict) {
        LessonEvent q = e;
        q.kind = LessonEvent::Kind::Question;
        q.text = cue.predict->question;
        q.choices = cue.predict->choices;
        q.pause = true;
        out.push_back(q);
        m_asked.push_back(cue.id);
    }
}

std::string LessonEngine::missedReason(const LessonCue& cue) const {
    const LessonSeries& s = series(m_current, cue.when.metric);
    const RunData& run = m_runs.at(m_current);
    switch (cue.when.kind) {
    case LessonTriggerKind::Step: return "the run ended at step " + std::to_string(run.lastStep);
    case LessonTriggerKind::Above:
    case LessonTriggerKind::Below:
    case LessonTriggerKind::DropFromPeak: {
        if (s.empty()) return "the run logged no " + cue.when.metric;
        double max = s.front().second, min = max, last = s.back().second;
        for (const auto& p : s) max = std::max(max, p.second), min = std::min(min, p.second);
        const std::string& m = cue.when.metric;
        if (cue.when.kind == LessonTriggerKind::Above)
            return m + " never went above " + lessonNumber(cue.when.value) + " (its highest: " + lessonNumber(max) +
                   ")";
        if (cue.when.kind == LessonTriggerKind::Below)
            return m + " never went below " + lessonNumber(cue.when.value) + " (its lowest: " + lessonNumber(min) + ")";
        return m + " never fell " + lessonNumber(cue.when.value) + " below its peak (peak " + lessonNumber(max) +
               ", last " + lessonNumber(last) + ")";
    }
    default: return "it was not reached";
    }
}

std::vector<LessonEvent> LessonEngine::endRun() {
    std::vector<LessonEvent> out;
    if (m_current.empty() || m_runs[m_current].ended) return out;
    RunData& run = m_runs[m_current];
    const int64_t last = std::max<int64_t>(run.lastStep, 0);
    for (const LessonCue& c : m_lesson.cues) {
        if (c.run != m_current || m_fired.count(c.id)) continue;
        if (c.when.kind == LessonTriggerKind::End) {
            fire(c, last, out);
            continue;
        }
        if (c.when.kind == LessonTriggerKind::Start) continue;
        LessonEvent e;
        e.kind = LessonEvent::Kind::Missed;
        e.cue = c.id;
        e.run = c.run;
        e.step = last;
        e.plot = c.plot;
        e.text = "This run never reached the moment the lesson was waiting for: " + missedReason(c) + ".";
        out.push_back(e);
    }
    for (const std::string& id : m_asked) {
        const auto cue =
            std::find_if(m_lesson.cues.begin(), m_lesson.cues.end(), [&](const LessonCue& c) { return c.id == id; });
        const LessonPrediction& p = *cue->predict;
        const LessonCheckResult r = evaluate(*m_lesson.findCheck(p.check));
        LessonEvent e;
        e.kind = LessonEvent::Kind::Reveal;
        e.cue = id;
        e.run = m_current;
        e.step = last;
        const std::string answer = r.held ? p.ifHeld : p.ifFailed;
        const auto given = m_answers.find(id);
        e.text = "\"" + p.question + "\" In this run: " + answer + " (" + r.evidence + ")." +
                 (given == m_answers.end()  ? std::string()
                  : given->second == answer ? " You predicted it."
                                            : " You predicted " + given->second + ".");
        out.push_back(e);
    }
    m_asked.clear();
    run.ended = true;
    return out;
}

std::vector<LessonEvent> LessonEngine::finish() {
    std::vector<LessonEvent> out = endRun();
    for (const LessonCheckResult& r : checkResults()) {
        if (r.held) continue;
        LessonEvent e;
        e.kind = LessonEvent::Kind::Failed;
        e.run = m_current;
        e.text = "Not in this run: " + r.claim + ". What happened instead: " + r.evidence + ".";
        out.push_back(e);
    }
    LessonEvent c;
    c.kind = LessonEvent::Kind::Closing;
    c.run = m_current;
    c.text = render(m_lesson.closing, m_current);
    out.push_back(c);
    return out;
}

}  // namespace preflab
