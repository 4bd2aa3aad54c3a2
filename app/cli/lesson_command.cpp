// `preflab lesson`: the guided lessons (issue 29) on the terminal. Each of a
// lesson's runs is an ordinary training run (the same TrainingSession as
// `preflab run`, stored in the database like any run), or best-of-n sampling
// from the starter; the LessonEngine reads their metrics as they arrive and
// says what to look at, and at the end whether each of the lesson's claims
// held on this run.
#include "app/cli/commands.h"
#include "app/cli/starter_cache.h"
#include "app/cli/terminal_progress.h"
#include "app/session/training_session.h"
#include "app/session/lesson_preparation.h"
#include "core/values/lesson_engine.h"
#include "core/values/metric_names.h"
#include "storage/data_paths.h"
#include "storage/database.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTimer>

#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <map>
#include <memory>

namespace preflab {
namespace {

std::atomic_bool g_lessonInterrupted{false};

void onLessonSigint(int) {
    g_lessonInterrupted = true;
}

// Lessons ship inside the program (resources/lessons, a Qt resource).
const char* kBuiltInLessons = ":/lessons";

const char* kindLabel(LessonEvent::Kind k) {
    using K = LessonEvent::Kind;
    switch (k) {
    case K::Narration: return "";
    case K::Question: return "Predict: ";
    case K::Reveal: return "Answer: ";
    case K::Missed: return "Not this time: ";
    case K::Instead: return "Not this time: ";
    case K::Failed: return "Check failed: ";
    case K::Closing: return "";
    }
    return "";
}

// The numbers of the plot a cue points at, so far: every evaluation of an
// evaluation metric, and 20-step means of a per-step one.
std::string plotNumbers(const LessonEngine& engine, const std::string& run, const std::string& metric) {
    const LessonSeries& s = engine.series(run, metric);
    if (s.empty()) return metric + ": no values yet";
    const MetricInfo* info = findMetric(metric);
    std::string out = metric + (info && info->unit[0] ? std::string(" (") + info->unit + ")" : std::string()) + ":";
    if (info && info->cadence == MetricCadence::Step) {
        std::map<int64_t, std::pair<double, int>> windows;
        for (const auto& [step, v] : s) {
            auto& w = windows[(std::max<int64_t>(step, 1) - 1) / 20];
            w.first += v;
            ++w.second;
        }
        for (const auto& [w, sum] : windows) {
            out += " " + std::to_string(w * 20 + 1) + "-" + std::to_string(w * 20 + 20) + ": " +
                   lessonNumber(sum.first / sum.second) + ",";
        }
    } else {
        for (const auto& [step, v] : s) out += " " + std::to_string(step) + ": " + lessonNumber(v) + ",";
    }
    out.pop_back();
    return out;
}

struct Output {
    bool json = false;
    TerminalProgress progress{stderr};
    LessonEngine* engine = nullptr;
    std::FILE* record = nullptr;  // --record: every sample the engine saw, as CSV

    void observe(const std::vector<MetricSample>& samples) {
        if (record) {
            for (const MetricSample& s : samples) {
                std::fprintf(record, "%s,%lld,%s,%.9g\n", engine->currentRun().c_str(), static_cast<long long>(s.step),
                             s.name.c_str(), s.value);
            }
        }
        events(engine->observe(samples));
    }

