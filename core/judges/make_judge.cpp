#include "core/judges/make_judge.h"

#include "core/judges/reward_model.h"
#include "core/judges/reward_server_judge.h"
#include "core/judges/self_judge.h"
#include "core/judges/task_judge.h"

#include "core/judges/llm_judge.h"
#include "core/values/win_rate.h"

#include <stdexcept>

namespace preflab {
namespace {

// `noisy`: the annotator noise of the config (judge_noise, flip_rate) is the
// training judge's, not the evaluation's.
std::unique_ptr<Judge> makeMachineJudge(JudgeKind kind, const RunConfig& c, bool noisy = true) {
    const ScoreChoice byScore(noisy ? c.judgeNoise : 0.0, static_cast<uint64_t>(c.seed) + 5);
    switch (kind) {
    case JudgeKind::Self: return std::make_unique<SelfJudge>(c.beta, static_cast<uint64_t>(c.seed) + 7);
    case JudgeKind::RewardModel: return std::make_unique<RewardModelJudge>(c.rewardModel, byScore);
    case JudgeKind::RewardServer: return std::make_unique<RewardServerJudge>(c.rewardServer, RewardServerOptions{}, byScore);
    case JudgeKind::Llm: return std::make_unique<LlmJudge>(c.judgeModel, c.judgePrompt);
    case JudgeKind::Task: {
        TaskJudgeOptions o;
        o.btTemperature = c.judgeNoise;
        o.flipRate = c.flipRate;
        o.seed = static_cast<uint64_t>(c.seed) + 5;
        return std::make_unique<TaskJudge>(o);
    }
    case JudgeKind::Human:
    case JudgeKind::HumanTask:
    case JudgeKind::HumanSelf: break;
    }
    throw std::logic_error(std::string("judge '") + judgeName(kind) + "' is not a machine judge");
}

}  // namespace

std::unique_ptr<RewardScorer> makeRewardScorer(const RunConfig& c) {
    if (!c.rewardServer.empty()) return std::make_unique<RewardServerJudge>(c.rewardServer);
    if (!c.rewardModel.empty()) return std::make_unique<RewardModelJudge>(c.rewardModel);
    return nullptr;
}

std::unique_ptr<Judge> makeJudge(const RunConfig& c, std::shared_ptr<HumanLabelQueue> queue) {
    const JudgeInfo* j = findJudge(c.judge);
    if (!j) throw std::invalid_argument("unknown judge '" + c.judge + "'");  // validation refuses it first
    if (!j->needsPerson) return makeMachineJudge(j->id, c);
    if (!queue) queue = std::make_shared<HumanLabelQueue>();
    if (!j->fallback) return std::make_unique<HumanJudge>(std::move(queue));
    // A person helped by a machine judge: the person keeps one generation round in view.
    return std::make_unique<MixedJudge>(std::move(queue), makeMachineJudge(*j->fallback, c),
                                        static_cast<size_t>(std::max<int64_t>(1, c.generationBatch)));
}

std::unique_ptr<Judge> makeEvaluationJudge(const RunConfig& c) {
    if (winRateJudgeName(c).empty()) return nullptr;
    const JudgeInfo* j = findJudge(c.judge);
    const JudgeKind kind = j->needsPerson ? *j->fallback : j->id;  // winRateJudgeName found a machine judge
    if (kind == JudgeKind::Task) return std::make_unique<TaskJudge>(TaskJudgeOptions{});
    return makeMachineJudge(kind, c, false);
}

}  // namespace preflab
