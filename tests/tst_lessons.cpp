// Guided lessons without training: the file format's errors (each naming the
// file and the field), cues fired on hand-made metric series at the step the
// series shows it, checks and their evidence against hand-computed values,
// best-of-n against hand-computed expectations and KL, and every shipped
// lesson parsed and played over a recorded run's series.
#include "core/values/best_of_n.h"
#include "core/values/lesson_engine.h"
#include "core/values/lesson_state.h"
#include "core/values/metric_names.h"
#include "support/test_main.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>
#include <cmath>
#include <functional>

using namespace preflab;

namespace {

// A small valid lesson; tests patch one field at a time.
const char* kLesson = R"({
  "id": "demo", "title": "A demo", "summary": "one line",
  "runs": [{"id": "a", "title": "run a", "settings": {"steps": 100, "lr": 1e-4}}],
  "checks": [
    {"id": "gold-peaked", "claim": "gold ends below its peak",
     "all": [{"left": {"run": "a", "metric": "gold/reward", "stat": "last"}, "op": "<",
              "right": {"run": "a", "metric": "gold/reward", "stat": "max"}, "by": 0.1}]}
  ],
  "cues": [
    {"id": "intro", "run": "a", "when": {"start": true}, "text": "Watch gold."},
    {"id": "kl2", "run": "a", "when": {"metric": "kl/exact", "above": 2}, "text": "KL is {kl/exact} at gold {gold/reward}.",
     "plot": "kl/exact", "pause": true},
    {"id": "s50", "run": "a", "when": {"step": 50}, "text": "Half way."},
    {"id": "drop", "run": "a", "when": {"metric": "gold/reward", "drop_from_peak": 0.5}, "text": "Gold fell from {a:gold/reward:max}."},
    {"id": "end", "run": "a", "when": {"end": true}, "text": "Done: {check:gold-peaked}"}
  ],
  "closing": "Gold peaked at {a:gold/reward:max} at step {a:gold/reward:step_of_max}."
})";

QJsonObject lessonObject() {
    return QJsonDocument::fromJson(kLesson).object();
}

std::string dump(const QJsonObject& o) {
    return QJsonDocument(o).toJson().toStdString();
}

// Evaluations every 10 steps: gold rises to 1.0 at step 40, then falls to 0.3;
// KL rises 0.5 per evaluation.
std::vector<MetricSample> evaluation(int64_t step) {
    const double gold = step <= 40 ? step / 40.0 : 1.0 - (static_cast<double>(step) - 40) / 60.0 * 0.7;
    return {{step, metricKey(Metric::GoldReward), gold, 0},
            {step, metricKey(Metric::KlExact), 0.05 * static_cast<double>(step), 0}};
}

std::string kinds(const std::vector<LessonEvent>& events) {
    std::string s;
    for (const LessonEvent& e : events) s += (s.empty() ? "" : ",") + e.cue + "@" + std::to_string(e.step);
    return s;
}

}  // namespace