    void events(const std::vector<LessonEvent>& events) {
        if (events.empty()) return;
        progress.done();
        for (const LessonEvent& e : events) {
            if (e.kind == LessonEvent::Kind::Closing) {
                std::printf("\n== Summary ==\n%s\n", e.text.c_str());
                continue;
            }
            if (e.kind == LessonEvent::Kind::Failed) {  // about the whole lesson, not a moment of a run
                std::printf("\n%s%s\n", kindLabel(e.kind), e.text.c_str());
                continue;
            }
            std::printf("\n[%s, step %lld] %s%s\n", e.run.c_str(), static_cast<long long>(e.step), kindLabel(e.kind),
                        e.text.c_str());
            if (!e.choices.empty()) {
                std::string c;
                for (const std::string& choice : e.choices) c += (c.empty() ? "" : " / ") + choice;
                std::printf("  (%s; the answer comes at the end of this run)\n", c.c_str());
            }
            if (!e.plot.empty()) {
                if (engine->series(e.run, e.plot).empty())
                    std::printf("  plot %s (nothing plotted yet)\n", e.plot.c_str());
                else
                    std::printf("  plot %s\n", plotNumbers(*engine, e.run, e.plot).c_str());
            }
        }
        std::fflush(stdout);
    }
};

// The reward model of a run's `prepare` (lesson_preparation.h), with its figures printed and fed to the lesson.
std::string prepareRewardModel(const LessonRun& run, const std::string& starter, uint64_t seed, const QString& dir,
                               Output& out) {
    out.progress.show(QStringLiteral("training the reward model of run %1 on %2 task pairs...")
                          .arg(QString::fromStdString(run.id))
                          .arg(run.prepare.rewardModelPairs),
                      true);
    const PreparedRewardModel m = prepareLessonRewardModel(run, starter, seed, dir.toStdString());
    const RewardModelReport& r = m.report;
    out.progress.done();
    out.observe(rewardModelLessonSamples(r));
    std::printf(
        "\nReward model for run %s: %lld task pairs, held-out accuracy %.3f on %lld pairs of another seed "
        "(training accuracy %.3f), %.0f s\n",
        run.id.c_str(), static_cast<long long>(r.trainPairs), r.heldOutAccuracy, static_cast<long long>(r.heldOutPairs),
        r.trainAccuracy, r.seconds);
    return m.path;
}

std::string prepareOfflinePairs(const LessonRun& run, const std::string& starter, uint64_t seed, const QString& dir,
                                Output& out) {
    out.progress.show(QStringLiteral("sampling %1 task pairs from the starter for run %2...")
                          .arg(run.prepare.offlinePairs)
                          .arg(QString::fromStdString(run.id)),
                      true);
    const std::string path = prepareLessonOfflinePairs(run, starter, seed, dir.toStdString());
    out.progress.done();
    return path;
}

// One training run of the lesson, its metrics fed to the engine as they come.
bool trainRun(const SessionSetup& setup, LessonEngine& engine, Output& out, qint64& runId) {
    bool ok = true;
    TrainingSession session(setup);
    QObject context;
    const TrainingWorker* worker = session.worker();
    QObject::connect(worker, &TrainingWorker::runCreated, &context, [&](qint64 id) { runId = id; });
    QObject::connect(worker, &TrainingWorker::metricsReady, &context, [&](const QVector<MetricSample>& samples) {
        out.observe(std::vector<MetricSample>(samples.begin(), samples.end()));
    });
    QObject::connect(worker, &TrainingWorker::progress, &context, [&](qint64 step, qint64 total) {
        const LessonSeries& kl = engine.series(engine.currentRun(), metricKey(Metric::KlExact));
        const LessonSeries& gold = engine.series(engine.currentRun(), metricKey(Metric::GoldReward));
        out.progress.show(
            QStringLiteral("%1 step %2/%3 | exact KL %4 | gold %5")
                .arg(QString::fromStdString(engine.currentRun()))
                .arg(step)
                .arg(total)
                .arg(kl.empty() ? QStringLiteral("-") : QString::fromStdString(lessonNumber(kl.back().second)))
                .arg(gold.empty() ? QStringLiteral("-") : QString::fromStdString(lessonNumber(gold.back().second))));
    });
    QObject::connect(worker, &TrainingWorker::failed, &context, [&](const QString& message) {
        out.progress.done();
        std::fprintf(stderr, "preflab lesson: %s\n", qPrintable(message));
        ok = false;
    });
    QObject::connect(worker, &TrainingWorker::stateChanged, &context, [&](RunState state, const QString&) {
        if (state == RunState::Paused) session.stop();  // a halted run ends here, as in `preflab run`
    });
    QObject::connect(worker, &TrainingWorker::finished, &context, [&] { QCoreApplication::quit(); });
    QTimer poll;
    QObject::connect(&poll, &QTimer::timeout, [&] {
        if (g_lessonInterrupted.load()) session.stop();
    });
    poll.start(100);
    session.start();
    QCoreApplication::exec();
    session.wait();
    out.progress.done();
    return ok && !g_lessonInterrupted.load();
}

// Best-of-n from the starter, scored by a prepared reward model
// (lesson_preparation.h): printed, and fed to the engine as a run whose step is n.
void bestOfNRun(const LessonRun& run, const std::string& starter, const std::string& rewardModel, uint64_t seed,
                Output& out) {
    out.progress.show(QStringLiteral("best-of-n: %1 samples of each of %2 prompts...")
                          .arg(run.bestOfN.samples)
                          .arg(run.bestOfN.prompts),
                      true);
    const BestOfNTable table = lessonBestOfN(run, starter, rewardModel, seed);
    out.progress.done();
    std::printf(
        "\nBest-of-n over %lld samples of each of %lld prompts (%.0f s). KL is computed from the sampled proxy "
        "rewards' distribution.\n  n   gold    proxy   KL      sqrt(KL)  log n - (n-1)/n\n",
        static_cast<long long>(table.samplesPerPrompt), static_cast<long long>(table.prompts), table.seconds);
    for (const BestOfNPoint& row : table.rows) {
        std::printf("  %-3lld %7.3f %7.3f %7.3f %8.3f  %7.3f\n", static_cast<long long>(row.n), row.gold, row.proxy,
                    row.kl, std::sqrt(row.kl), bestOfNKlWithoutTies(row.n));
        out.observe(bestOfNLessonSamples(row));
    }
    std::printf("  %lld of %lld prompts have tied proxy rewards among their samples: %s\n",
                static_cast<long long>(table.tiedPrompts), static_cast<long long>(table.prompts),
                table.tiedPrompts > 0 ? "the formula log n - (n-1)/n would overstate their KL, so it was not used"
                                      : "no ties, so the computed KL approaches log n - (n-1)/n as the samples grow");
}

void listLessons(const std::vector<Lesson>& lessons, bool json) {
    if (json) {
        QJsonArray a;
        for (const Lesson& l : lessons) {
            QJsonArray runs;
            for (const LessonRun& r : l.runs) runs.append(QString::fromStdString(r.id));
            a.append(QJsonObject{{"id", QString::fromStdString(l.id)},
                                 {"title", QString::fromStdString(l.title)},
                                 {"summary", QString::fromStdString(l.summary)},
                                 {"needs_person", l.needsPerson},
                                 {"automatic", !l.needsPerson},
                                 {"seed", static_cast<qint64>(l.seed)},
                                 {"runs", runs},
                                 {"checks", static_cast<int>(l.checks.size())}});
        }
        std::printf("%s\n", QJsonDocument(QJsonObject{{"lessons", a}}).toJson(QJsonDocument::Compact).constData());
        return;
    }
    for (const Lesson& l : lessons) {
        std::printf("%-20s %s%s\n  %s\n", l.id.c_str(), l.title.c_str(),
                    l.needsPerson ? " (needs a person: in the workbench)" : "", l.summary.c_str());
    }
}

}  // namespace

int runLessonCommand(const QStringList& args) {
    QCommandLineParser p;
    p.setApplicationDescription(
        "Guided lessons: a run (or a few) with narration at the moments that matter, and at the end whether each "
        "claim of the narration held on this run, with its numbers.\n"
        "  preflab lesson --list [--json]\n"
        "  preflab lesson ID --headless [--json] [--seed N] [--db FILE]");
    p.addHelpOption();
    p.addPositionalArgument("id", "The lesson (see --list).");
    p.addOption({"list", "List the lessons."});
    p.addOption({"json",
                 "With --list: one JSON object. With a lesson: a last line {\"lesson\", \"seed\", \"checks\": "
                 "[{\"claim\", \"held\", \"evidence\"}]}."});
    p.addOption({"headless",
                 "Run the lesson on the terminal (the workbench plays the same lessons in its lesson view: Help "
                 "-> Lessons). `preflab lesson` always runs on the terminal; the option says so explicitly."});
    p.addOption({"seed", "The runs' seed (default: the lesson's own).", "n"});
    p.addOption({"lessons", "Read lessons from this folder instead of the built-in ones (a teacher's own).", "dir"});
    p.addOption({"record",
                 "Write every metric value the lesson read as CSV (run,step,name,value): a recorded run "
                 "that tests replay through the lesson's checks.",
                 "file.csv"});
    p.addOption(databaseCommandLineOption());
    p.addOption({"data-dir", "Directory for models and checkpoints.", "dir"});
    p.process(QStringList{"preflab lesson"} + args);

    std::vector<Lesson> lessons;
    try {
        lessons = readLessonFolder(p.isSet("lessons") ? p.value("lessons").toStdString() : kBuiltInLessons);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "preflab lesson: %s\n", e.what());
        return 1;
    }
    const bool json = p.isSet("json");
    if (p.isSet("list")) {
        listLessons(lessons, json);
        return 0;
    }
    if (p.positionalArguments().size() != 1) {
        std::fprintf(stderr, "preflab lesson: name one lesson (preflab lesson --list shows them)\n");
        return 2;
    }
    const std::string id = p.positionalArguments().front().toStdString();
    const auto found = std::find_if(lessons.begin(), lessons.end(), [&](const Lesson& l) { return l.id == id; });
    if (found == lessons.end()) {
        std::fprintf(stderr, "preflab lesson: no lesson '%s' (preflab lesson --list shows them)\n", id.c_str());
        return 2;
    }
    const Lesson& lesson = *found;
    if (lesson.needsPerson) {
        std::fprintf(stderr,
                     "preflab lesson: '%s' needs a person to label pairs; it runs in the workbench's lesson view\n",
                     id.c_str());
        return 2;
    }
    int64_t seed = lesson.seed;
    if (p.isSet("seed")) {
        bool ok = false;
        seed = p.value("seed").toLongLong(&ok);
        if (!ok || seed < 0) {
            std::fprintf(stderr, "preflab lesson: --seed takes a whole number >= 0, not '%s'\n",
                         qPrintable(p.value("seed")));
            return 2;
        }
    }
    const std::string dataDir = p.isSet("data-dir") ? p.value("data-dir").toStdString() : defaultDataDir();
    const std::string dbPath = p.isSet("db") ? p.value("db").toStdString() : dataDir + "/preflab.db";

