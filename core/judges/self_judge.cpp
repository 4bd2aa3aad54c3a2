#include "core/judges/self_judge.h"

#include <cmath>

namespace preflab {

double SelfJudge::preferenceProbability(const PairForJudging& p, double beta) {
    const double h = (p.policyLogpA - p.refLogpA) - (p.policyLogpB - p.refLogpB);
    return 1.0 / (1.0 + std::exp(-beta * h));
}

Choice SelfJudge::decide(const PairForJudging& pair) {
    std::uniform_real_distribution<double> u(0.0, 1.0);
    return u(m_rng) < preferenceProbability(pair, m_beta) ? Choice::A : Choice::B;
}

}  // namespace preflab
