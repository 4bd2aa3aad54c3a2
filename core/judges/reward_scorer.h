#pragma once
// A reward: one scalar score per (prompt, response), what PPO, GRPO, RLOO and
// the held-out set read from a reward model, wherever it runs (a model file,
// a Hugging Face folder, a server over HTTP). Used on the training thread.
// No torch in this header.
#include <memory>
#include <string>
#include <vector>

namespace preflab {

struct RunConfig;

class RewardScorer {
public:
    virtual ~RewardScorer() = default;
    // Scores of responses to prompts, in order; throws on failure.
    virtual std::vector<double> score(const std::vector<std::string>& prompts, const std::vector<std::string>& responses) = 0;
};

// The run's reward: the reward server (reward_server) or the reward model
// (reward_model) it names; null when it names neither (the task's true reward).
std::unique_ptr<RewardScorer> makeRewardScorer(const RunConfig& config);

}  // namespace preflab
