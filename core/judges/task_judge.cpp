#include "core/judges/task_judge.h"

#include "core/judges/score_choice.h"

namespace preflab {

TaskJudge::TaskJudge(TaskJudgeOptions options) : m_options(options), m_rng(options.seed) {}

Choice TaskJudge::decide(const PairForJudging& pair) {
    const double ra = m_task.trueReward(pair.prompt, pair.responseA);
    const double rb = m_task.trueReward(pair.prompt, pair.responseB);
    Choice c = bradleyTerryChoice(ra, rb, m_options.btTemperature, m_rng);
    if (c == Choice::Tie) return c;
    std::uniform_real_distribution<double> u(0.0, 1.0);
    if (m_options.flipRate > 0.0 && u(m_rng) < m_options.flipRate) c = c == Choice::A ? Choice::B : Choice::A;
    return c;
}

}  // namespace preflab
