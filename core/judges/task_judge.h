#pragma once
// Judges by the built-in task's true reward. Optional Bradley-Terry noise
// (P(A > B) = sigmoid((r_A - r_B) / temperature)) and label flips with a fixed
// rate model imperfect annotators.
#include "core/values/judge.h"
#include "core/task/toy_world_task.h"

#include <random>

namespace preflab {

struct TaskJudgeOptions {
    double btTemperature = 0.0;  // 0: deterministic (higher reward wins; equal rewards tie)
    double flipRate = 0.0;       // probability of swapping an A/B label
    uint64_t seed = 1;
};

class TaskJudge final : public ImmediateJudge {
public:
    explicit TaskJudge(TaskJudgeOptions options = {});
    LabelSource source() const override { return LabelSource::Task; }

protected:
    Choice decide(const PairForJudging& pair) override;

private:
    TaskJudgeOptions m_options;
    ToyWorldTask m_task;
    std::mt19937_64 m_rng;
};

}  // namespace preflab
