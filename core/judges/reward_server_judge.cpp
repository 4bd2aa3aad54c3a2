#include "core/judges/reward_server_judge.h"

namespace preflab {

RewardServerJudge::RewardServerJudge(const std::string& url, RewardServerOptions options, ScoreChoice choice)
    : m_client(url, std::move(options)), m_choice(choice) {}

std::vector<double> RewardServerJudge::score(const std::vector<std::string>& prompts,
                                             const std::vector<std::string>& responses) {
    return m_client.score(prompts, responses);
}

void RewardServerJudge::submit(const std::vector<PairForJudging>& pairs) {
    std::vector<std::string> prompts, responses;
    prompts.reserve(2 * pairs.size());
    responses.reserve(2 * pairs.size());
    for (const PairForJudging& p : pairs) {
        prompts.insert(prompts.end(), {p.prompt, p.prompt});
        responses.insert(responses.end(), {p.responseA, p.responseB});
    }
    // Scored before anything is recorded: a failed request leaves no half round.
    const std::vector<double> s = m_client.score(prompts, responses);
    m_round.clear();
    for (size_t i = 0; i < pairs.size(); ++i) m_round.push_back(m_choice(s[2 * i], s[2 * i + 1]));
    m_next = 0;
    ImmediateJudge::submit(pairs);  // decide() hands out m_round in order
    m_round.clear();
}

Choice RewardServerJudge::decide(const PairForJudging& pair) {
    if (m_next < m_round.size()) return m_round[m_next++];
    const std::vector<double> s = m_client.score({pair.prompt, pair.prompt}, {pair.responseA, pair.responseB});
    return m_choice(s[0], s[1]);
}

}  // namespace preflab
