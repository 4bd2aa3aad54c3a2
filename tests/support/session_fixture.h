#pragma once
// Helpers for tests that run the training session: a tiny model file and a
// setup pointing at temporary storage.
#include "app/session/session_types.h"
#include "app/session/training_worker.h"
#include "core/nn/model_file.h"
#include "storage/database.h"
#include "storage/sql_connection.h"
#include "support/tiny_model.h"

#include <QStringList>
#include <QTemporaryDir>
#include <QVector>

namespace preflab::test {

inline std::string writeTinyModel(const QString& dir, uint64_t seed = 3, bool poison = false) {
    Transformer m = tinyModel(seed);
    if (poison) {
        torch::NoGradGuard g;
        m->named_parameters()["block0.fc.weight"][0][0] = std::numeric_limits<float>::quiet_NaN();
    }
    ModelFileInfo info;
    info.config = m->config();
    const std::string path = (dir + "/tiny.pt").toStdString();
    saveModelFile(path, m, info);
    return path;
}

// The first column of the first row of `sql` (-1 when there is no row).
inline int64_t queryInt64(const std::string& db, const std::string& sql) {
    auto d = Database::open(db);
    SqlStatement s(d->connection(), sql);
    return s.step() ? s.int64(0) : -1;
}

inline std::string queryText(const std::string& db, const std::string& sql) {
    auto d = Database::open(db);
    SqlStatement s(d->connection(), sql);
    return s.step() ? s.text(0) : std::string();
}

inline SessionSetup tinySetup(const QTemporaryDir& dir, const std::string& model) {
    SessionSetup s;
    s.modelPath = model;
    s.dataDir = dir.path().toStdString();
    s.databasePath = (dir.path() + "/session.db").toStdString();
    Database::open(s.databasePath);
    s.config.steps = 100000;
    s.config.batchSize = 2;
    s.config.generationBatch = 2;
    s.config.maxNewTokens = 8;
    s.config.evalEvery = 0;
    s.config.checkpointEvery = 0;
    s.config.warmupSteps = 0;
    s.config.prompts = 16;
    return s;
}

// Records a run's signals on the test's thread: the worker emits them on the
// training thread, and `context` (an object of the test's thread) makes the
// connections queued, so the test reads these fields without races.
struct RunEvents {
    QVector<RunState> states;
    QStringList failures;
    int metricBatches = 0;
    bool finished = false;

    RunEvents(TrainingWorker* worker, QObject* context) {
        QObject::connect(worker, &TrainingWorker::stateChanged, context,
                         [this](RunState s, const QString&) { states.push_back(s); });
        QObject::connect(worker, &TrainingWorker::failed, context, [this](const QString& m) { failures << m; });
        QObject::connect(worker, &TrainingWorker::metricsReady, context, [this](const QVector<MetricSample>&) { ++metricBatches; });
        QObject::connect(worker, &TrainingWorker::finished, context, [this] { finished = true; });
    }
};

}  // namespace preflab::test
