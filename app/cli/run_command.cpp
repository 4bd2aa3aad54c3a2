// `preflab run` and the built-in demonstration.
#include "core/values/method_registry.h"
#include "core/values/metric_names.h"
#include "core/values/win_rate.h"
#include "app/cli/commands.h"
#include "app/cli/rank_follower.h"
#include "app/cli/rank_launcher.h"
#include "app/cli/starter_cache.h"
#include "app/cli/terminal_progress.h"
#include "app/session/training_session.h"
#include "core/judges/make_judge.h"
#include "storage/data_paths.h"
#include "storage/database.h"
#include "storage/run_store.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QFile>
#include <QTimer>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>

namespace preflab {
namespace {

std::atomic_bool g_interrupted{false};

void onSigint(int) {
    g_interrupted = true;
}

QString flagFor(const std::string& key) {
    return QString::fromStdString(key).replace('_', '-');
}

void addRunOptions(QCommandLineParser& p) {
    p.addOption({"config", "Read settings from a JSON file (flags override it).", "file"});
    p.addOption(databaseCommandLineOption());
    p.addOption({"data-dir", "Directory for models and checkpoints.", "dir"});
    p.addOption({"resume", "Continue run ID from its last checkpoint.", "id"});
    p.addOption({"quiet", "Print only the summary."});
    p.addOption({"nproc", "Train data-parallel on N local processes (the batch is split between them).", "N"});
    p.addOption({"rank", "This process's rank in a data-parallel run across hosts (0 = the master).", "R"});
    p.addOption({"world-size", "How many processes train together (with --rank).", "N"});
    p.addOption({"master-addr", "Host of rank 0, where the ranks meet (default 127.0.0.1).", "host"});
    p.addOption({"master-port", "TCP port rank 0 listens on (default 29500; --nproc picks a free one).", "port"});
    p.addOption({"dist-timeout", "Seconds a rank waits for the others before it stops with an error (default 300).",
                 "seconds"});
    for (const ConfigField& f : runConfigFields()) {
        QString help = QString::fromStdString(f.help);
        if (!f.choices.empty()) {
            QStringList c;
            for (const auto& s : f.choices) c << QString::fromStdString(s);
            help += " [" + c.join('|') + "]";
        }
        p.addOption({flagFor(f.key), help, "value"});
        // A switch that is on by default can be turned off by name (--no-prefix-sharing).
        if (f.isFlag() && configValueText(RunConfig{}, f) == "1") {
            p.addOption({"no-" + flagFor(f.key), "Same as --" + flagFor(f.key) + " 0."});
        }
    }
}

// Applies --config then the flags; prints every error and returns false on any.
bool buildConfig(const QCommandLineParser& p, RunConfig& config) {
    std::vector<std::string> errors;
    if (p.isSet("config")) {
        QFile f(p.value("config"));
        if (!f.open(QIODevice::ReadOnly)) {
            std::fprintf(stderr, "preflab: cannot read config file %s\n", qPrintable(p.value("config")));
            return false;
        }
        for (const std::string& e : parseRunConfigJson(f.readAll().toStdString(), config)) {
            errors.push_back(p.value("config").toStdString() + ": " + e);
        }
    }
    for (const ConfigField& f : runConfigFields()) {
        if (f.isFlag() && configValueText(RunConfig{}, f) == "1" && p.isSet("no-" + flagFor(f.key))) {
            if (p.isSet(flagFor(f.key))) errors.push_back("--" + flagFor(f.key).toStdString() + " and --no-" +
                                                          flagFor(f.key).toStdString() + " contradict each other");
            else setRunConfigValue(config, f.key, "0");
            continue;
        }
        if (!p.isSet(flagFor(f.key))) continue;
        const std::string err = setRunConfigValue(config, f.key, p.value(flagFor(f.key)).toStdString());
        if (!err.empty()) errors.push_back("--" + flagFor(f.key).toStdString() + ": " + err);
    }
    if (errors.empty()) errors = validateRunConfig(config);
    for (const std::string& e : errors) std::fprintf(stderr, "preflab: %s\n", e.c_str());
    return errors.empty();
}

// Asks on the terminal for labels while the run waits for a person.
void labelOnTerminal(HumanLabelQueue& queue, const std::string& annotator) {
    for (const PairForJudging& pair : queue.pending()) {
        std::printf("\n--- pair %lld ---\nPrompt: %s\n  [A] %s\n  [B] %s\nChoose a / b / t (tie) / x (both bad) / s (skip): ",
                    static_cast<long long>(pair.pairIndex), pair.prompt.c_str(), pair.responseA.c_str(),
                    pair.responseB.c_str());
        std::fflush(stdout);
        std::string answer;
        if (!std::getline(std::cin, answer)) {
            g_interrupted = true;
            return;
        }
        const char c = answer.empty() ? 's' : static_cast<char>(std::tolower(static_cast<unsigned char>(answer[0])));
        const Choice choice = c == 'a' ? Choice::A : c == 'b' ? Choice::B : c == 't' ? Choice::Tie
                            : c == 'x' ? Choice::BothBad : Choice::Skip;
        queue.provide(pair.pairIndex, choice, annotator);
    }
}

struct Printer {
    TerminalProgress line;
    std::map<std::string, double> latest;
    qint64 step = 0, total = 0;
    std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
    qint64 startStep = -1;
    bool quiet = false;

