// `preflab pretrain`, `import`, `export` and `runs`.
#include "app/cli/commands.h"
#include "core/values/metric_names.h"
#include "app/cli/starter_cache.h"
#include "app/cli/truncation_counter.h"
#include "core/values/agreement.h"
#include "core/values/label_timing.h"
#include "core/values/label.h"
#include "core/models/pair_context_check.h"
#include "core/values/run_warnings.h"
#include "storage/data_paths.h"
#include "storage/database.h"
#include "storage/file_writing.h"
#include "storage/label_timing_store.h"
#include "storage/metric_store.h"
#include "core/values/judge_registry.h"
#include "core/values/person_names.h"
#include "storage/pair_files.h"
#include "storage/postgres_connection.h"
#include "storage/preference_store.h"
#include "storage/rating_files.h"
#include "storage/run_store.h"

#include <QCommandLineParser>
#include <QDateTime>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>

namespace preflab {
namespace {

std::string databaseOption(const QCommandLineParser& p) {
    return p.isSet("db") ? p.value("db").toStdString() : defaultDatabasePath();
}

int fail(const std::exception& e) {
    std::fprintf(stderr, "preflab: %s\n", e.what());
    return 1;
}

// The warnings a run's stored metrics show, replayed step by step through the
// monitor that watches live runs (for runs stored before warnings were kept).
std::vector<RunWarning> replayWarnings(MetricStore& metrics, int64_t runId) {
    RunWarningMonitor monitor;
    std::vector<RunWarning> out;
    std::vector<MetricSample> batch;
    auto flush = [&] {
        for (RunWarning& w : monitor.observe(batch)) out.push_back(std::move(w));
        batch.clear();
    };
    for (const MetricRow& m : metrics.forRun(runId)) {
        if (!batch.empty() && batch.back().step != m.step) flush();
        batch.push_back({m.step, m.name, m.value, m.createdMs});
    }
    flush();
    return out;
}

}  // namespace

int runPretrainCommand(const QStringList& args) {
    QCommandLineParser p;
    p.setApplicationDescription("Pretrain the built-in starter model on the task corpus (cached for later runs).");
    p.addHelpOption();
    p.addOption({"force", "Pretrain again even if a cached model exists."});
    p.addOption({"steps", "Training steps (default 600).", "n"});
    p.addOption({"data-dir", "Directory for models.", "dir"});
    p.process(QStringList{"preflab pretrain"} + args);
    try {
        const std::string dir = p.isSet("data-dir") ? p.value("data-dir").toStdString() : defaultDataDir();
        const std::string path = ensureStarterModel(dir, p.isSet("force"), p.value("steps").toLongLong());
        std::printf("%s\n", path.c_str());
    } catch (const std::exception& e) {
        return fail(e);
    }
    return 0;
}

int runImportCommand(const QStringList& args) {
    QCommandLineParser p;
    p.setApplicationDescription(
        "Import preferences, annotator labels or ratings. JSON Lines formats are recognised line by line from the keys: "
        "TRL standard {\"prompt\", \"chosen\", \"rejected\"} (strings); TRL implicit prompt {\"chosen\", \"rejected\"} as "
        "Anthropic's HH-RLHF (the prompt is the dialogue both share up to the final \"\\n\\nAssistant:\" turn); TRL "
        "conversational (prompt, chosen and rejected as lists of {role, content} messages); whole conversations in "
        "chosen and rejected as UltraFeedback binarized (optional score_chosen, score_rejected become ratings); "
        "annotator labels {\"prompt\", \"response_a\", \"response_b\", \"annotator\", \"label\"}; ratings {\"prompt\", "
        "\"response\", \"rating\"[, \"sampling_logprob\"]}. A .csv file holds ratings with a header row naming prompt, "
        "response, rating and optionally sampling_logprob.");
    p.addHelpOption();
    p.addPositionalArgument("file", "The .jsonl or .csv file.");
    p.addOption(databaseCommandLineOption());
    p.addOption({"skip-bad", "Store the good lines even if some lines are bad (bad ones are reported, never stored)."});
    p.addOption({"annotator", "Annotator name stored with the imported labels (trimmed, NFC; at most 64 characters, "
                              "no control characters).", "name"});
    p.addOption({"rating-range", "Ratings outside LO-HI are bad lines (default 1-7, a person's scale; it also bounds "
                                 "UltraFeedback's score_chosen/score_rejected, whose default is their 1-10).",
                 "LO-HI"});
    p.addOption({"model", "Count the pairs longer than this model's context (default: the built-in starter model). "
                          "They are stored whole; training cuts them by TRL's keep_end rule.", "model"});
    p.process(QStringList{"preflab import"} + args);
    if (p.positionalArguments().size() != 1) {
        std::fprintf(stderr, "preflab import: expected one file\n");
        return 2;
    }
    ImportOptions options;
    options.skipBadLines = p.isSet("skip-bad");
    options.annotator = p.value("annotator").toStdString();
    if (p.isSet("rating-range")) {
        RatingRange range;
        if (!RatingRange::parse(p.value("rating-range").toStdString(), range)) {
            std::fprintf(stderr, "preflab import: --rating-range takes LO-HI (two numbers, LO <= HI, e.g. 1-5), not '%s'\n",
                         qPrintable(p.value("rating-range")));
            return 2;
        }
        options.checks.ratings = options.checks.scores = range;
    }
    const std::string file = p.positionalArguments().front().toStdString();
    const std::string location = databaseOption(p);
    // A failed import leaves no database behind that it created: the file
    // is removed again (with SQLite's side files) unless something was stored.
    std::error_code ec;
    const bool newFile = !isPostgresUrl(location) && !location.empty() && !std::filesystem::exists(location, ec);
    std::unique_ptr<Database> db;
    auto dropNewDatabase = [&] {
        db.reset();
        if (!newFile) return;
        for (const char* suffix : {"", "-wal", "-shm", "-journal"}) std::filesystem::remove(location + suffix, ec);
    };
    try {
        // The input is checked before the database is touched.
        const QFileInfo input(QString::fromStdString(file));
        if (!input.exists()) throw StorageError(file + ": no such file; nothing was imported");
        if (!input.isReadable() || input.isDir()) throw StorageError(file + ": cannot open the file for reading");
        const bool csv = QString::fromStdString(file).endsWith(".csv", Qt::CaseInsensitive);
        db = Database::open(location);
        std::optional<PairContextCheck> context;
        std::optional<TruncationCounter> counter;
        if (!csv) context.emplace(p.value("model").toStdString()), counter.emplace(*context);
        const ImportReport r = csv ? importRatingsCsv(*db, file, options)
                                   : importPairsJsonl(*db, file, options, [&](const PairRow& pair) { counter->add(pair); });
        const int64_t longer = counter ? counter->finish() : 0;
        // Messages quote the file (a bad label, a key): no escape sequence reaches the terminal.
        std::fputs(terminalSafe(r.describe(), true).c_str(), stderr);
        if (!r.stored) {
            std::fprintf(stderr, "preflab import: %zu bad line(s) in %s; nothing was stored (use --skip-bad to store "
                                 "the good lines)\n", r.errors.size(), r.file.c_str());
            dropNewDatabase();
            return 1;
        }
        std::printf("Imported %s into %s: %lld pairs new, %lld merged, %lld unchanged; %lld labels stored (%lld already "
                    "held), %lld ratings stored (%lld already held)%s\n",
                    r.file.c_str(), db->path().c_str(), static_cast<long long>(r.pairsStored),
                    static_cast<long long>(r.pairsMerged), static_cast<long long>(r.pairsUnchanged),
                    static_cast<long long>(r.labelsStored), static_cast<long long>(r.labelsUnchanged),
                    static_cast<long long>(r.ratingsStored), static_cast<long long>(r.ratingsUnchanged),
                    r.errors.empty() ? "" : " (bad lines skipped, see above)");
        std::printf("Read %s\n", r.formats.empty() ? "no rows" : r.describeFormats().c_str());
        if (context && r.pairsStored > 0) {
            // "them": the new pairs (a pair already stored was counted when it was new).
            std::printf("%lld of them are longer than the %lld-token context of %s: they are stored whole, and training "
                        "cuts them (the prompt keeps its end, each response its start)\n",
                        static_cast<long long>(longer), static_cast<long long>(context->contextTokens()),
                        context->modelName().c_str());
        }
        return r.errors.empty() ? 0 : 1;
    } catch (const std::exception& e) {
        dropNewDatabase();
        return fail(e);
    }
}

int runExportCommand(const QStringList& args) {
    QCommandLineParser p;
    p.setApplicationDescription("Export labeled pairs (TRL JSON Lines), every annotator's labels, ratings and/or a "
                                "run's metrics (CSV).");
    p.addHelpOption();
    p.addOption(databaseCommandLineOption());
    p.addOption({"run", "Only this run (required for --metrics).", "id"});
    p.addOption({"pairs", "Write pairs whose label in force (--label-policy) is A or B to this .jsonl file.", "file"});
    p.addOption({"label-policy", "Which label of a pair --pairs takes: consensus (a reviewer's final label, else the "
                                 "majority of the annotators' latest labels, else the judges'; the default) or latest.",
                 "policy", "consensus"});
    p.addOption({"format", "Format of --pairs: trl (TRL standard, strings; the default) or conversational (TRL "
                           "conversational message lists; rows imported as conversations come back as they were read).",
                 "format", "trl"});
    p.addOption({"labels", "Write each annotator's latest label of each pair to this .jsonl file (prompt, response_a, "
                           "response_b, annotator, label; a judge's labels are named by the judge).", "file"});
    p.addOption({"ratings", "Write each rated response's latest rating to this file (.csv, else JSON Lines).", "file"});
    p.addOption({"metrics", "Write the run's metrics to this .csv file.", "file"});
    p.addOption({"unpaired", "Write every unpaired label (thumbs up or down on one response) to this .jsonl file in TRL's "
                             "unpaired format (prompt, completion, label; annotator where given).", "file"});
    p.process(QStringList{"preflab export"} + args);
    if (!p.isSet("pairs") && !p.isSet("metrics") && !p.isSet("labels") && !p.isSet("ratings") && !p.isSet("unpaired")) {
        std::fprintf(stderr, "preflab export: give --pairs FILE, --labels FILE, --ratings FILE, --unpaired FILE and/or "
                             "--metrics FILE\n");
        return 2;
    }
    if (p.isSet("metrics") && !p.isSet("run")) {
        std::fprintf(stderr, "preflab export: --metrics needs --run ID\n");
        return 2;
    }
    const QString format = p.value("format");
    if (format != "trl" && format != "conversational") {
        std::fprintf(stderr, "preflab export: --format is trl or conversational, not '%s'\n", qPrintable(format));
        return 2;
    }
    std::optional<int64_t> run;
    if (!idOption(p, "export", "run", run)) return 2;
    int toStdout = 0;
    for (const char* target : {"pairs", "labels", "ratings", "metrics", "unpaired"}) {
        if (p.isSet(target)) toStdout += isStandardOutput(p.value(target).toStdString());
    }
    if (toStdout > 1) {
        std::fprintf(stderr, "preflab export: only one of --pairs, --labels, --ratings, --unpaired and --metrics can go to "
                             "standard output\n");
        return 2;
    }
    // With a file on standard output, what the command says goes to stderr.
    FILE* report = toStdout ? stderr : stdout;
    try {
        const LabelPolicy policy = labelPolicyFromName(p.value("label-policy").toStdString());
        auto db = Database::open(databaseOption(p), Database::Mode::OpenExisting);
        if (p.isSet("pairs")) {
            const int64_t n = exportPairsJsonl(*db, p.value("pairs").toStdString(), run,
                                               format == "conversational" ? PairExportFormat::Conversational
                                                                          : PairExportFormat::TrlStandard,
                                               policy);
            std::fprintf(report, "Wrote %lld pairs to %s\n", static_cast<long long>(n), qPrintable(p.value("pairs")));
        }
        if (p.isSet("labels")) {
            const int64_t n = exportLabelsJsonl(*db, p.value("labels").toStdString(), run);
            std::fprintf(report, "Wrote %lld labels to %s\n", static_cast<long long>(n), qPrintable(p.value("labels")));
        }
        if (p.isSet("unpaired")) {
            const int64_t n = exportUnpairedJsonl(*db, p.value("unpaired").toStdString());
            std::fprintf(report, "Wrote %lld unpaired labels to %s\n", static_cast<long long>(n), qPrintable(p.value("unpaired")));
        }
        if (p.isSet("ratings")) {
            const int64_t n = exportRatings(*db, p.value("ratings").toStdString(), run);
            std::fprintf(report, "Wrote %lld ratings to %s\n", static_cast<long long>(n), qPrintable(p.value("ratings")));
        }
        if (p.isSet("metrics")) {
            const int64_t n = exportMetricsCsv(*db, p.value("metrics").toStdString(), *run);
            std::fprintf(report, "Wrote %lld metric values to %s\n", static_cast<long long>(n), qPrintable(p.value("metrics")));
        }
    } catch (const std::exception& e) {
        return fail(e);
    }
    return 0;
}

int runRunsCommand(const QStringList& args) {
    QCommandLineParser p;
    p.setApplicationDescription("List the runs of a database with their headline metrics.");
    p.addHelpOption();
    p.addOption(databaseCommandLineOption());
    p.addOption({"json", "Machine-readable output."});
    p.addOption({"warnings", "Also list each run's warnings (mode collapse, KL runaway, ...); for a run stored before "
                             "warnings were kept, those its stored metrics show."});
    p.process(QStringList{"preflab runs"} + args);
    try {
        auto db = Database::open(databaseOption(p), Database::Mode::OpenExisting);
        const std::vector<RunSummary> runs = RunStore(*db).list();
        if (p.isSet("json")) {
            QJsonArray arr;
            for (const RunSummary& s : runs) {
                QJsonObject o;
                o["id"] = static_cast<qint64>(s.run.id);
                o["name"] = QString::fromStdString(s.run.name);
                o["status"] = QString::fromStdString(s.run.status);
                o["last_step"] = static_cast<qint64>(s.run.lastStep);
                o["created_ms"] = static_cast<qint64>(s.run.createdMs);
                o["pairs"] = static_cast<qint64>(s.pairs);
                o["labels"] = static_cast<qint64>(s.labels);
                o["code_version"] = QString::fromStdString(s.run.codeVersion);
                o["config"] = QJsonDocument::fromJson(QByteArray::fromStdString(s.run.configJson)).object();
                QJsonObject m;
                for (const auto& [name, value] : s.latest) m[QString::fromStdString(name)] = value;
                o["metrics"] = m;
                QJsonArray warnings;
                for (const RunEventRow& e : MetricStore(*db).events(s.run.id)) {
                    warnings.append(QJsonObject{{"step", static_cast<qint64>(e.step)},
                                                {"kind", QString::fromStdString(e.kind)},
                                                {"message", QString::fromStdString(e.message)},
                                                {"advice", QString::fromStdString(e.advice)}});
                }
                o["warnings"] = warnings;
                arr.append(o);
            }
            std::printf("%s\n", QJsonDocument(arr).toJson(QJsonDocument::Indented).constData());
            return 0;
        }
        std::printf("%-4s %-10s %-9s %7s %7s %8s %8s %8s %8s  %s\n", "id", "name", "status", "step", "pairs", "loss",
                    "margin", "KL", "gold", "created");
        for (const RunSummary& s : runs) {
            auto metric = [&](const char* name) {
                const auto it = s.latest.find(name);
                return it == s.latest.end() ? QStringLiteral("-") : QString::number(it->second, 'f', 3);
            };
            std::printf("%-4lld %-10s %-9s %7lld %7lld %8s %8s %8s %8s  %s\n", static_cast<long long>(s.run.id),
                        s.run.name.substr(0, 10).c_str(), s.run.status.c_str(), static_cast<long long>(s.run.lastStep),
                        static_cast<long long>(s.pairs), qPrintable(metric(metricKey(Metric::Loss))),
                        qPrintable(metric(metricKey(Metric::RewardsMargins))), qPrintable(metric(metricKey(Metric::ObjectiveKl))),
                        qPrintable(metric(metricKey(Metric::GoldReward))),
                        qPrintable(QDateTime::fromMSecsSinceEpoch(s.run.createdMs).toString("yyyy-MM-dd hh:mm")));
            if (!p.isSet("warnings")) continue;
            MetricStore metrics(*db);
            std::vector<RunEventRow> stored = metrics.events(s.run.id);
            const bool replayed = stored.empty();
            if (replayed) {
                for (const RunWarning& w : replayWarnings(metrics, s.run.id)) {
                    stored.push_back({s.run.id, w.step, w.kind, w.message, w.advice, 0});
                }
            }
            for (const RunEventRow& e : stored) {
                std::printf("     warning at step %lld%s: %s\n       Try: %s\n", static_cast<long long>(e.step),
                            replayed ? " (from the stored metrics)" : "", e.message.c_str(), e.advice.c_str());
            }
        }
        if (runs.empty()) std::printf("(no runs yet: try `preflab run`)\n");
    } catch (const std::exception& e) {
        return fail(e);
    }
    return 0;
}

}  // namespace preflab

