#pragma once
// Labels pairs by a reward server's scores (reward_server_client.h): the
// higher-scored response is chosen, equal scores are a tie, or with
// Bradley-Terry noise (score_choice.h; the rule of RewardModelJudge). A judging round goes to the server as one request; a
// server failure throws RewardServerError, which stops the run with that
// message. Also the run's reward (PPO, GRPO, RLOO) when reward_server is set.
// Runs on the training thread. No torch in this header.
#include "core/judges/reward_scorer.h"
#include "core/judges/reward_server_client.h"
#include "core/judges/score_choice.h"
#include "core/values/judge.h"

namespace preflab {

class RewardServerJudge final : public ImmediateJudge, public RewardScorer {
public:
    explicit RewardServerJudge(const std::string& url, RewardServerOptions options = {}, ScoreChoice choice = ScoreChoice());
    LabelSource source() const override { return LabelSource::RewardModel; }
    // The whole round in one request.
    void submit(const std::vector<PairForJudging>& pairs) override;
    std::vector<double> score(const std::vector<std::string>& prompts, const std::vector<std::string>& responses) override;
    void setCancelFlag(const std::atomic_bool* cancel) override { m_client.setCancelFlag(cancel); }
    const RewardServerClient& client() const { return m_client; }

protected:
    Choice decide(const PairForJudging& pair) override;

private:
    RewardServerClient m_client;
    std::vector<Choice> m_round;  // the current round's choices, read by decide() in submission order
    size_t m_next = 0;
    ScoreChoice m_choice;
};

}  // namespace preflab
