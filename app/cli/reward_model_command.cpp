// preflab train-rm: trains a reward model (a scalar head on the starter model
// or a given model) on stored or JSONL preferences and writes it as a model
// file that `--judge reward_model --reward-model FILE` uses.
#include "app/cli/commands.h"
#include "app/cli/starter_cache.h"
#include "app/cli/terminal_progress.h"
#include "app/session/offline_pairs.h"
#include "core/loop/reward_model.h"
#include "storage/data_paths.h"
#include "storage/database.h"

#include <QCommandLineParser>

#include <cstdio>

namespace preflab {

int runTrainRewardModelCommand(const QStringList& args) {
    QCommandLineParser p;
    p.setApplicationDescription("Train a reward model (Bradley-Terry, scalar head on the language model) on preferences.");
    p.addHelpOption();
    p.addOption({"pairs", "db (every stored preference), db:RUN, or a TRL .jsonl file (default: db).", "source", "db"});
    p.addOption({"base", "The model the reward model starts from: 'starter' or a model file.", "model", "starter"});
    p.addOption({"out", "Where to write it (default: <data dir>/models/reward-model.pt).", "file"});
    p.addOption({"steps", "Gradient steps.", "n", "300"});
    p.addOption({"batch-size", "Pairs per step.", "n", "16"});
    p.addOption({"lr", "Learning rate.", "value", "3e-4"});
    p.addOption({"seed", "Seed of the split and the order.", "n", "1"});
    p.addOption({"db", "Database file.", "path"});
    p.addOption({"data-dir", "Directory for models.", "dir"});
    p.process(QStringList{"preflab train-rm"} + args);
    const std::string dataDir = p.isSet("data-dir") ? p.value("data-dir").toStdString() : defaultDataDir();
    const std::string dbPath = p.isSet("db") ? p.value("db").toStdString() : dataDir + "/preflab.db";
    RewardModelSpec spec;
    bool ok1 = false, ok2 = false, ok3 = false, ok4 = false;
    spec.steps = p.value("steps").toLongLong(&ok1);
    spec.batchSize = p.value("batch-size").toLongLong(&ok2);
    spec.lr = p.value("lr").toDouble(&ok3);
    spec.seed = p.value("seed").toULongLong(&ok4);
    if (!ok1 || !ok2 || !ok3 || !ok4 || spec.steps < 1 || spec.batchSize < 1 || !(spec.lr > 0)) {
        std::fprintf(stderr, "preflab train-rm: --steps, --batch-size and --seed take positive integers, --lr a positive number\n");
        return 2;
    }
    const std::string out = p.isSet("out") ? p.value("out").toStdString() : dataDir + "/models/reward-model.pt";
    try {
        auto db = Database::open(dbPath);
        spec.pairs = loadOfflinePairs(p.value("pairs").toStdString(), *db);
        spec.basePath = p.value("base") == "starter" ? ensureStarterModel(dataDir) : p.value("base").toStdString();
        std::printf("Training a reward model on %zu pairs (%.0f%% held out) from %s\n", spec.pairs.size(),
                    spec.heldOutShare * 100, qPrintable(p.value("pairs")));
        TerminalProgress line;
        double lastLoss = 0, heldOut = 0;
        const RewardModelReport r = trainRewardModel(spec, out, [&](const std::vector<MetricSample>& m) {
            int64_t step = 0;
            for (const MetricSample& s : m) {
                step = s.step;
                if (s.name == "rm/loss") lastLoss = s.value;
                if (s.name == "eval/rm_accuracy") heldOut = s.value;
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
        std::printf("Reward model written to %s in %.0f s: held-out accuracy %.3f on %lld pairs, mean margin %.3f\n"
                    "Use it: preflab run --judge reward_model --reward-model %s\n",
                    out.c_str(), r.seconds, r.heldOutAccuracy, static_cast<long long>(r.heldOutPairs), r.heldOutMargin,
                    out.c_str());
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "preflab train-rm: %s\n", e.what());
        return 1;
    }
}

}  // namespace preflab