namespace preflab {

int runAgreementCommand(const QStringList& args) {
    QCommandLineParser p;
    p.setApplicationDescription("Agreement between annotators on the pairs they both labelled: Krippendorff's alpha "
                                "(nominal over a, b, tie and both_bad; skips are missing values) and Cohen's kappa for "
                                "each two annotators. Each annotator's latest label of a pair counts.");
    p.addHelpOption();
    p.addOption(databaseCommandLineOption());
    p.addOption({"run", "Only this run's pairs (default: every pair, imported ones included).", "id"});
    p.addOption({"json", "Print one JSON object."});
    p.process(QStringList{"preflab agreement"} + args);
    std::optional<int64_t> run;
    if (!idOption(p, "agreement", "run", run)) return 2;
    try {
        auto db = Database::open(databaseOption(p), Database::Mode::OpenExisting);
        std::vector<CodedValue> values;
        std::map<std::string, int64_t> perAnnotator;
        int64_t labels = 0;
        PreferenceStore(*db).forEachAnnotatorLabel(run, [&](int64_t pair, const std::string& annotator, const std::string& choice) {
            ++labels;
            ++perAnnotator[annotator];
            if (choice != "skip") values.push_back({pair, annotator, choice});
        });
        // Each annotator against each judge whose verdicts exist on their pairs.
        std::vector<CodedValue> withJudges = values;
        std::map<std::string, int64_t> judges;
        PreferenceStore(*db).forEachJudgeVerdict(run, [&](int64_t pair, const std::string& judge, const std::string& choice) {
            ++judges[judge];
            withJudges.push_back({pair, "judge:" + judge, choice});
        });
        const AlphaResult alpha = krippendorffAlphaNominal(values);
        const auto kappas = pairwiseKappa(values);
        // How each annotator labels (speed, position bias), over the same labels.
        const std::vector<AnnotatorPace> paces = annotatorPace(annotatorLabelTimings(*db, run));
        auto number = [](double v) { return std::isnan(v) ? QJsonValue() : QJsonValue(v); };
        if (p.isSet("json")) {
            QJsonObject kappa, kappaUnits, annotators;
            for (const auto& [pairName, k] : kappas) {
                kappa[QString::fromStdString(pairName)] = number(k.kappa);
                kappaUnits[QString::fromStdString(pairName)] = static_cast<qint64>(k.units);
            }
            for (const auto& [name, count] : perAnnotator) annotators[QString::fromStdString(name)] = static_cast<qint64>(count);
            QJsonObject byJudge;
            for (const auto& [judge, count] : judges) {
                QJsonObject each;
                for (const auto& [name, n] : perAnnotator) {
                    const KappaResult k = cohenKappa(withJudges, name, "judge:" + judge);
                    if (k.units == 0) continue;
                    each[QString::fromStdString(name)] = QJsonObject{{"kappa", number(k.kappa)},
                                                                     {"agreement", k.observedAgreement},
                                                                     {"units", static_cast<qint64>(k.units)}};
                }
                byJudge[QString::fromStdString(judge)] = each;
            }
            QJsonObject quality;
            for (const AnnotatorPace& a : paces) {
                quality[QString::fromStdString(a.annotator)] =
                    QJsonObject{{"timed_labels", static_cast<qint64>(a.timed)},
                                {"labels_per_hour", number(a.labelsPerHour)},
                                {"median_seconds", number(a.medianSeconds)},
                                {"fast_share", number(a.fastShare)},
                                {"first_shown_labels", static_cast<qint64>(a.sided)},
                                {"first_shown_share", number(a.firstShownShare)},
                                {"gold_labels", static_cast<qint64>(a.goldLabels)},
                                {"gold_correct", static_cast<qint64>(a.goldCorrect)},
                                {"gold_accuracy", number(a.goldAccuracy)},
                                {"gold_accuracy_interval",
                                 QJsonArray{number(a.goldInterval.low), number(a.goldInterval.high)}}};
            }
            const QJsonObject o{{"krippendorff_alpha", number(alpha.alpha)},
                                {"annotator_quality", quality},
                                {"fast_label_seconds", kFastLabelSeconds},
                                {"judges", byJudge},
                                {"units", static_cast<qint64>(alpha.units)},
                                {"values", static_cast<qint64>(alpha.values)},
                                {"labels", static_cast<qint64>(labels)},
                                {"annotators", annotators},
                                {"cohen_kappa", kappa},
                                {"cohen_kappa_units", kappaUnits}};
            std::printf("%s\n", QJsonDocument(o).toJson(QJsonDocument::Compact).constData());
            return 0;
        }
        std::printf("%lld labels by %zu annotators in %s\n", static_cast<long long>(labels), perAnnotator.size(),
                    db->path().c_str());
        if (std::isnan(alpha.alpha)) {
            std::printf("Krippendorff's alpha: undefined (%lld pairs with two or more labels)\n",
                        static_cast<long long>(alpha.units));
        } else {
            std::printf("Krippendorff's alpha (nominal): %.4f over %lld pairs with two or more labels (%lld labels)\n",
                        alpha.alpha, static_cast<long long>(alpha.units), static_cast<long long>(alpha.values));
        }
        for (const auto& [pairName, k] : kappas) {
            std::printf("Cohen's kappa %-24s %s on %lld shared pairs\n", terminalSafe(pairName).c_str(),
                        std::isnan(k.kappa) ? "undefined" : QByteArray::number(k.kappa, 'f', 4).constData(),
                        static_cast<long long>(k.units));
        }
        for (const AnnotatorPace& a : paces) {
            if (a.timed == 0 && a.sided == 0 && a.goldLabels == 0) continue;  // nothing known of how they labelled
            std::printf("%s: ", terminalSafe(a.annotator).c_str());
            if (a.timed > 0) {
                // Labels per hour is undefined when every timed label took 0 s
                // (answers piped in faster than a millisecond).
                std::printf("%s labels per hour of labeling, median %.1f s, %.0f %% under %.0f s (%lld timed)",
                            std::isnan(a.labelsPerHour) ? "-" : QByteArray::number(a.labelsPerHour, 'f', 0).constData(),
                            a.medianSeconds, 100.0 * a.fastShare, kFastLabelSeconds, static_cast<long long>(a.timed));
            }
            if (a.sided > 0) {
                std::printf("%spicked the side shown first in %.0f %% of %lld A/B labels", a.timed > 0 ? "; " : "",
                            100.0 * a.firstShownShare, static_cast<long long>(a.sided));
            }
            if (a.goldLabels > 0) {
                std::printf("%s%lld of %lld gold pairs right (%.0f %%, 95 %% Wilson interval %.0f-%.0f %%)",
                            a.timed > 0 || a.sided > 0 ? "; " : "", static_cast<long long>(a.goldCorrect),
                            static_cast<long long>(a.goldLabels), 100.0 * a.goldAccuracy, 100.0 * a.goldInterval.low,
                            100.0 * a.goldInterval.high);
            }
            std::printf("\n");
        }
        for (const auto& [judge, count] : judges) {
            for (const auto& [name, n] : perAnnotator) {
                const KappaResult k = cohenKappa(withJudges, name, "judge:" + judge);
                if (k.units == 0) continue;
                std::printf("%s with the %s: kappa %s, agree on %.0f %% of %lld pairs\n", terminalSafe(name).c_str(),
                            labelSourceDisplayName(judge).c_str(),
                            std::isnan(k.kappa) ? "undefined" : QByteArray::number(k.kappa, 'f', 4).constData(),
                            100.0 * k.observedAgreement, static_cast<long long>(k.units));
            }
        }
        return 0;
    } catch (const std::exception& e) {
        return fail(e);
    }
}

int runAdjudicateCommand(const QStringList& args) {
    QCommandLineParser p;
    p.setApplicationDescription("Without --pair: list the pairs on which annotators disagree (each annotator's latest "
                                "label; skips aside), with any final label. With --pair ID --label L: store a reviewer's "
                                "final label, which training then uses; agreement counts only the annotators.");
    p.addHelpOption();
    p.addOption(databaseCommandLineOption());
    p.addOption({"run", "Only this run's pairs (default: every pair, imported ones included).", "id"});
    p.addOption({"json", "List as JSON Lines, one pair per line."});
    p.addOption({"pair", "The pair to settle (its id, as listed).", "id"});
    p.addOption({"label", "The final label: a, b, tie or both_bad.", "label"});
    p.addOption({"reviewer", "The reviewer's name (default: reviewer).", "name", "reviewer"});
    p.process(QStringList{"preflab adjudicate"} + args);
    if (p.isSet("pair") != p.isSet("label")) {
        std::fprintf(stderr, "preflab adjudicate: --pair and --label go together\n");
        return 2;
    }
    try {
        auto db = Database::open(databaseOption(p), Database::Mode::OpenExisting);
        PreferenceStore store(*db);
        if (p.isSet("pair")) {
            const std::string label = p.value("label").toStdString();
            if (label != "a" && label != "b" && label != "tie" && label != "both_bad") {
                std::fprintf(stderr, "preflab adjudicate: --label is a, b, tie or both_bad, not '%s'\n", label.c_str());
                return 2;
            }
            bool ok = false;
            const int64_t pair = p.value("pair").toLongLong(&ok);
            if (!ok) {
                std::fprintf(stderr, "preflab adjudicate: --pair takes a pair id, not '%s'\n", qPrintable(p.value("pair")));
                return 2;
            }
            Transaction tx(db->connection());
            store.insertAdjudication(pair, label, p.value("reviewer").toStdString(), nowMs());
            tx.commit();
            std::printf("Pair %lld: final label %s by %s\n", static_cast<long long>(pair), label.c_str(),
                        terminalSafe(p.value("reviewer").toStdString()).c_str());
            return 0;
        }
        std::optional<int64_t> run;
        if (p.isSet("run")) {
            bool numeric = false;
            run = p.value("run").toLongLong(&numeric);
            if (!numeric) {
                std::fprintf(stderr, "preflab adjudicate: --run takes a run id, not '%s'\n", qPrintable(p.value("run")));
                return 2;
            }
        }
        int64_t count = 0, open = 0;
        store.forEachDisagreement(run, [&](const Disagreement& d) {
            ++count;
            open += d.finalChoice.empty();
            if (p.isSet("json")) {
                QJsonObject labels;
                for (const auto& [annotator, choice] : d.labels) labels[QString::fromStdString(annotator)] = QString::fromStdString(choice);
                QJsonObject o{{"pair", static_cast<qint64>(d.pairId)},
                              {"prompt", QString::fromStdString(d.prompt)},
                              {"response_a", QString::fromStdString(d.responseA)},
                              {"response_b", QString::fromStdString(d.responseB)},
                              {"labels", labels},
                              {"final", d.finalChoice.empty() ? QJsonValue() : QJsonValue(QString::fromStdString(d.finalChoice))},
                              {"reviewer", d.reviewer.empty() ? QJsonValue() : QJsonValue(QString::fromStdString(d.reviewer))}};
                std::printf("%s\n", QJsonDocument(o).toJson(QJsonDocument::Compact).constData());
                return;
            }
            // Names and the prompt as the file had them, but never a
            // terminal's control sequence (terminalSafe).
            std::string labels;
            for (const auto& [annotator, choice] : d.labels) {
                labels += (labels.empty() ? "" : ", ") + terminalSafe(annotator) + ": " + choice;
            }
            std::string prompt = terminalSafe(QString::fromStdString(d.prompt).simplified().left(60).toStdString());
            std::printf("pair %-6lld %-62s %s  -> %s\n", static_cast<long long>(d.pairId), prompt.c_str(), labels.c_str(),
                        d.finalChoice.empty() ? "open" : (d.finalChoice + " by " + terminalSafe(d.reviewer)).c_str());
        });
        if (!p.isSet("json")) {
            std::printf("%lld pairs with disagreeing annotators, %lld open\n", static_cast<long long>(count),
                        static_cast<long long>(open));
        }
        return 0;
    } catch (const std::exception& e) {
        return fail(e);
    }
}

}  // namespace preflab
