#include "core/judges/make_judge.h"

#include "core/judges/self_judge.h"
#include "core/judges/task_judge.h"
#include "core/loop/reward_model.h"

namespace preflab {
namespace {

std::unique_ptr<Judge> makeMachineJudge(const std::string& kind, const RunConfig& c) {
    if (kind == "self") return std::make_unique<SelfJudge>(c.beta, static_cast<uint64_t>(c.seed) + 7);
    if (kind == "reward_model") return std::make_unique<RewardModelJudge>(c.rewardModel);
    TaskJudgeOptions o;
    o.btTemperature = c.judgeNoise;
    o.flipRate = c.flipRate;
    o.seed = static_cast<uint64_t>(c.seed) + 5;
    return std::make_unique<TaskJudge>(o);
}

}  // namespace

std::unique_ptr<Judge> makeJudge(const RunConfig& c, std::shared_ptr<HumanLabelQueue> queue) {
    if (!judgeNeedsPerson(c.judge)) return makeMachineJudge(c.judge, c);
    if (!queue) queue = std::make_shared<HumanLabelQueue>();
    if (c.judge == "human") return std::make_unique<HumanJudge>(std::move(queue));
    // human+task / human+self: the person keeps one generation round in view.
    const std::string fallback = c.judge.substr(c.judge.find('+') + 1);
    return std::make_unique<MixedJudge>(std::move(queue), makeMachineJudge(fallback, c),
                                        static_cast<size_t>(std::max<int64_t>(1, c.generationBatch)));
}

}  // namespace preflab