    const auto t0 = std::chrono::steady_clock::now();
    LessonEngine engine(lesson);
    Output out;
    out.json = json;
    out.engine = &engine;
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> record(nullptr, &std::fclose);
    if (p.isSet("record")) {
        record.reset(std::fopen(qPrintable(p.value("record")), "w"));
        if (!record) {
            std::fprintf(stderr, "preflab lesson: cannot write %s\n", qPrintable(p.value("record")));
            return 1;
        }
        std::fprintf(record.get(), "run,step,name,value\n");
        out.record = record.get();
    }
    std::printf("Lesson: %s (seed %lld)\n%s\n", lesson.title.c_str(), static_cast<long long>(seed),
                lesson.summary.c_str());
    std::signal(SIGINT, onLessonSigint);
    QTemporaryDir scratch;
    std::map<std::string, std::string> rewardModels;  // run id -> prepared reward model file
    try {
        Database::open(dbPath);
        const std::string starter = ensureStarterModel(dataDir);
        for (const LessonRun& run : lesson.runs) {
            std::printf("\n== %s ==\n", run.title.c_str());
            out.events(engine.startRun(run.id));
            if (run.kind == LessonRunKind::BestOfN) {
                bestOfNRun(run, starter, rewardModels.at(run.bestOfN.rewardModelOf), static_cast<uint64_t>(seed), out);
                out.events(engine.endRun());
                continue;
            }
            SessionSetup setup;
            setup.dataDir = dataDir;
            setup.databasePath = dbPath;
            setup.config = lessonRunConfig(lesson, run, seed);
            if (run.prepare.rewardModelPairs > 0) {
                setup.config.rewardModel =
                    prepareRewardModel(run, starter, static_cast<uint64_t>(seed), scratch.path(), out);
                rewardModels[run.id] = setup.config.rewardModel;
            }
            if (run.prepare.offlinePairs > 0) {
                setup.config.pairs =
                    prepareOfflinePairs(run, starter, static_cast<uint64_t>(seed), scratch.path(), out);
            }
            const std::vector<std::string> errors = validateRunConfig(setup.config);
            if (!errors.empty()) throw std::runtime_error(lesson.file + ": run " + run.id + ": " + errors.front());
            setup.modelPath = resolveModelForRun(setup.config.model, dataDir);
            qint64 runId = 0;
            if (!trainRun(setup, engine, out, runId)) {
                std::fprintf(stderr, "preflab lesson: run %s stopped before its end; the lesson stops here\n",
                             run.id.c_str());
                std::signal(SIGINT, SIG_DFL);
                return 1;
            }
            std::printf("\n(run %s is run %lld in %s)\n", run.id.c_str(), static_cast<long long>(runId),
                        dbPath.c_str());
            out.events(engine.endRun());
        }
    } catch (const std::exception& e) {
        out.progress.done();
        std::fprintf(stderr, "preflab lesson: %s\n", e.what());
        std::signal(SIGINT, SIG_DFL);
        return 1;
    }
    std::signal(SIGINT, SIG_DFL);
    out.events(engine.finish());
    const std::vector<LessonCheckResult> results = engine.checkResults();
    int held = 0;
    std::printf("\nChecks (%.0f s):\n", std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    // The JSON line is written by hand so that its keys come in the documented
    // order (QJsonObject sorts them): {"lesson", "seed", "checks": [{"claim", "held", "evidence", "id"}]}.
    auto quoted = [](const std::string& s) {
        const QByteArray a = QJsonDocument(QJsonArray{QString::fromStdString(s)}).toJson(QJsonDocument::Compact);
        return a.mid(1, a.size() - 2).toStdString();  // the string as JSON, from a one-element array
    };
    std::string line = "{\"lesson\":" + quoted(lesson.id) + ",\"seed\":" + std::to_string(seed) + ",\"checks\":[";
    for (const LessonCheckResult& r : results) {
        held += r.held ? 1 : 0;
        std::printf("  [%s] %s\n         %s\n", r.held ? "held" : "FAILED", r.claim.c_str(), r.evidence.c_str());
        line += std::string(&r == &results.front() ? "" : ",") + "{\"claim\":" + quoted(r.claim) +
                ",\"held\":" + (r.held ? "true" : "false") + ",\"evidence\":" + quoted(r.evidence) +
                ",\"id\":" + quoted(r.id) + "}";
    }
    std::printf("%d of %zu checks held\n", held, results.size());
    if (json) std::printf("%s]}\n", line.c_str());
    return 0;
}

}  // namespace preflab
