#include "core/judges/task_judge.h"

#include <cmath>

namespace preflab {

TaskJudge::TaskJudge(TaskJudgeOptions options) : m_options(options), m_rng(options.seed) {}

Choice TaskJudge::decide(const PairForJudging& pair) {
    const double ra = m_task.trueReward(pair.prompt, pair.responseA);
    const double rb = m_task.trueReward(pair.prompt, pair.responseB);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    Choice c;
    if (m_options.btTemperature > 0.0) {
        const double pA = 1.0 / (1.0 + std::exp(-(ra - rb) / m_options.btTemperature));
        c = u(m_rng) < pA ? Choice::A : Choice::B;
    } else if (ra == rb) {
        return Choice::Tie;
    } else {
        c = ra > rb ? Choice::A : Choice::B;
    }
    if (m_options.flipRate > 0.0 && u(m_rng) < m_options.flipRate) c = c == Choice::A ? Choice::B : Choice::A;
    return c;
}

}  // namespace preflab
