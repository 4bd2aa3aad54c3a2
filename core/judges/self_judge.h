#pragma once
// The policy judges its own pairs by its implicit reward (SAIL-PP): A is
// preferred with probability sigmoid(beta * h), h the log-ratio margin of A over B.
#include "core/values/judge.h"

#include <random>

namespace preflab {

class SelfJudge final : public ImmediateJudge {
public:
    SelfJudge(double beta, uint64_t seed) : m_beta(beta), m_rng(seed) {}
    LabelSource source() const override { return LabelSource::Self; }
    static double preferenceProbability(const PairForJudging& pair, double beta);

protected:
    Choice decide(const PairForJudging& pair) override;

private:
    double m_beta;
    std::mt19937_64 m_rng;
};

}  // namespace preflab
