#pragma once
// Helpers for tests that run the training session: a tiny model file and a
// setup pointing at temporary storage.
#include "app/session/session_types.h"
#include "core/nn/model_file.h"
#include "storage/database.h"
#include "support/tiny_model.h"

#include <QTemporaryDir>

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

}  // namespace preflab::test
