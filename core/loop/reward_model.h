#pragma once
// The reward model of algorithms.md §4: a scalar head on the same transformer,
// trained with the Bradley-Terry loss -log s(r(x,y_w) - r(x,y_l)) on stored
// preferences, with a held-out split for its accuracy. A trained reward model
// judges pairs (RewardModelJudge) and, later, gives PPO its reward.
// No torch in this header.
#include "core/judges/judge.h"
#include "core/loop/loop_types.h"

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace preflab {

struct RewardModelSpec {
    std::string basePath;  // the language model the reward model starts from
    std::vector<OfflinePair> pairs;
    int64_t steps = 300;
    int64_t batchSize = 16;
    double lr = 3e-4;
    double heldOutShare = 0.1;
    int64_t evalEvery = 50;
    uint64_t seed = 1;
};

struct RewardModelReport {
    bool completed = false;
    int64_t trainPairs = 0, heldOutPairs = 0;
    double heldOutAccuracy = 0, heldOutMargin = 0;
    double seconds = 0;
};

// Trains and writes the reward model to outPath (atomically). Metrics, under
// the spec's names (rm/loss, rm/accuracy, rm/margin, rm/reward_min/mean/max,
// and eval/rm_accuracy, eval/rm_margin on the held-out pairs), go to onMetrics.
RewardModelReport trainRewardModel(const RewardModelSpec& spec, const std::string& outPath,
                                   const std::function<void(const std::vector<MetricSample>&)>& onMetrics = {},
                                   const std::atomic_bool* cancel = nullptr);

// Labels each pair by a reward model's scores: the higher one is chosen
// (equal scores: a tie). Runs on the training thread.
class RewardModelJudge final : public ImmediateJudge {
public:
    explicit RewardModelJudge(const std::string& path);
    ~RewardModelJudge() override;
    LabelSource source() const override { return LabelSource::RewardModel; }
    // Scores of responses to prompts (for tests and PPO).
    std::vector<double> score(const std::vector<std::string>& prompts, const std::vector<std::string>& responses);

protected:
    Choice decide(const PairForJudging& pair) override;

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

}  // namespace preflab
