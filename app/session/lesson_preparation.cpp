#include "app/session/lesson_preparation.h"

#include "core/task/dataset_sampler.h"
#include "core/values/metric_names.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>

#include <chrono>
#include <stdexcept>

namespace preflab {

PreparedRewardModel prepareLessonRewardModel(const LessonRun& run, const std::string& starter, uint64_t seed,
                                             const std::string& dir, const std::atomic_bool* cancel) {
    DatasetSpec train;
    train.pairs = run.prepare.rewardModelPairs;
    train.seed = seed;
    const TaskDataset pairs = sampleTaskDataset(starter, train);
    DatasetSpec heldOut = train;
    heldOut.pairs = 500;
    heldOut.seed = seed + 1000003;
    const TaskDataset measured = sampleTaskDataset(starter, heldOut);
    RewardModelSpec spec;
    spec.basePath = starter;
    spec.pairs = pairs.pairs;
    spec.goldGaps = pairs.goldGaps;
    spec.heldOut = measured.pairs;
    spec.heldOutGoldGaps = measured.goldGaps;
    spec.steps = run.prepare.rewardModelSteps;
    spec.seed = seed;
    PreparedRewardModel out;
    out.path = dir + "/reward-model-" + run.id + ".pt";
    out.report = trainRewardModel(spec, out.path, {}, cancel);
    return out;
}

std::vector<MetricSample> rewardModelLessonSamples(const RewardModelReport& r) {
    return {{0, metricKey(Metric::EvalRmAccuracy), r.heldOutAccuracy, 0},
            {0, metricKey(Metric::RmAccuracy), r.trainAccuracy, 0}};
}

std::string prepareLessonOfflinePairs(const LessonRun& run, const std::string& starter, uint64_t seed,
                                      const std::string& dir) {
    DatasetSpec spec;
    spec.pairs = run.prepare.offlinePairs;
    spec.seed = seed;
    const TaskDataset d = sampleTaskDataset(starter, spec);
    const QString path = QString::fromStdString(dir + "/pairs-" + run.id + ".jsonl");
    QSaveFile f(path);
    if (!f.open(QIODevice::WriteOnly)) throw std::runtime_error("cannot write " + path.toStdString());
    for (const OfflinePair& p : d.pairs) {
        f.write(QJsonDocument(QJsonObject{{"prompt", QString::fromStdString(p.prompt)},
                                          {"chosen", QString::fromStdString(p.chosen)},
                                          {"rejected", QString::fromStdString(p.rejected)}})
                    .toJson(QJsonDocument::Compact) +
                '\n');
    }
    if (!f.commit()) throw std::runtime_error("cannot write " + path.toStdString() + ": " + f.errorString().toStdString());
    return path.toStdString();
}

BestOfNTable lessonBestOfN(const LessonRun& run, const std::string& starter, const std::string& rewardModel,
                           uint64_t seed) {
    const auto t0 = std::chrono::steady_clock::now();
    ResponseSetSpec spec;
    spec.prompts = run.bestOfN.prompts;
    spec.samplesPerPrompt = run.bestOfN.samples;
    spec.seed = seed;
    const std::vector<PromptResponses> sets = sampleTaskResponses(starter, spec);
    RewardModelJudge judge(rewardModel);
    std::vector<std::vector<double>> proxies;
    for (const PromptResponses& s : sets) {
        proxies.push_back(judge.score(std::vector<std::string>(s.responses.size(), s.prompt), s.responses));
    }
    BestOfNTable table;
    table.prompts = spec.prompts;
    table.samplesPerPrompt = spec.samplesPerPrompt;
    const double m = static_cast<double>(sets.size());
    for (int64_t n : run.bestOfN.n) {
        BestOfNPoint row;
        row.n = n;
        table.tiedPrompts = 0;
        for (size_t i = 0; i < sets.size(); ++i) {
            const BestOfNPoint p = bestOfN(proxies[i], sets[i].gold, n);
            row.gold += p.gold / m;
            row.proxy += p.proxy / m;
            row.kl += p.kl / m;
            row.ties |= p.ties;
            table.tiedPrompts += p.ties ? 1 : 0;
        }
        table.rows.push_back(row);
    }
    table.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return table;
}

std::vector<MetricSample> bestOfNLessonSamples(const BestOfNPoint& row) {
    return {{row.n, metricKey(Metric::GoldReward), row.gold, 0},
            {row.n, metricKey(Metric::ObjectiveScores), row.proxy, 0},
            {row.n, metricKey(Metric::KlExact), row.kl, 0}};
}

}  // namespace preflab