class TestLessons : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void parsesTheExample() {
        const Lesson l = parseLesson(kLesson, "/x/demo.json");
        QCOMPARE(l.id, std::string("demo"));
        QCOMPARE(l.runs.size(), size_t(1));
        QCOMPARE(l.runs[0].steps, int64_t(100));
        QCOMPARE(l.cues.size(), size_t(5));
        QCOMPARE(l.cues[1].when.kind, LessonTriggerKind::Above);
        QCOMPARE(l.cues[1].when.value, 2.0);
        QVERIFY(l.cues[1].pause);
        QCOMPARE(l.checks[0].all[0].by, 0.1);
        QCOMPARE(l.seed, int64_t(1));
        // The run's settings over the defaults, with the seed the student picked.
        const RunConfig c = lessonRunConfig(l, l.runs[0], 7);
        QCOMPARE(c.steps, int64_t(100));
        QCOMPARE(c.lr, 1e-4);
        QCOMPARE(c.beta, RunConfig{}.beta);
        QCOMPARE(c.seed, int64_t(7));
        QCOMPARE(c.name, std::string("lesson demo: run a"));
    }

    // A saved lesson state (the lesson view's Save) round-trips, and a bad
    // one is refused with the file and the field named.
    void lessonStateRoundTrips() {
        const LessonState s{"over-optimisation", 7, false, "old-kl-10"};
        QCOMPARE(parseLessonState(lessonStateJson(s), "a.preflab-lesson"), s);
        const LessonState fromStart{"dpo-aligns", 1, true, ""};
        QCOMPARE(parseLessonState(lessonStateJson(fromStart), "b.preflab-lesson"), fromStart);
    }

    void lessonStateRefusesBadFiles_data() {
        QTest::addColumn<QString>("json");
        QTest::addColumn<QString>("expected");
        QTest::newRow("not json") << "{\"lesson\": " << "s.preflab-lesson: not JSON";
        QTest::newRow("array") << "[]" << "s.preflab-lesson: expected a JSON object";
        QTest::newRow("no format") << R"({"lesson": "x", "seed": 1})" << "preflab_lesson_state: expected 1";
        QTest::newRow("newer format") << R"({"preflab_lesson_state": 2, "lesson": "x", "seed": 1})"
                                      << "preflab_lesson_state: expected 1";
        QTest::newRow("no lesson") << R"({"preflab_lesson_state": 1, "seed": 1})" << "lesson: expected the lesson's id";
        QTest::newRow("negative seed") << R"({"preflab_lesson_state": 1, "lesson": "x", "seed": -2})"
                                       << "seed: expected a whole number >= 0";
        QTest::newRow("fractional seed") << R"({"preflab_lesson_state": 1, "lesson": "x", "seed": 1.5})"
                                         << "seed: expected a whole number >= 0";
        QTest::newRow("step mode text") << R"({"preflab_lesson_state": 1, "lesson": "x", "seed": 1, "step_mode": "yes"})"
                                        << "step_mode: expected true or false";
        QTest::newRow("unknown key") << R"({"preflab_lesson_state": 1, "lesson": "x", "seed": 1, "cue": "a"})"
                                     << "unknown key 'cue'";
    }
    void lessonStateRefusesBadFiles() {
        QFETCH(QString, json);
        QFETCH(QString, expected);
        try {
            parseLessonState(json.toStdString(), "s.preflab-lesson");
            QFAIL("accepted");
        } catch (const LessonError& e) {
            QVERIFY2(QString::fromUtf8(e.what()).startsWith(QStringLiteral("s.preflab-lesson: ")), e.what());
            QVERIFY2(QString::fromUtf8(e.what()).contains(expected), e.what());
        }
    }

    void refusesBadFiles_data() {
        QTest::addColumn<QString>("path");   // dotted path to set ("" for raw text)
        QTest::addColumn<QString>("value");  // JSON value, or the whole raw text
        QTest::addColumn<QString>("error");  // expected part of the message
        QTest::newRow("not json") << ""
                                  << "{\"id\": "
                                  << "not valid JSON";
        QTest::newRow("id differs from file") << "id"
                                              << "\"other\""
                                              << "demo.json: id: 'other' must match the file's name ('demo')";
        QTest::newRow("title missing") << "title"
                                       << "null"
                                       << "demo.json: title: must be a string";
        QTest::newRow("unknown key") << "colour"
                                     << "\"red\""
                                     << "demo.json: colour: unknown key";
        QTest::newRow("unknown metric in trigger") << "cues.1.when.metric"
                                                   << "\"kl/exactt\""
                                                   << "demo.json: cues[1].when.metric: unknown metric key 'kl/exactt'";
        QTest::newRow("unknown metric in text") << "cues.1.text"
                                                << "\"{kl/wrong}\""
                                                << "demo.json: cues[1].text: {kl/wrong}: unknown metric key 'kl/wrong'";
        QTest::newRow("unknown stat in text") << "cues.1.text"
                                              << "\"{kl/exact:median}\""
                                              << "cues[1].text: {kl/exact:median}: expected";
        QTest::newRow("unknown run in cue") << "cues.0.run"
                                            << "\"b\""
                                            << "demo.json: cues[0].run: no run 'b'";
        QTest::newRow("unknown check") << "cues.2.check"
                                       << "\"nope\""
                                       << "demo.json: cues[2].check: no check 'nope'";
        QTest::newRow("unknown stat") << "checks.0.all.0.left.stat"
                                      << "\"median\""
                                      << "demo.json: checks[0].all[0].left.stat: unknown stat 'median'";
        QTest::newRow("unknown op") << "checks.0.all.0.op"
                                    << "\"!=\""
                                    << "checks[0].all[0].op: unknown op '!='";
        QTest::newRow("bad setting") << "runs.0.settings.beta"
                                     << "-1"
                                     << "demo.json: runs[0].settings: ";
        QTest::newRow("unknown setting") << "runs.0.settings.betta"
                                         << "0.3"
                                         << "demo.json: runs[0].settings: ";
        QTest::newRow("seed in settings") << "runs.0.settings.seed"
                                          << "3"
                                          << "runs[0].settings.seed: the lesson's seed";
        QTest::newRow("step after the end") << "cues.2.when.step"
                                            << "500"
                                            << "cues[2].when.step: is after the run's last step (100)";
        QTest::newRow("two thresholds") << "cues.1.when.below"
                                        << "1"
                                        << "cues[1].when: a metric trigger takes exactly one of";
        QTest::newRow("unknown warning") << "checks.0.all.0.left"
                                         << "{\"run\": \"a\", \"warning\": \"boom\"}"
                                         << "checks[0].all[0].left.warning: unknown warning kind 'boom'";
        QTest::newRow("closing without run") << "closing"
                                             << "\"{gold/reward:max}\""
                                             << "closing: {gold/reward:max}: the closing text must name the run";
        QTest::newRow("unbalanced braces") << "cues.0.text"
                                           << "\"{gold/reward\""
                                           << "cues[0].text: unbalanced braces";
        QTest::newRow("seed not whole") << "seed"
                                        << "1.5"
                                        << "demo.json: seed: must be a whole number";
    }
    void refusesBadFiles() {
        QFETCH(QString, path);
        QFETCH(QString, value);
        QFETCH(QString, error);
        std::string text;
        if (path.isEmpty()) {
            text = value.toStdString();
        } else {
            // Sets the value at a dotted path (array indices as numbers) in the example.
            std::function<QJsonValue(QJsonValue, QStringList)> set = [&](QJsonValue node,
                                                                         QStringList keys) -> QJsonValue {
                const QString key = keys.takeFirst();
                const QJsonValue v = QJsonDocument::fromJson(("{\"v\": " + value + "}").toUtf8()).object().value("v");
                bool isIndex = false;
                const int i = key.toInt(&isIndex);
                if (isIndex) {
                    QJsonArray a = node.toArray();
                    a[i] = keys.isEmpty() ? v : set(a[i], keys);
                    return a;
                }
                QJsonObject o = node.toObject();
                o[key] = keys.isEmpty() ? v : set(o[key], keys);
                return o;
            };
            text = dump(set(lessonObject(), path.split('.')).toObject());
        }
        try {
            parseLesson(text, "/x/demo.json");
            QFAIL("accepted");
        } catch (const LessonError& e) {
            const QString message = QString::fromUtf8(e.what());
            QVERIFY2(message.contains(error), qPrintable(message));
            QVERIFY2(message.startsWith("/x/demo.json"), qPrintable(message));
        }
    }

    void firesCuesWhereTheSeriesShowsIt() {
        LessonEngine e(parseLesson(kLesson, "demo.json"));
        QCOMPARE(kinds(e.startRun("a")), std::string("intro@0"));
        std::vector<LessonEvent> all;
        for (int64_t s = 0; s <= 100; ++s) {
            std::vector<MetricSample> batch{{s, metricKey(Metric::Loss), 0.5, 0}};
            if (s % 10 == 0) {
                const auto ev = evaluation(s);
                batch.insert(batch.end(), ev.begin(), ev.end());
            }
            for (const LessonEvent& ev : e.observe(batch)) all.push_back(ev);
        }
        for (const LessonEvent& ev : e.endRun()) all.push_back(ev);
        // KL 0.05*step first exceeds 2 at step 50 (2.5; 40 gives exactly 2.0,
        // not above); gold 1 - (s-40)/60*0.7 is 0.5 below its peak 1.0 first at
        // step 90 (0.4167; 80 gives 0.533); "end" at the last step.
        QCOMPARE(kinds(all), std::string("kl2@50,s50@50,drop@90,end@100"));
        QCOMPARE(all[0].text, std::string("KL is 2.50 at gold 0.88."));  // gold at 50: 1 - 10/60*0.7 = 0.8833
        QVERIFY(all[0].pause);
        QCOMPARE(all[0].plot, std::string("kl/exact"));
        QCOMPARE(all[2].text, std::string("Gold fell from 1.00."));
        // The end cue quotes the check: last 0.3 (step 100) < max 1.0 (step 40) - 0.1.
        QCOMPARE(all[3].text,
                 std::string(
                     "Done: a gold/reward last = 0.30 (step 100) < a gold/reward max = 1.00 (step 40) - 0.10 (yes)"));
        const std::vector<LessonEvent> fin = e.finish();
        QCOMPARE(fin.size(), size_t(1));
        QCOMPARE(fin[0].text, std::string("Gold peaked at 1.00 at step 40."));
    }

    void batchedSamplesFireAtTheirOwnStep() {
        // The worker batches several steps' metrics into one signal: the cue
        // still fires at the step whose value crossed, not at the batch's end.
        LessonEngine e(parseLesson(kLesson, "demo.json"));
        e.startRun("a");
        std::vector<MetricSample> batch;
        for (int64_t s = 0; s <= 70; s += 10) {
            const auto ev = evaluation(s);
            batch.insert(batch.end(), ev.begin(), ev.end());
        }
        std::reverse(batch.begin(), batch.end());  // order within a batch does not matter
        QCOMPARE(kinds(e.observe(batch)), std::string("kl2@50,s50@50"));
    }

    void missedCuesSayWhatHappened() {
        LessonEngine e(parseLesson(kLesson, "demo.json"));
        e.startRun("a");
        for (int64_t s = 0; s <= 30; s += 10) e.observe(evaluation(s));  // ends at step 30: KL 1.5, gold still rising
        const std::vector<LessonEvent> end = e.endRun();
        QCOMPARE(kinds(end), std::string("kl2@30,s50@30,drop@30,end@30"));
        QCOMPARE(end[0].kind, LessonEvent::Kind::Missed);
        QCOMPARE(end[0].text,
                 std::string("This run never reached the moment the lesson was waiting for: kl/exact never "
                             "went above 2.00 (its highest: 1.50)."));
        QCOMPARE(
            end[1].text,
            std::string("This run never reached the moment the lesson was waiting for: the run ended at step 30."));
        QCOMPARE(end[2].text,
                 std::string("This run never reached the moment the lesson was waiting for: gold/reward never fell "
                             "0.50 below its peak (peak 0.75, last 0.75)."));
        QCOMPARE(end[3].kind, LessonEvent::Kind::Narration);
        // The check fails (gold 0.75 at the end is its peak) and says so with the numbers.
        const LessonCheckResult r = e.evaluate(e.lesson().checks[0]);
        QVERIFY(!r.held);
        QCOMPARE(r.evidence,
                 std::string("a gold/reward last = 0.75 (step 30) < a gold/reward max = 0.75 (step 30) - 0.10 (no)"));
        const std::vector<LessonEvent> fin = e.finish();
        QCOMPARE(fin.front().kind, LessonEvent::Kind::Failed);
        QCOMPARE(fin.front().text,
                 "Not in this run: gold ends below its peak. What happened instead: " + r.evidence + ".");
    }

    void evaluatesChecks_data() {
        QTest::addColumn<QString>("comparison");
        QTest::addColumn<bool>("held");
        QTest::addColumn<QString>("evidence");
        // The series of evaluation(): gold 0, .25, .5, .75, 1 (step 40), then .8833, .7667, .65, .5333, .4167, .3;
        // KL 0.05 * step.
        const QString gold = R"({"run": "a", "metric": "gold/reward", "stat": "%1"%2})";
        QTest::newRow("at_step")
            << QString(R"({"left": %1, "op": ">", "right": 0.6})").arg(gold.arg("at_step", ", \"step\": 75")) << true
            << "a gold/reward at step 75 = 0.65 (step 70) > 0.60 (yes)";
        QTest::newRow("mean")
            << QString(R"({"left": %1, "op": "<", "right": 0.5})").arg(gold.arg("mean", ", \"from\": 80, \"to\": 100"))
            << true << "a gold/reward mean over steps 80-100 = 0.42 < 0.50 (yes)";  // (.5333+.4167+.3)/3
        QTest::newRow("at_kl interpolated")
            << QString(R"({"left": %1, "op": ">=", "right": 0.6})").arg(gold.arg("at_kl", ", \"kl\": 1.25")) << true
            << "a gold/reward at exact KL 1.25 = 0.62 (step 30) >= 0.60 (yes)";  // halfway 20-30: .625
        QTest::newRow("first_step_above") << QString(R"({"left": %1, "op": "<", "right": 25})")
                                                 .arg(gold.arg("first_step_above", ", \"threshold\": 0.4"))
                                          << true << "a first step gold/reward > 0.40 = step 20 < 25.00 (yes)";
        QTest::newRow("never above")
            << QString(R"({"left": %1, "op": "exists"})").arg(gold.arg("first_step_above", ", \"threshold\": 2"))
            << false << "a first step gold/reward > 2.00 = gold/reward never went above 2.00 (max 1.00) (no)";
        QTest::newRow("minus")
            << QString(
                   R"({"left": {"run": "a", "metric": "gold/reward", "stat": "last", "minus": %1}, "op": "<", "right": -0.5})")
                   .arg(gold.arg("max", ""))
            << true
            << "[a gold/reward last = 0.30 (step 100)] - [a gold/reward max = 1.00 (step 40)] = -0.70 < -0.50 (yes)";
        QTest::newRow("step_of_max")
            << QString(R"({"left": %1, "op": "<=", "right": 40})").arg(gold.arg("step_of_max", "")) << true
            << "a gold/reward step_of_max = step 40 <= 40.00 (yes)";
        QTest::newRow("margin fails")
            << QString(R"({"left": %1, "op": ">", "right": 0.2, "by": 0.2})").arg(gold.arg("last", "")) << false
            << "a gold/reward last = 0.30 (step 100) > 0.20 + 0.20 (no)";
        QTest::newRow("missing metric")
            << R"({"left": {"run": "a", "metric": "loss", "stat": "last"}, "op": ">", "right": 0})" << false
            << "a loss last = no loss values in run a > 0.00 (no)";
        QTest::newRow("no warning") << R"({"left": {"run": "a", "warning": "kl_runaway"}, "op": "missing"})" << true
                                    << "a warning kl_runaway (step) = no kl_runaway warning (yes)";
    }
    void evaluatesChecks() {
        QFETCH(QString, comparison);
        QFETCH(bool, held);
        QFETCH(QString, evidence);
        QJsonObject o = lessonObject();
        QJsonObject check{{"id", "c"},
                          {"claim", "claim"},
                          {"all", QJsonArray{QJsonDocument::fromJson(comparison.toUtf8()).object()}}};
        QVERIFY(!check["all"].toArray()[0].toObject().isEmpty());
        QJsonArray checks = o["checks"].toArray();
        checks.append(check);
        o["checks"] = checks;
        LessonEngine e(parseLesson(dump(o), "demo.json"));
        e.startRun("a");
        for (int64_t s = 0; s <= 100; s += 10) e.observe(evaluation(s));
        const LessonCheckResult r = e.evaluate(*e.lesson().findCheck("c"));
        QCOMPARE(QString::fromStdString(r.evidence), evidence);
        QCOMPARE(r.held, held);
    }

    void warningsAreReplayed() {
        // KL above 10 raises kl_runaway (run_warnings.h) at that evaluation's step.
        QJsonObject o = lessonObject();
        QJsonArray checks = o["checks"].toArray();
        checks.append(
            QJsonObject{{"id", "w"},
                        {"claim", "KL ran away"},
                        {"all", QJsonArray{QJsonObject{{"left", QJsonObject{{"run", "a"}, {"warning", "kl_runaway"}}},
                                                       {"op", "exists"}}}}});
        o["checks"] = checks;
        LessonEngine e(parseLesson(dump(o), "demo.json"));
        e.startRun("a");
        for (int64_t s = 0; s <= 60; s += 20) e.observe({{s, metricKey(Metric::KlExact), s == 60 ? 12.0 : 1.0, 0}});
        QCOMPARE(e.warnings("a").at("kl_runaway"), int64_t(60));
        const LessonCheckResult r = e.evaluate(*e.lesson().findCheck("w"));
        QVERIFY(r.held);
        QCOMPARE(r.evidence, std::string("a warning kl_runaway (step) = step 60 (yes)"));
    }

    void predictionsAreRevealedFromTheRun() {
        QJsonObject o = lessonObject();
        QJsonArray cues = o["cues"].toArray();
        QJsonObject intro = cues[0].toObject();
        intro["predict"] = QJsonObject{{"question", "Will gold end below its peak?"},
                                       {"choices", QJsonArray{"yes", "no"}},
                                       {"check", "gold-peaked"},
                                       {"if_held", "yes"},
                                       {"if_failed", "no"}};
        cues[0] = intro;
        o["cues"] = cues;
        LessonEngine e(parseLesson(dump(o), "demo.json"));
        const std::vector<LessonEvent> start = e.startRun("a");
        QCOMPARE(start.size(), size_t(2));
        QCOMPARE(start[1].kind, LessonEvent::Kind::Question);
        QCOMPARE(start[1].choices, (std::vector<std::string>{"yes", "no"}));
        e.answer("intro", "no");
        for (int64_t s = 0; s <= 100; s += 10) e.observe(evaluation(s));
        const std::vector<LessonEvent> end = e.endRun();
        QCOMPARE(end.back().kind, LessonEvent::Kind::Reveal);
        QVERIFY2(end.back().text.find("In this run: yes (") != std::string::npos, end.back().text.c_str());
        QVERIFY2(end.back().text.find("You predicted no.") != std::string::npos, end.back().text.c_str());
    }

    void cueWithAFailedCheckSaysWhatHappenedInstead() {
        QJsonObject o = lessonObject();
        QJsonArray cues = o["cues"].toArray();
        QJsonObject s50 = cues[2].toObject();
        s50["check"] = "gold-peaked";
        s50["when"] = QJsonObject{{"step", 40}};  // gold is at its peak there
        cues[2] = s50;
        o["cues"] = cues;
        LessonEngine e(parseLesson(dump(o), "demo.json"));
        e.startRun("a");
        std::vector<LessonEvent> all;
        for (int64_t s = 0; s <= 50; s += 10) {
            for (const LessonEvent& ev : e.observe(evaluation(s))) all.push_back(ev);
        }
        // At step 40 gold is at its peak, 1.00: not 0.1 below it.
        const auto instead =
            std::find_if(all.begin(), all.end(), [](const LessonEvent& ev) { return ev.cue == "s50"; });
        QVERIFY(instead != all.end());
        QCOMPARE(instead->step, int64_t(40));
        QCOMPARE(instead->kind, LessonEvent::Kind::Instead);
        QCOMPARE(instead->text,
                 std::string("The lesson expected here: gold ends below its peak. This run shows otherwise: "
                             "a gold/reward last = 1.00 (step 40) < a gold/reward max = 1.00 (step 40) - 0.10 (no)."));
    }

    void bestOfNByHand_data() {
        QTest::addColumn<std::vector<double>>("proxy");
        QTest::addColumn<std::vector<double>>("gold");
        QTest::addColumn<int>("n");
        QTest::addColumn<double>("expectedGold");
        QTest::addColumn<double>("expectedProxy");
        QTest::addColumn<double>("expectedKl");
        QTest::addColumn<bool>("ties");
        // Four distinct values, n = 2: q = F^2 - F_prev^2 = 1/16, 3/16, 5/16, 7/16;
        // proxy = (1 + 6 + 15 + 28)/16 = 3.125; KL = sum q log(4q).
        const double kl2 =
            (1 * std::log(4.0 / 16) + 3 * std::log(12.0 / 16) + 5 * std::log(20.0 / 16) + 7 * std::log(28.0 / 16)) / 16;
        QTest::newRow("no ties, n 2") << std::vector<double>{3, 1, 4, 2} << std::vector<double>{30, 10, 40, 20} << 2
                                      << 31.25 << 3.125 << kl2 << false;
        QTest::newRow("n 1 is the reference") << std::vector<double>{3, 1, 4, 2} << std::vector<double>{30, 10, 40, 20}
                                              << 1 << 25.0 << 2.5 << 0.0 << false;
        // Ties: proxy {1, 1, 2, 2} (gold 0, 2 | 4, 8): levels p = 1/2, 1/2; n = 2:
        // q = 1/4, 3/4; gold = 1/4 * 1 + 3/4 * 6 = 4.75; KL = 1/4 log(1/2) + 3/4 log(3/2).
        QTest::newRow("ties, n 2") << std::vector<double>{1, 2, 1, 2} << std::vector<double>{0, 4, 2, 8} << 2 << 4.75
                                   << 1.75 << 0.25 * std::log(0.5) + 0.75 * std::log(1.5) << true;
        // All tied: best-of-n is the reference, KL 0 (the formula would say log 8 - 7/8 = 1.20).
        QTest::newRow("all tied") << std::vector<double>{5, 5, 5} << std::vector<double>{1, 2, 3} << 8 << 2.0 << 5.0
                                  << 0.0 << true;
    }
    void bestOfNByHand() {
        QFETCH(std::vector<double>, proxy);
        QFETCH(std::vector<double>, gold);
        QFETCH(int, n);
        QFETCH(double, expectedGold);
        QFETCH(double, expectedProxy);
        QFETCH(double, expectedKl);
        QFETCH(bool, ties);
        const BestOfNPoint p = bestOfN(proxy, gold, n);
        QVERIFY2(std::fabs(p.gold - expectedGold) < 1e-12, qPrintable(QString::number(p.gold)));
        QVERIFY2(std::fabs(p.proxy - expectedProxy) < 1e-12, qPrintable(QString::number(p.proxy)));
        QVERIFY2(std::fabs(p.kl - expectedKl) < 1e-12, qPrintable(QString::number(p.kl)));
        QCOMPARE(p.ties, ties);
    }

    void bestOfNApproachesTheFormulaWithoutTies() {
        // 4000 distinct values: the empirical KL is within 0.01 of log n - (n-1)/n.
        std::vector<double> proxy, gold;
        for (int i = 0; i < 4000; ++i) proxy.push_back(i), gold.push_back(0);
        for (int n : {2, 8, 32}) {
            const double kl = bestOfN(proxy, gold, n).kl;
            QVERIFY2(std::fabs(kl - bestOfNKlWithoutTies(n)) < 0.01,
                     qPrintable(QString("n %1: %2 against %3").arg(n).arg(kl).arg(bestOfNKlWithoutTies(n))));
            QVERIFY(kl <= bestOfNKlWithoutTies(n) + 1e-12);
        }
        QCOMPARE(bestOfNKlWithoutTies(1), 0.0);
    }

    // Every recorded run of a shipped lesson (tests/data/lessons/ID-seedN.csv,
    // written by `preflab lesson ID --record`) played back through the lesson:
    // every check holds, every cue fires or says why not. The real runs behind
    // them are in tst_lesson_run (one) and the note of issue 29 (all, seeds 1-3).
    void replaysRecordedRuns_data() {
        QTest::addColumn<QString>("file");
        const QDir dir(PREFLAB_LESSON_RECORDINGS);
        for (const QString& name : dir.entryList({"*.csv"}, QDir::Files, QDir::Name)) {
            QTest::newRow(qPrintable(name)) << dir.filePath(name);
        }
        QVERIFY(!dir.entryList({"*.csv"}, QDir::Files).isEmpty());
    }
    void replaysRecordedRuns() {
        QFETCH(QString, file);
        const QString id = QFileInfo(file).completeBaseName().section("-seed", 0, 0);
        LessonEngine e(readLessonFile((QString(PREFLAB_LESSONS_DIR) + "/" + id + ".json").toStdString()));
        QFile f(file);
        QVERIFY(f.open(QIODevice::ReadOnly));
        f.readLine();  // header
        std::string run;
        std::vector<MetricSample> batch;
        std::vector<LessonEvent> events;
        auto flush = [&] {
            for (const LessonEvent& ev : e.observe(batch)) events.push_back(ev);
            batch.clear();
        };
        while (!f.atEnd()) {
            const QList<QByteArray> cells = f.readLine().trimmed().split(',');
            QCOMPARE(cells.size(), 4);
            if (cells[0].toStdString() != run) {
                flush();
                if (!run.empty()) e.endRun();
                run = cells[0].toStdString();
                QVERIFY2(e.lesson().findRun(run), run.c_str());
                e.startRun(run);
            }
            const int64_t step = cells[1].toLongLong();
            if (!batch.empty() && batch.back().step != step) flush();
            batch.push_back({step, cells[2].toStdString(), cells[3].toDouble(), 0});
        }
        flush();
        for (const LessonEvent& ev : e.finish()) events.push_back(ev);
        for (const LessonCheckResult& r : e.checkResults()) {
            QVERIFY2(r.held, qPrintable(QString::fromStdString(r.id + ": " + r.claim + " -- " + r.evidence)));
        }
        for (const LessonEvent& ev : events) {
            QVERIFY2(ev.kind != LessonEvent::Kind::Instead && ev.kind != LessonEvent::Kind::Failed, ev.text.c_str());
        }
    }

    void shippedLessonsParse() {
        const std::vector<Lesson> lessons = readLessonFolder(PREFLAB_LESSONS_DIR);
        QVERIFY2(lessons.size() >= 6, qPrintable(QString::number(lessons.size())));
        int automatic = 0;
        for (const Lesson& l : lessons) {
            automatic += l.needsPerson ? 0 : 1;
            QVERIFY2(!l.checks.empty() || l.needsPerson, l.id.c_str());
            // Every check is narrated by a cue or quoted by a text: none is a check nobody reads.
            for (const LessonCheck& c : l.checks) {
                bool used = false;
                for (const LessonCue& cue : l.cues) {
                    used = used || cue.check == c.id || (cue.predict && cue.predict->check == c.id) ||
                           cue.text.find("{check:" + c.id + "}") != std::string::npos;
                }
                used = used || l.closing.find("{check:" + c.id + "}") != std::string::npos;
                QVERIFY2(used, qPrintable(QString::fromStdString(l.id + ": check " + c.id + " is not narrated")));
            }
        }
        QVERIFY(automatic >= 6);
    }
};

PREFLAB_TEST_MAIN(TestLessons)
#include "tst_lessons.moc"
