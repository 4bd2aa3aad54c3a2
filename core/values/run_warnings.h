#pragma once
// Warnings read from a run's metric stream: mode collapse, KL runaway, reward
// hacking, length exploitation and a negative k1 estimate. Each kind is raised
// at most once per run, at the step where the data first shows it, with the
// figures that show it and what to try. Plain C++ (no torch): the recorder
// feeds it every metric batch on the training thread; tests feed it synthetic
// streams.
#include "core/values/loop_types.h"

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace preflab {

struct RunWarning {
    std::string kind;  // mode_collapse | kl_runaway | reward_hacking | length_exploitation | negative_k1 | flat_rewards
    int64_t step = 0;
    std::string message;  // what the metrics show, with their values
    std::string advice;   // what to try
};

struct WarningThresholds {
    // Mode collapse: policy entropy (objective/entropy) below this share of its
    // first evaluated value, while the pairs the judge could not train on
    // (judge/untrainable_share) or identical samples (judge/identical_share)
    // average at least `collapseShare` over the last `window` steps.
    double collapseEntropyFraction = 0.5;
    double collapseShare = 0.25;
    // KL runaway: KL (exact where logged, else objective/kl) above `klLimit`
    // nats per response, or above `klGrowthFloor` nats and growing over the
    // last four evaluations (least-squares slope) at least `klAcceleration`
    // times as fast as on average before them.
    double klLimit = 10.0;
    double klAcceleration = 2.0;
    double klGrowthFloor = 4.0;
    // Reward hacking: gold reward `goldDrop` below its best evaluation while
    // the score being optimised (objective/scores) is higher than then.
    double goldDrop = 0.3;
    // Length exploitation: mean response length up by `lengthRise` (relative)
    // and `lengthRiseTokens`, correlated with the margin at `lengthCorrelation`.
    double lengthRise = 0.3;
    double lengthRiseTokens = 5.0;
    double lengthCorrelation = 0.7;
    // Negative k1: an evaluation's mean k1 estimate below this (nats).
    double negativeK1 = -0.05;
    // Flat group rewards (GRPO, RLOO): more than this share of the groups
    // tied (frac_reward_zero_std), on average over the last `flatRewardSteps` steps.
    double flatRewardShare = 0.5;
    int flatRewardSteps = 3;
    int window = 20;  // per-step metrics are averaged over this many steps
};

// Every kind a RunWarning can have, in one list (lesson files name them).
const std::vector<std::string>& runWarningKinds();

class RunWarningMonitor {
public:
    explicit RunWarningMonitor(WarningThresholds thresholds = {}) : m_t(thresholds) {}
    // Adds a batch of metrics (one step's, or one evaluation's) and returns
    // the warnings it newly shows.
    std::vector<RunWarning> observe(const std::vector<MetricSample>& samples);
    bool raised(const std::string& kind) const { return m_raised.count(kind) > 0; }

private:
    using Series = std::vector<std::pair<int64_t, double>>;  // (step, value), in arrival order
    const Series* series(const std::string& name) const;
    // Mean of a per-step series over the `window` steps up to `step`; nullopt-like NaN when empty.
    double windowMean(const Series& s, int64_t step) const;
    void check(int64_t step, std::vector<RunWarning>& out);
    void raise(RunWarning w, std::vector<RunWarning>& out);

    WarningThresholds m_t;
    std::map<std::string, Series> m_series;
    std::set<std::string> m_raised;
};

}  // namespace preflab
