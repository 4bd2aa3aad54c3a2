#pragma once
// The reward model's own base (issue 28): a transformer pretrained once on the
// built-in task's text, as the starter is (language modelling on the task
// generator's prompts and responses, never on reward labels), but larger and
// pretrained longer than the starter, whose pretraining stops early on purpose
// so that its samples vary in true reward. A reward model needs good features
// of the text, not varied samples; the policy stays the starter. Cached under
// the data folder beside the starter; later runs start at once.
// No torch in this header.
#include "core/task/starter_model.h"

#include <atomic>
#include <functional>
#include <string>

namespace preflab {

// The base's shape and pretraining (the defaults measured in docs/methods.md).
PretrainSpec rewardBasePretrainSpec();

// Where the cached base for `spec` lives under dataDir ("reward-base-<fingerprint>.pt").
std::string rewardBaseModelPath(const std::string& dataDir, const PretrainSpec& spec = rewardBasePretrainSpec());

struct RewardBaseReady {
    std::string path;
    bool pretrained = false;  // false: the cached file was reused
    PretrainResult result;    // with pretrained
};

// The cached base for `spec`, pretrained first when missing (progress as the
// starter's pretraining reports it). A cached file that does not load as a
// language model of spec's shape is an error naming the file and how to
// rebuild it, not a silent re-pretraining. Throws on cancel.
RewardBaseReady ensureRewardBaseModel(const std::string& dataDir, const PretrainSpec& spec = rewardBasePretrainSpec(),
                                      const std::function<void(const PretrainProgress&)>& progress = {},
                                      const std::atomic_bool* cancel = nullptr);

}  // namespace preflab