    QString value(const char* name, int decimals = 3) const {
        const auto it = latest.find(name);
        return it == latest.end() ? QStringLiteral("-") : QString::number(it->second, 'f', decimals);
    }
    double stepsPerSecond() const {
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        return s > 0 && startStep >= 0 ? (step - startStep) / s : 0.0;
    }
    void redraw(bool force = false) {
        if (quiet) return;
        line.show(QStringLiteral("step %1/%2 | loss %3 | margin %4 | acc %5 | KL %6 | gold %7 | %8 steps/s")
                      .arg(step).arg(total).arg(value(metricKey(Metric::Loss))).arg(value(metricKey(Metric::RewardsMargins)))
                      .arg(value(metricKey(Metric::RewardsAccuracies), 2)).arg(value(metricKey(Metric::ObjectiveKl))).arg(value(metricKey(Metric::GoldReward)))
                      .arg(stepsPerSecond(), 0, 'f', 2),
                  force);
    }
};

int executeRun(const SessionSetup& setup, bool quiet) {
    Printer printer;
    printer.quiet = quiet;
    std::map<std::string, std::pair<double, double>> firstLast;  // first and last value of each metric
    qint64 runId = 0;
    int exitCode = 0;
    TrainingSession session(setup);
    const TrainingWorker* worker = session.worker();
    // The worker runs on its own thread; `context` makes these connections
    // queued, so the handlers run here, on the main thread.
    QObject context;
    QObject::connect(worker, &TrainingWorker::runCreated, &context, [&](qint64 id) {
        runId = id;
        if (!quiet) std::printf("Run %lld in %s\n", static_cast<long long>(id), setup.databasePath.c_str());
    });
    QObject::connect(worker, &TrainingWorker::metricsReady, &context, [&](const QVector<MetricSample>& samples) {
        for (const MetricSample& s : samples) {
            printer.latest[s.name] = s.value;
            auto it = firstLast.find(s.name);
            if (it == firstLast.end()) firstLast[s.name] = {s.value, s.value};
            else it->second.second = s.value;
        }
        printer.redraw();
    });
    QObject::connect(worker, &TrainingWorker::progress, &context, [&](qint64 step, qint64 total) {
        if (printer.startStep < 0) printer.startStep = step;
        printer.step = step;
        printer.total = total;
    });
    QStringList warnings;
    QObject::connect(worker, &TrainingWorker::warningRaised, &context,
                     [&](qint64 step, const QString& kind, const QString& message, const QString& advice) {
                         printer.line.done();
                         std::fprintf(stderr, "warning at step %lld: %s\n  Try: %s\n", static_cast<long long>(step),
                                      qPrintable(message), qPrintable(advice));
                         warnings << QStringLiteral("%1 (step %2)").arg(kind).arg(step);
                     });
    QObject::connect(worker, &TrainingWorker::failed, &context, [&](const QString& message) {
        printer.line.done();
        std::fprintf(stderr, "preflab: %s\n", qPrintable(message));
        exitCode = 1;
    });
    QObject::connect(worker, &TrainingWorker::stateChanged, &context, [&](RunState state, const QString& message) {
        if (state == RunState::Starting && !message.isEmpty()) printer.line.show(message);  // model loading
        // Without a GUI, a halted (paused) run ends here; it can be resumed with --resume.
        if (state == RunState::Paused) session.stop();
    });
    QObject::connect(worker, &TrainingWorker::finished, &context, [&] { QCoreApplication::quit(); });

    std::signal(SIGINT, onSigint);
    QTimer poll;
    QObject::connect(&poll, &QTimer::timeout, [&] {
        if (g_interrupted.exchange(false)) {
            printer.line.done();
            std::printf("Stopping after the current step (a checkpoint is written)...\n");
            session.stop();
        }
        if (setup.humanQueue && setup.humanQueue->pendingCount() > 0) {
            printer.line.done();
            labelOnTerminal(*setup.humanQueue, setup.config.annotator);
        }
    });
    poll.start(100);
    session.start();
    QCoreApplication::exec();
    session.wait();
    printer.redraw(true);
    printer.line.done();
    std::signal(SIGINT, SIG_DFL);

    if (runId == 0) return exitCode;  // it failed before its run existed: the error said why
    std::printf("\nSummary of run %lld (%lld steps, %.2f steps/s):\n", static_cast<long long>(runId),
                static_cast<long long>(printer.step), printer.stepsPerSecond());
    using M = Metric;
    for (const Metric m : {M::Loss, M::RewardsMargins, M::RewardsAccuracies, M::EvalRewardsMargins, M::EvalRewardsAccuracies,
                           M::ObjectiveKl, M::KlK1, M::KlExact, M::GoldReward, M::GoldLabelAgreement, M::EvalResponseTokens,
                           M::DataTruncatedPairs}) {
        const char* name = metricKey(m);
        const auto it = firstLast.find(name);
        if (it != firstLast.end()) {
            std::printf("  %-24s first %9.4f   last %9.4f\n", name, it->second.first, it->second.second);
        }
    }
    // The evaluation's judged and proxy numbers under the names that say what judged them.
    if (const auto it = firstLast.find(metricKey(M::WinRateVsRef)); it != firstLast.end()) {
        const auto low = firstLast.find(metricKey(M::WinRateVsRefLow)), high = firstLast.find(metricKey(M::WinRateVsRefHigh));
        std::printf("  %s: first %.3f   last %.3f", winRateDisplayName(setup.config).c_str(), it->second.first,
                    it->second.second);
        if (low != firstLast.end() && high != firstLast.end()) {
            std::printf(" (Wilson 95 %% interval %.3f to %.3f)", low->second.second, high->second.second);
        }
        std::printf("\n");
    }
    if (const auto it = firstLast.find(metricKey(M::ProxyGoldReward)); it != firstLast.end()) {
        std::printf("  %s: first %.4f   last %.4f\n", proxyGoldDisplayName(setup.config).c_str(), it->second.first,
                    it->second.second);
    }
    if (!warnings.isEmpty()) std::printf("  warnings: %s\n", qPrintable(warnings.join(QStringLiteral(", "))));
    if (runId > 0) {
        std::printf("Export: preflab export --db %s --run %lld --metrics run.csv --pairs pairs.jsonl\n",
                    setup.databasePath.c_str(), static_cast<long long>(runId));
        // A Hugging Face model leaves as a Hugging Face folder (and, with LoRA, a PEFT adapter).
        // The run's newest checkpoint, as its database records it.
        std::optional<CheckpointRow> newest;
        try {
            newest = RunStore(*Database::open(setup.databasePath, Database::Mode::OpenExisting)).latestCheckpoint(runId);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "preflab: %s\n", e.what());
        }
        if (newest && setup.modelPath.size() > 3 && setup.modelPath.substr(setup.modelPath.size() - 3) != ".pt") {
            std::printf("Model:  preflab export-model --model %s --checkpoint %s --out aligned-model%s\n",
                        setup.modelPath.c_str(), newest->path.c_str(), setup.config.loraRank > 0 ? " --peft aligned-adapter" : "");
        }
    }
    return exitCode;
}

// --nproc / --rank / --world-size / --master-addr / --master-port /
// --dist-timeout, checked; false (with the error printed) on a bad value.
bool parseRankOptions(const QCommandLineParser& p, int& nproc, RankOptions& ranks) {
    auto number = [&](const char* name, int low, int high, int& out) {
        if (!p.isSet(name)) return true;
        bool ok = false;
        const int v = p.value(name).toInt(&ok);
        if (!ok || v < low || v > high) {
            std::fprintf(stderr, "preflab: --%s %s: expected a whole number from %d to %d\n", name,
                         qPrintable(p.value(name)), low, high);
            return false;
        }
        out = v;
        return true;
    };
    nproc = 1;
    ranks.masterPort = 0;
    if (!number("nproc", 1, 256, nproc) || !number("rank", 0, 65535, ranks.rank) ||
        !number("world-size", 1, 65536, ranks.worldSize) || !number("master-port", 1, 65535, ranks.masterPort) ||
        !number("dist-timeout", 1, 86400, ranks.timeoutSeconds)) {
        return false;
    }
    if (p.isSet("master-addr")) ranks.masterAddr = p.value("master-addr").toStdString();
    if (nproc > 1 && (p.isSet("rank") || p.isSet("world-size"))) {
        std::fprintf(stderr, "preflab: --nproc starts its own ranks; give either --nproc or --rank with --world-size\n");
        return false;
    }
    if (p.isSet("rank") != p.isSet("world-size")) {
        std::fprintf(stderr, "preflab: --rank and --world-size go together\n");
        return false;
    }
    if (ranks.rank >= ranks.worldSize) {
        std::fprintf(stderr, "preflab: --rank %d is not below --world-size %d\n", ranks.rank, ranks.worldSize);
        return false;
    }
    if (ranks.masterPort == 0 && nproc <= 1) ranks.masterPort = 29500;
    return true;
}

// The arguments of `run` less --nproc, for the ranks the launcher starts.
QStringList withoutNproc(const QStringList& args) {
    QStringList out;
    for (int i = 0; i < args.size(); ++i) {
        if (args[i] == "--nproc") {
            ++i;
            continue;
        }
        if (args[i].startsWith("--nproc=")) continue;
        out << args[i];
    }
    return out;
}

SessionSetup baseSetup(const QCommandLineParser& p) {
    SessionSetup s;
    s.dataDir = p.isSet("data-dir") ? p.value("data-dir").toStdString() : defaultDataDir();
    s.databasePath = p.isSet("db") ? p.value("db").toStdString() : s.dataDir + "/preflab.db";
    return s;
}

}  // namespace

