#include "core/loop/checkpoints.h"

#include "core/values/checkpoint_paths.h"

#include <algorithm>
#include <filesystem>

namespace preflab {

bool Checkpoints::resume(const std::vector<SideModel*>& sides) {
    const std::string& from = m_ctx.setup.resumeFrom;
    if (from.empty()) return false;
    const ModelFileInfo ck = loadModelInto(from, m_models.policy, m_models.optimizer.get());
    // PPO's value model and the outcome models travel beside the policy.
    for (size_t i = 0; i < sides.size(); ++i) {
        const std::string path = sideModelPath(from, static_cast<int>(i));
        if (!std::filesystem::exists(path)) continue;
        loadModelInto(path, sides[i]->model, sides[i]->optimizer.get());
        sides[i]->resumed = true;
    }
    const auto it = ck.counters.find("step");
    m_ctx.step = it == ck.counters.end() ? 0 : it->second;
    // Stored run-wide (this rank's count times the ranks), so a resume with
    // another number of processes continues past every index used.
    const auto pi = ck.counters.find("next_pair_index");
    if (pi != ck.counters.end()) {
        m_ctx.nextPairIndex = std::max(m_ctx.nextPairIndex, (pi->second + m_ctx.worldSize - 1) / m_ctx.worldSize);
    }
    return true;
}

std::string Checkpoints::save(const std::vector<SideModel*>& sides) {
    const std::string path = checkpointPath(m_ctx.setup.checkpointDir, m_ctx.step);
    ModelFileInfo info = m_models.modelInfo;
    info.counters = {{"step", m_ctx.step}, {"next_pair_index", m_ctx.nextPairIndex * m_ctx.worldSize}};
    try {
        saveModelFile(path, m_models.policy, info, m_models.optimizer.get());
        for (size_t i = 0; i < sides.size(); ++i) {
            ModelFileInfo sideInfo = m_models.modelInfo;
            sideInfo.config = sides[i]->model->config();  // its own settings: the scalar head
            sideInfo.counters = info.counters;
            saveModelFile(sideModelPath(path, static_cast<int>(i)), sides[i]->model, sideInfo,
                          sides[i]->optimizer.get());
        }
    } catch (const ModelFileError& e) {
        throw CheckpointWriteError("the checkpoint of step " + std::to_string(m_ctx.step) + " was not written: " +
                                   e.what() + "; the previous checkpoint is kept");
    }
    if (m_ctx.observer) m_ctx.observer->checkpointSaved({m_ctx.step, path, m_ctx.lastMetrics});
    return path;
}

}  // namespace preflab
