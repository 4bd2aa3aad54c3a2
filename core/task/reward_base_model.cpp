#include "core/task/reward_base_model.h"

#include "core/nn/model_file.h"

#include <filesystem>
#include <stdexcept>

namespace preflab {

PretrainSpec rewardBasePretrainSpec() {
    PretrainSpec spec;
    spec.model.dModel = 128;
    spec.model.nLayers = 4;
    spec.model.nHeads = 4;
    spec.model.dFF = 512;
    spec.steps = 1500;
    spec.seed = 20261207;  // not the starter's: its own corpus draw
    return spec;
}

std::string rewardBaseModelPath(const std::string& dataDir, const PretrainSpec& spec) {
    return (std::filesystem::path(dataDir) / "models" / ("reward-base-" + spec.fingerprint() + ".pt")).string();
}

RewardBaseReady ensureRewardBaseModel(const std::string& dataDir, const PretrainSpec& spec,
                                      const std::function<void(const PretrainProgress&)>& progress,
                                      const std::atomic_bool* cancel) {
    RewardBaseReady out;
    out.path = rewardBaseModelPath(dataDir, spec);
    if (std::filesystem::exists(out.path)) {
        // Checked here rather than when the reward model loads it, so that a
        // damaged cache is named as the cache, with the way to rebuild it.
        ModelFileInfo info;
        try {
            loadModelFile(out.path, &info);
        } catch (const std::exception& e) {
            throw std::runtime_error("the cached reward-model base " + out.path + " does not load (" + e.what() +
                                     "); delete it and it is pretrained again");
        }
        if (info.config.serialize() != spec.model.serialize()) {
            throw std::runtime_error("the cached reward-model base " + out.path + " has the shape " +
                                     info.config.serialize() + ", not " + spec.model.serialize() +
                                     "; delete it and it is pretrained again");
        }
        return out;
    }
    out.result = pretrainStarterModel(spec, out.path, progress, cancel);
    if (!out.result.completed) throw std::runtime_error("pretraining the reward-model base was cancelled");
    out.pretrained = true;
    return out;
}

}  // namespace preflab
