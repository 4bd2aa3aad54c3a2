#pragma once
// Fixed datasets for the offline methods.
// A fixed preference dataset for offline methods: pairs sampled once from a
// model (the reference) on the built-in task's prompts and labeled by its true
// reward (ties dropped). Deterministic from the seed. What the comparison
// bench trains its offline methods on and `preflab train-rm --task-pairs`
// trains a reward model on. No torch in this header.
#include "core/values/loop_types.h"

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace preflab {

struct DatasetSpec {
    int64_t pairs = 256;
    int64_t maxNewTokens = 80;
    double temperature = 1.0;
    uint64_t seed = 1;
};

struct TaskDataset {
    std::vector<OfflinePair> pairs;
    std::vector<double> goldGaps;  // per pair: true reward of chosen minus rejected (> 0)
};

// spec.pairs untied pairs (throws std::runtime_error, naming the model, when
// a thousand sampling rounds give too few). `progress` gets the count so far;
// a raised `cancel` returns what there is.
TaskDataset sampleTaskDataset(const std::string& modelPath, const DatasetSpec& spec,
                              const std::function<void(int64_t)>& progress = {},
                              const std::atomic_bool* cancel = nullptr);

// Rating data for the CPO family: one response per prompt sampled once from
// a model (the presenting policy, full distribution at temperature 1), its
// outcome the task's true reward, its sampling log-probability kept.
struct RatedDatasetSpec {
    int64_t responses = 512;
    int64_t maxNewTokens = 80;
    uint64_t seed = 1;
};

std::vector<RatedResponse> sampleRatedDataset(const std::string& modelPath, const RatedDatasetSpec& spec);

// Many samples of each of a few task prompts from a model (temperature 1, the
// full distribution), each with its true reward: the reference distribution
// best-of-n sampling is computed from (core/values/best_of_n.h).
struct ResponseSetSpec {
    int64_t prompts = 32;
    int64_t samplesPerPrompt = 64;
    int64_t maxNewTokens = 80;
    uint64_t seed = 1;
};

struct PromptResponses {
    std::string prompt;
    std::vector<std::string> responses;
    std::vector<double> gold;  // the task's true reward of each response
};

std::vector<PromptResponses> sampleTaskResponses(const std::string& modelPath, const ResponseSetSpec& spec);

}  // namespace preflab
