#pragma once
// Builds the judge a run config names (judge_registry.h): a machine judge, a
// person, or a person helped by the entry's fallback. `queue` carries the
// person's labels.
#include "core/values/human_judge.h"
#include "core/values/run_config.h"

#include <memory>

namespace preflab {

std::unique_ptr<Judge> makeJudge(const RunConfig& config, std::shared_ptr<HumanLabelQueue> queue);

}  // namespace preflab
