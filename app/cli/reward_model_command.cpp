// preflab train-rm: trains a reward model (a scalar head on the reward base,
// the starter or a given model) on stored or JSONL preferences, or on pairs
// it samples from the starter and labels with the built-in task's true reward
// (--task-pairs N), and writes it as a model file that
// `--judge reward_model --reward-model FILE` and PPO use. Its defaults are the
// best design measured for issue 28 (docs/methods.md): the reward base, its
// last two blocks and the head trained, warm-up and cosine decay: 0.816 on
// 1000 held-out pairs in 462 s, against 0.771 for the starter's one block.
#include "app/cli/commands.h"
#include "core/values/proportion_interval.h"
#include "core/values/metric_names.h"
#include "app/cli/starter_cache.h"
#include "core/values/model_names.h"
#include "app/cli/terminal_progress.h"
#include "app/session/offline_pairs.h"
#include "core/judges/reward_model.h"
#include "core/task/dataset_sampler.h"
#include "core/task/reward_base_model.h"
#include "core/task/toy_world_task.h"
#include "core/runtime/atomic_file.h"
#include "storage/data_paths.h"
#include "storage/database.h"

#include <QCommandLineParser>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>

namespace preflab {
namespace {

// Held-out accuracy by which part of the true reward differs between the
// two sides: every pair counts under each part it differs in, and under
// "only" when that is the one part (a reward model blind to a part errs there).
QJsonArray accuracyByComponent(const std::vector<OfflinePair>& pairs, const std::vector<bool>& correct) {
    const ToyWorldTask task;
    struct Tally {
        int64_t pairs = 0, right = 0, onlyPairs = 0, onlyRight = 0;
    };
    std::map<RewardComponent, Tally> by;
    for (size_t i = 0; i < pairs.size() && i < correct.size(); ++i) {
        const TaskPrompt prompt = task.parsePrompt(pairs[i].prompt);
        const std::vector<RewardComponent> differ =
            differingComponents(task.score(prompt, pairs[i].chosen), task.score(prompt, pairs[i].rejected));
        for (RewardComponent c : differ) {
            Tally& t = by[c];
            ++t.pairs;
            t.right += correct[i] ? 1 : 0;
            if (differ.size() == 1) {
                ++t.onlyPairs;
                t.onlyRight += correct[i] ? 1 : 0;
            }
        }
    }
    QJsonArray out;
    for (RewardComponent c : rewardComponents()) {
        const Tally t = by[c];
        auto share = [](int64_t k, int64_t n) { return n > 0 ? QJsonValue(static_cast<double>(k) / static_cast<double>(n)) : QJsonValue(); };
        out.append(QJsonObject{{"component", rewardComponentName(c)},
                               {"pairs", static_cast<qint64>(t.pairs)},
                               {"accuracy", share(t.right, t.pairs)},
                               {"only_this_differs_pairs", static_cast<qint64>(t.onlyPairs)},
                               {"only_this_differs_accuracy", share(t.onlyRight, t.onlyPairs)}});
    }
    return out;
}

}  // namespace

int runTrainRewardModelCommand(const QStringList& args) {
    QCommandLineParser p;
    p.setApplicationDescription(
        "Train a reward model (Bradley-Terry, scalar head on the language model) on preferences. With --task-pairs it "
        "is measured on --held-out-pairs pairs sampled with another seed, at its last step, which is the model kept; "
        "otherwise at least 10% of the pairs (and at least 200 where there are 400) are held out and the checkpoint "
        "with the best held-out accuracy is kept.");
    p.addHelpOption();
    p.addOption({"pairs", "db (every stored preference), db:RUN, or a TRL .jsonl file (default: db).", "source", "db"});
    p.addOption({"task-pairs",
                 "Instead of --pairs: sample N pairs from the starter model (two responses per task prompt, temperature "
                 "1) and label them with the built-in task's true reward; ties are dropped.",
                 "n"});
    p.addOption({"held-out-pairs",
                 "With --task-pairs: measure on this many pairs sampled with another seed (pairs also in the "
                 "training set are dropped), train on every --task-pairs pair, and keep the last step's model; 0 holds "
                 "out part of the training pairs instead and keeps the best checkpoint on them.",
                 "n", "1000"});
    p.addOption({"save-pairs", "With --task-pairs: also write the sampled pairs as TRL JSON Lines (with their "
                               "true-reward gap as \"gold_gap\"), for --pairs or for inspection.",
                 "file"});
    p.addOption({"metrics", "Write the training curves (rm/loss, rm/accuracy, eval/rm_loss, eval/rm_accuracy, ...) "
                            "as CSV: step,name,value.",
                 "file.csv"});
    p.addOption({"base",
                 QStringLiteral("The model the reward model starts from: '%1' (a larger model pretrained once on the "
                                "task's text and cached, as the starter is), '%2' or a model file.")
                     .arg(kRewardBaseModelName, kStarterModelName),
                 "model", kRewardBaseModelName});
    p.addOption({"base-width", "With --base reward-base: its model width (d_model; the MLP is 4 times it).", "d"});
    p.addOption({"base-layers", "With --base reward-base: its transformer blocks.", "n"});
    p.addOption({"base-pretrain-steps", "With --base reward-base: its pretraining steps.", "n"});
    const RewardModelSpec defaults = taskRewardModelSpec();
    p.addOption({"lr-decay", "Warm up over 5% of the steps, then decay the learning rate to 10% (cosine): yes or no.",
                 "yes|no", defaults.lrDecay ? "yes" : "no"});
    p.addOption({"weight-decay", "AdamW weight decay on the trained weights (toward zero).", "value",
                 QString::number(defaults.weightDecay)});
    p.addOption({"base-decay", "Decay of the trained blocks toward the base's own weights (L2-SP), decoupled: after each "
                               "step w -= lr * value * (w - w_base).",
                 "value", QString::number(defaults.baseDecay)});
    p.addOption({"out", "Where to write it (default: <data dir>/models/reward-model.pt).", "file"});
    p.addOption({"steps", "Gradient steps.", "n", QString::number(defaults.steps)});
    p.addOption({"batch-size", "Pairs per step.", "n", QString::number(defaults.batchSize)});
    p.addOption({"lr", "Learning rate.", "value", QString::number(defaults.lr)});
    p.addOption({"pooling", "Where the score is read: eos (the closing EOS token), last (the last token before it), "
                            "mean or sum (over the response's tokens), or sentences (the sum over its sentence ends and EOS).",
                 "rule", rewardPoolingName(defaults.pooling)});
    p.addOption({"train-layers", "Train the head with the last K transformer blocks (0: the head alone on the frozen "
                                 "model); -1 trains every weight.",
                 "k", QString::number(defaults.trainLayers)});
    p.addOption({"seed", "Seed of the sampled pairs, the split and the order.", "n", QString::number(defaults.seed)});
    p.addOption({"json", "Print one JSON object with the results as the last line of standard output; progress goes to "
                         "standard error."});
    p.addOption(databaseCommandLineOption());
    p.addOption({"data-dir", "Directory for models.", "dir"});
    p.process(QStringList{"preflab train-rm"} + args);
    const bool json = p.isSet("json");
    std::FILE* info = json ? stderr : stdout;
    const std::string dataDir = p.isSet("data-dir") ? p.value("data-dir").toStdString() : defaultDataDir();
    const std::string dbPath = p.isSet("db") ? p.value("db").toStdString() : dataDir + "/preflab.db";
    RewardModelSpec spec = defaults;
    bool ok1 = false, ok2 = false, ok3 = false, ok4 = false, ok5 = false, ok6 = true;
    spec.steps = p.value("steps").toLongLong(&ok1);
    spec.batchSize = p.value("batch-size").toLongLong(&ok2);
    spec.lr = p.value("lr").toDouble(&ok3);
    spec.seed = p.value("seed").toULongLong(&ok4);
    spec.trainLayers = p.value("train-layers").toLongLong(&ok5);
    const long long taskPairs = p.isSet("task-pairs") ? p.value("task-pairs").toLongLong(&ok6) : 0;
    bool ok7 = false;
    const long long heldOutPairs = p.value("held-out-pairs").toLongLong(&ok7);
    ok6 = ok6 && ok7 && heldOutPairs >= 0;
    if (!ok1 || !ok2 || !ok3 || !ok4 || !ok5 || !ok6 || spec.steps < 1 || spec.batchSize < 1 || !(spec.lr > 0) ||
        (p.isSet("task-pairs") && taskPairs < 2)) {
        std::fprintf(stderr, "preflab train-rm: --steps, --batch-size, --task-pairs (at least 2) and --seed take positive "
                             "integers, --lr a positive number\n");
        return 2;
    }
    if (!parseRewardPooling(p.value("pooling").toStdString(), &spec.pooling)) {
        std::fprintf(stderr, "preflab train-rm: --pooling is eos, last, mean, sum or sentences, not '%s'\n",
                     qPrintable(p.value("pooling")));
        return 2;
    }
    bool okDecay = false, okBaseDecay = false;
    spec.weightDecay = p.value("weight-decay").toDouble(&okDecay);
    spec.baseDecay = p.value("base-decay").toDouble(&okBaseDecay);
    const QString decay = p.value("lr-decay");
    if (!okDecay || !okBaseDecay || spec.weightDecay < 0 || spec.baseDecay < 0 || (decay != "yes" && decay != "no")) {
        std::fprintf(stderr, "preflab train-rm: --lr-decay is yes or no, --weight-decay and --base-decay numbers >= 0\n");
        return 2;
    }
    spec.lrDecay = decay == "yes";
    PretrainSpec baseSpec = rewardBasePretrainSpec();
    for (const auto& [name, field] : std::vector<std::pair<const char*, int64_t*>>{
             {"base-width", &baseSpec.model.dModel}, {"base-layers", &baseSpec.model.nLayers}, {"base-pretrain-steps", &baseSpec.steps}}) {
        if (!p.isSet(name)) continue;
        bool okField = false;
        *field = p.value(name).toLongLong(&okField);
        if (!okField || *field < 1) {
            std::fprintf(stderr, "preflab train-rm: --%s takes a positive integer\n", name);
            return 2;
        }
    }
    baseSpec.model.dFF = 4 * baseSpec.model.dModel;
    if (!baseSpec.model.validationError().empty()) {
        std::fprintf(stderr, "preflab train-rm: the reward base's shape: %s\n", baseSpec.model.validationError().c_str());
        return 2;
    }
    if (taskPairs > 0 && p.isSet("pairs")) {
        std::fprintf(stderr, "preflab train-rm: give --pairs or --task-pairs, not both\n");
        return 2;
    }
    const std::string out = p.isSet("out") ? p.value("out").toStdString() : dataDir + "/models/reward-model.pt";
    try {
        const auto t0 = std::chrono::steady_clock::now();
        const std::string base = p.value("base").toStdString();
        const bool needStarter = taskPairs > 0 || isStarterModel(base);
        const std::string starter = needStarter ? ensureStarterModel(dataDir) : std::string();
        double basePretrainSeconds = 0;  // the base's one-time pretraining, when it ran now (not in `seconds`)
        if (base == kRewardBaseModelName) {
            spec.basePath = ensureRewardBase(dataDir, baseSpec, info, &basePretrainSeconds);
        } else {
            spec.basePath = resolveModel(base, starter).path;
        }
        const auto tTrain = std::chrono::steady_clock::now();  // the 600 s budget counts from here
        QString source = p.value("pairs");
        double sampleSeconds = 0;  // sampling the task pairs only (not pretraining, not loading)
        int64_t duplicatesDropped = 0;  // held-out pairs dropped for repeating a training pair
        if (taskPairs > 0) {
            const auto ts = std::chrono::steady_clock::now();
            TerminalProgress line(info);
            DatasetSpec dataset;
            dataset.pairs = taskPairs;
            dataset.seed = spec.seed;
            const TaskDataset sampled = sampleTaskDataset(starter, dataset, [&](int64_t n) {
                line.show(QStringLiteral("sampling task pairs %1 %2/%3")
                              .arg(TerminalProgress::bar(static_cast<double>(n) / static_cast<double>(taskPairs)))
                              .arg(n)
                              .arg(taskPairs),
                          n == taskPairs);
            });
            line.done();
            sampleSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - ts).count();
            spec.pairs = sampled.pairs;
            spec.goldGaps = sampled.goldGaps;
            if (heldOutPairs > 0) {
                // Another seed's pairs; the task's world is small, so some
                // repeat a training pair exactly: those are not held out.
                DatasetSpec other = dataset;
                other.pairs = heldOutPairs;
                other.seed = spec.seed + 1000003;
                TerminalProgress held(info);
                const TaskDataset measured = sampleTaskDataset(starter, other, [&](int64_t n) {
                    held.show(QStringLiteral("sampling held-out pairs (seed %1) %2 %3/%4")
                                  .arg(other.seed)
                                  .arg(TerminalProgress::bar(static_cast<double>(n) / static_cast<double>(heldOutPairs)))
                                  .arg(n)
                                  .arg(heldOutPairs),
                              n == heldOutPairs);
                });
                held.done();
                duplicatesDropped = setSeparateHeldOut(spec, measured.pairs, measured.goldGaps);
                sampleSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - ts).count();
            }
            source = QStringLiteral("the starter's samples, labelled by the task's true reward");
            if (p.isSet("save-pairs")) {
                AtomicFile file(p.value("save-pairs").toStdString());
                for (size_t i = 0; i < sampled.pairs.size(); ++i) {
                    const OfflinePair& g = sampled.pairs[i];
                    const QJsonObject o{{"prompt", QString::fromStdString(g.prompt)},
                                        {"chosen", QString::fromStdString(g.chosen)},
                                        {"rejected", QString::fromStdString(g.rejected)},
                                        {"gold_gap", sampled.goldGaps[i]}};
                    const QByteArray line = QJsonDocument(o).toJson(QJsonDocument::Compact) + '\n';
                    file.write(line.constData(), static_cast<size_t>(line.size()));
                }
                if (!file.commit()) {
                    throw std::runtime_error(p.value("save-pairs").toStdString() + ": " + file.error());
                }
            }
        } else {
            auto db = Database::open(dbPath);
            spec.pairs = loadOfflinePairs(p.value("pairs").toStdString(), *db);
        }
        std::fprintf(info, "Training a reward model on %zu pairs from %s (pooling %s)\n", spec.pairs.size(),
                     qPrintable(source), rewardPoolingName(spec.pooling));
        TerminalProgress line(info);
        double lastLoss = 0, heldOut = 0;
        QByteArray curves = "step,name,value\n";
        const RewardModelReport r = trainRewardModel(spec, out, [&](const std::vector<MetricSample>& m) {
            int64_t step = 0;
            for (const MetricSample& s : m) {
                curves += QByteArray::number(static_cast<qint64>(s.step)) + ',' + QByteArray::fromStdString(s.name) + ',' +
                          QByteArray::number(s.value, 'g', 9) + '\n';
                step = s.step;
                if (s.name == metricKey(Metric::RmLoss)) lastLoss = s.value;
                if (s.name == metricKey(Metric::EvalRmAccuracy)) heldOut = s.value;
            }
            line.show(QStringLiteral("train-rm %1 %2/%3  loss %4  held-out accuracy %5")
                          .arg(TerminalProgress::bar(static_cast<double>(step) / static_cast<double>(spec.steps)))
                          .arg(step)
                          .arg(spec.steps)
                          .arg(lastLoss, 0, 'f', 3)
                          .arg(heldOut, 0, 'f', 3),
                      step == spec.steps);
        });
        line.done();
        if (p.isSet("metrics")) {
            const std::string error = writeFileAtomically(p.value("metrics").toStdString(),
                                                          std::string_view(curves.constData(), static_cast<size_t>(curves.size())));
            if (!error.empty()) throw std::runtime_error(p.value("metrics").toStdString() + ": " + error);
        }
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - tTrain).count();
        const double setupSeconds = std::chrono::duration<double>(tTrain - t0).count();
        const bool separate = !spec.heldOut.empty();
        const auto [low, high] = wilsonInterval95(r.heldOutAccuracy, static_cast<double>(r.heldOutPairs));
        if (separate) {
            std::fprintf(info,
                         "Reward model written to %s in %.0f s: held-out accuracy %.3f (95 %% Wilson interval %.3f to %.3f) "
                         "at the last step on %lld pairs sampled with another seed (%lld repeating a training pair "
                         "dropped), training accuracy %.3f on %lld pairs, mean held-out margin %.3f\n",
                         out.c_str(), seconds, r.heldOutAccuracy, low, high, static_cast<long long>(r.heldOutPairs),
                         static_cast<long long>(duplicatesDropped), r.trainAccuracy, static_cast<long long>(r.trainPairs),
                         r.heldOutMargin);
        } else {
            std::fprintf(info,
                         "Reward model written to %s in %.0f s: held-out accuracy %.3f on %lld pairs (best of the "
                         "evaluations, step %lld; %.3f at the last step), training accuracy %.3f on %lld pairs, mean held-out margin %.3f\n",
                         out.c_str(), seconds, r.heldOutAccuracy, static_cast<long long>(r.heldOutPairs),
                         static_cast<long long>(r.bestStep), r.lastHeldOutAccuracy, r.trainAccuracy, static_cast<long long>(r.trainPairs),
                         r.heldOutMargin);
        }
        // A separate held-out set exists only with --task-pairs: the task's pairs.
        const QJsonArray components = separate ? accuracyByComponent(spec.heldOut, r.heldOutCorrect) : QJsonArray();
        for (const QJsonValue& v : components) {
            const QJsonObject c = v.toObject();
            if (c.value("pairs").toInt() == 0) continue;
            std::fprintf(info, "  %-10s differs in %4d held-out pairs: accuracy %.3f (the only difference in %d: %s)\n",
                         qPrintable(c.value("component").toString()), c.value("pairs").toInt(), c.value("accuracy").toDouble(),
                         c.value("only_this_differs_pairs").toInt(),
                         c.value("only_this_differs_accuracy").isNull()
                             ? "-"
                             : qPrintable(QString::number(c.value("only_this_differs_accuracy").toDouble(), 'f', 3)));
        }
        for (const GapAccuracy& g : r.byGap) {
            std::fprintf(info, "  true-reward gap %.1f%s: accuracy %.3f on %lld held-out pairs\n", g.low,
                         g.high > 1e100 ? " and above" : qPrintable(QStringLiteral(" to %1").arg(g.high, 0, 'f', 1)),
                         g.accuracy, static_cast<long long>(g.pairs));
        }
        std::fprintf(info, "Use it: preflab run --judge reward_model --reward-model %s\n", out.c_str());
        if (json) {
            QJsonArray gaps;
            for (const GapAccuracy& g : r.byGap) {
                gaps.append(QJsonObject{{"gap_low", g.low},
                                        {"gap_high", g.high > 1e100 ? QJsonValue() : QJsonValue(g.high)},
                                        {"pairs", static_cast<qint64>(g.pairs)},
                                        {"accuracy", g.accuracy}});
            }
            QJsonObject o{{"held_out_accuracy", r.heldOutAccuracy},
                                {"held_out_pairs", static_cast<qint64>(r.heldOutPairs)},
                                {"held_out_ci95_low", low},
                                {"held_out_ci95_high", high},
                                {"held_out", separate ? "another seed's pairs, last step" : "a split of the training pairs, best evaluation"},
                                {"held_out_accuracy_last_step", r.lastHeldOutAccuracy},
                                {"held_out_loss", r.heldOutLoss},
                                {"held_out_margin", r.heldOutMargin},
                                {"train_accuracy", r.trainAccuracy},
                                {"train_pairs", static_cast<qint64>(r.trainPairs)},
                                {"best_step", static_cast<qint64>(r.bestStep)},
                                {"pooling", rewardPoolingName(spec.pooling)},
                                {"accuracy_by_gold_gap", gaps},
                                {"sampling_seconds", sampleSeconds},
                                {"seconds", seconds},
                                {"base", QString::fromStdString(spec.basePath)},
                                {"base_pretrain_seconds", basePretrainSeconds},
                                {"setup_seconds", setupSeconds},
                                {"lr_decay", spec.lrDecay},
                                {"weight_decay", spec.weightDecay},
                                {"base_decay", spec.baseDecay},
                                {"train_layers", static_cast<qint64>(spec.trainLayers)},
                                {"model", QString::fromStdString(out)}};
            if (separate) {
                o.insert("held_out_duplicates_dropped", static_cast<qint64>(duplicatesDropped));
                o.insert("accuracy_by_component", components);
            }
            std::printf("%s\n", QJsonDocument(o).toJson(QJsonDocument::Compact).constData());
        }
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "preflab train-rm: %s\n", e.what());
        return 1;
    }
}

}  // namespace preflab
