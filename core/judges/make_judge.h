#pragma once
// Builds the judge a run config names: task, self, human, or a person helped by
// a fallback (human+task, human+self). `queue` carries the person's labels.
#include "core/judges/human_judge.h"
#include "core/loop/run_config.h"

#include <memory>

namespace preflab {

std::unique_ptr<Judge> makeJudge(const RunConfig& config, std::shared_ptr<HumanLabelQueue> queue);

}  // namespace preflab
