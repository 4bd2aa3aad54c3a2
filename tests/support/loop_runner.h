#pragma once
// Runs the online loop on the tiny model for a few steps and collects every
// metric it reports: the algorithm tests' common harness.
#include "core/judges/task_judge.h"
#include "core/loop/online_loop.h"
#include "core/nn/model_file.h"
#include "support/tiny_model.h"

#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include <map>

namespace preflab::test {

struct Collector : LoopObserver {
    std::map<std::string, std::vector<double>> series;
    void metricsLogged(const std::vector<MetricSample>& m) override {
        for (const MetricSample& s : m) series[s.name].push_back(s.value);
    }
};

struct LoopData {
    std::vector<OfflinePair> offline;
    std::vector<RatedResponse> rated;
    int64_t evalEvery = 0;  // 0: no evaluation
    std::string resumeFrom;  // a checkpoint to continue from
};

// The tiny model as a model file in `dir` (written once).
inline std::string tinyModelFile(const QTemporaryDir& dir) {
    const std::string model = (dir.path() + "/tiny.pt").toStdString();
    if (!QFile::exists(QString::fromStdString(model))) {
        ModelFileInfo info;
        Transformer m = tinyModel(3);
        info.config = m->config();
        saveModelFile(model, m, info);
    }
    return model;
}

// Runs `steps` steps of `config` on the tiny model; returns the metric series.
inline Collector runLoop(const QTemporaryDir& dir, RunConfig config, int steps, LoopData data = {},
                         std::string* checkpoint = nullptr) {
    LoopSetup setup;
    config.steps = steps;
    config.evalEvery = data.evalEvery;
    config.checkpointEvery = 0;
    config.warmupSteps = 0;
    config.maxNewTokens = 8;
    config.prompts = 16;
    setup.config = config;
    setup.modelPath = tinyModelFile(dir);
    setup.checkpointDir = (dir.path() + "/ck-" + QString::fromStdString(config.algorithm) + "-" +
                           QString::number(config.sailProb)).toStdString();
    setup.offlinePairs = std::move(data.offline);
    setup.ratedResponses = std::move(data.rated);
    setup.resumeFrom = data.resumeFrom;
    Collector c;
    OnlineLoop loop(setup, std::make_unique<TaskJudge>(), &c);
    std::atomic_bool cancel{false};
    StepOutcome o;
    while ((o = loop.step(cancel)) == StepOutcome::Trained) {
    }
    if (o != StepOutcome::Finished) qFatal("loop ended with %d: %s", int(o), loop.lastError().c_str());
    if (checkpoint) *checkpoint = loop.checkpoint();
    return c;
}

}  // namespace preflab::test