int runRunCommand(const QStringList& args) {
    QCommandLineParser p;
    QString description = "Run the alignment loop: generate pairs, judge them, train, evaluate, store.\n"
                          "Offline methods train on --pairs (db, db:RUN or a TRL .jsonl file) instead.\n\n"
                          "Algorithms (--algorithm):";
    for (const MethodInfo& m : methods()) {
        description += QStringLiteral("\n  %1 %2").arg(QString::fromUtf8(m.name), -11).arg(QString::fromUtf8(m.help));
    }
    p.setApplicationDescription(description);
    p.addHelpOption();
    addRunOptions(p);
    p.process(QStringList{"preflab run"} + args);
    SessionSetup setup = baseSetup(p);
    int nproc = 1;
    if (!parseRankOptions(p, nproc, setup.ranks)) return 2;
    const bool follower = setup.ranks.distributed() && !setup.ranks.leader();
    try {
        // Fail early, before any work, on a bad database (rank 0 alone writes it).
        if (!follower) Database::open(setup.databasePath);
        if (p.isSet("resume")) {
            bool ok = false;
            setup.resumeRunId = p.value("resume").toLongLong(&ok);
            auto db = Database::open(setup.databasePath, Database::Mode::OpenExisting);
            const auto run = ok ? RunStore(*db).find(setup.resumeRunId) : std::nullopt;
            if (!run) {
                std::fprintf(stderr, "preflab: no run %s in %s\n", qPrintable(p.value("resume")), setup.databasePath.c_str());
                return 2;
            }
            if (!parseStoredRunConfigJson(run->configJson, setup.config).empty()) {
                std::fprintf(stderr, "preflab: the stored configuration of run %lld is unreadable\n",
                             static_cast<long long>(run->id));
                return 1;
            }
            setup.modelPath = run->model;
        }
        if (!buildConfig(p, setup.config)) return 2;
        if (setup.modelPath.empty()) {
            setup.modelPath = resolveModelForRun(setup.config.model, setup.dataDir);
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "preflab: %s\n", e.what());
        return 1;
    }
    const int processes = std::max(nproc, setup.ranks.worldSize);
    if (const std::string problem = dataParallelProblem(setup.config, processes); !problem.empty()) {
        std::fprintf(stderr, "preflab: %s\n", problem.c_str());
        return 2;
    }
    if (nproc > 1) return launchRanks(nproc, withoutNproc(args), setup.ranks, p.isSet("threads"));
    if (follower) return runFollowerRank(setup);
    if (judgeNeedsPerson(setup.config.judge)) setup.humanQueue = std::make_shared<HumanLabelQueue>();
    return executeRun(setup, p.isSet("quiet"));
}

int runDemo(const QStringList& args) {
    QCommandLineParser p;
    p.setApplicationDescription("The built-in demonstration: DPO with the task judge on the starter model.");
    p.addHelpOption();
    addRunOptions(p);
    p.process(QStringList{"preflab"} + args);
    SessionSetup setup = baseSetup(p);
    setup.config.name = "demo";
    std::printf("PrefLab demonstration: the starter model learns, from pairwise preferences of the task judge,\n"
                "to answer on topic, kindly and briefly. Watch gold reward rise and KL to the reference grow.\n\n");
    try {
        Database::open(setup.databasePath);
        if (!buildConfig(p, setup.config)) return 2;
        setup.modelPath = resolveModelForRun(setup.config.model, setup.dataDir);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "preflab: %s\n", e.what());
        return 1;
    }
    return executeRun(setup, p.isSet("quiet"));
}

}  // namespace preflab
