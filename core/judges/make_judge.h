#pragma once
// Builds the judge a run config names (judge_registry.h): a machine judge, a
// person, or a person helped by the entry's fallback. `queue` carries the
// person's labels.
#include "core/values/human_judge.h"
#include "core/values/run_config.h"

#include <memory>

namespace preflab {

std::unique_ptr<Judge> makeJudge(const RunConfig& config, std::shared_ptr<HumanLabelQueue> queue);

// The judge of the evaluation's win rate against the reference
// (core/values/win_rate.h): an instance of its own, so that it draws nothing
// from the training judge's random stream; the run's machine judge, or a
// person's machine fallback. The task judge judges by the true reward without
// the annotators' noise (judge_noise, flip_rate). Null where
// winRateJudgeName(config) is empty (a person alone, the self judge).
std::unique_ptr<Judge> makeEvaluationJudge(const RunConfig& config);

}  // namespace preflab
