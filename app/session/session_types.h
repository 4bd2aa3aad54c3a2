#pragma once
// Value types that cross from the training thread to the UI/CLI thread through
// queued signals, registered as Qt metatypes.
#include "core/judges/human_judge.h"
#include "core/loop/loop_types.h"
#include "core/loop/run_config.h"

#include <QMetaType>
#include <QString>
#include <QVector>

#include <memory>

namespace preflab {

enum class RunState { Starting, Running, WaitingForLabels, Paused, Finished, Stopped, Failed };
QString toDisplayString(RunState s);

struct SessionSetup {
    RunConfig config;
    std::string modelPath;  // resolved model file (the starter model is pretrained before)
    std::string databasePath;
    std::string dataDir;           // checkpoints go under dataDir/runs/<id>/
    int64_t resumeRunId = 0;       // > 0: continue that run from its last checkpoint
    std::shared_ptr<HumanLabelQueue> humanQueue;  // used when config.judge == "human"
};

void registerSessionMetaTypes();

}  // namespace preflab

Q_DECLARE_METATYPE(preflab::MetricSample)
Q_DECLARE_METATYPE(QVector<preflab::MetricSample>)
Q_DECLARE_METATYPE(preflab::RunState)
Q_DECLARE_METATYPE(preflab::PairForJudging)
