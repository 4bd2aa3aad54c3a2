#pragma once
// A reward: one scalar score per (prompt, response), what PPO, GRPO, RLOO and
// the held-out set read from a reward model, wherever it runs (a model file,
// a Hugging Face folder, a server over HTTP). Used on the training thread.
// No torch in this header.
#include <atomic>
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
    // The run's stop flag, for a scorer that can wait long (a server); the
    // default ignores it (a local model's batch ends soon enough).
    virtual void setCancelFlag(const std::atomic_bool* /*cancel*/) {}
};

// Hands a scorer the run's stop flag for one call's length.
class ScorerCancelScope {
public:
    ScorerCancelScope(RewardScorer* scorer, const std::atomic_bool& cancel) : m_scorer(scorer) {
        if (m_scorer) m_scorer->setCancelFlag(&cancel);
    }
    ~ScorerCancelScope() {
        if (m_scorer) m_scorer->setCancelFlag(nullptr);
    }
    ScorerCancelScope(const ScorerCancelScope&) = delete;
    ScorerCancelScope& operator=(const ScorerCancelScope&) = delete;

private:
    RewardScorer* m_scorer;
};

// The run's reward: the reward server (reward_server) or the reward model
// (reward_model) it names; null when it names neither (the task's true reward).
std::unique_ptr<RewardScorer> makeRewardScorer(const RunConfig& config);

}  // namespace preflab
