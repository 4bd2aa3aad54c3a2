#pragma once
// How a judge that scores each response (a reward model, a reward server)
// picks a side: the higher score (equal scores: a tie), or, with a
// Bradley-Terry temperature T > 0, A with probability
// sigmoid((s_A - s_B) / T): a simulated noisy annotator, as judge_noise makes
// the task judge one. Plain C++.
#include "core/values/label.h"

#include <cmath>
#include <cstdint>
#include <random>

namespace preflab {

// The choice between scores a and b at temperature T (0: the higher, equal: a
// tie), drawing at most one uniform number from `rng`.
inline Choice bradleyTerryChoice(double a, double b, double temperature, std::mt19937_64& rng) {
    if (temperature > 0.0) {
        const double pA = 1.0 / (1.0 + std::exp(-(a - b) / temperature));
        return std::uniform_real_distribution<double>(0.0, 1.0)(rng) < pA ? Choice::A : Choice::B;
    }
    return a > b ? Choice::A : b > a ? Choice::B : Choice::Tie;
}

class ScoreChoice {
public:
    explicit ScoreChoice(double temperature = 0.0, uint64_t seed = 1) : m_temperature(temperature), m_rng(seed) {}
    Choice operator()(double a, double b) { return bradleyTerryChoice(a, b, m_temperature, m_rng); }
    double temperature() const { return m_temperature; }

private:
    double m_temperature;
    std::mt19937_64 m_rng;
};

}  // namespace preflab
