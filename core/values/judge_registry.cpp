#include "core/values/judge_registry.h"

#include <algorithm>

namespace preflab {

const std::vector<JudgeInfo>& judges() {
    using K = JudgeKind;
    using O = JudgeOutput;
    using S = LabelSource;
    static const std::vector<JudgeInfo> table = {
        {K::Task, "task", "Task judge (true reward)", "the built-in task's true reward (noise: judge_noise, flip_rate)",
         false, O::Choice, S::Task, std::nullopt, true},
        {K::Self, "self", "Self judge (implicit reward)", "the policy's own implicit reward beta log pi/pi_ref", false,
         O::Choice, S::Self, std::nullopt, false},
        {K::RewardModel, "reward_model", "Reward model", "a reward model file (reward_model; preflab train-rm makes one)",
         false, O::Choice, S::RewardModel, std::nullopt, false, true},
        {K::RewardServer, "reward_server", "Reward server (HTTP)",
         "a reward model served over HTTP(S) with OpenRLHF's /get_reward (reward_server; bearer token from "
         "PREFLAB_REWARD_SERVER_TOKEN)",
         false, O::Choice, S::RewardModel, std::nullopt, false},
        {K::Human, "human", "Person", "a person labels every pair (annotator names them)", true, O::ChoiceOrRating,
         S::Human, std::nullopt, true},
        {K::HumanTask, "human+task", "Person + task judge", "a person labels what they can, the task judge the rest",
         true, O::ChoiceOrRating, S::Human, K::Task, false},
        {K::HumanSelf, "human+self", "Person + self judge", "a person labels what they can, the self judge the rest",
         true, O::ChoiceOrRating, S::Human, K::Self, false},
        {K::Llm, "llm", "Instruct model (LLM judge)",
         "an instruct model (judge_model, a Hugging Face causal-LM folder) asked which response is better "
         "(judge_prompt), in both A/B orders: a verdict that flips with the order is a tie",
         false, O::Choice, S::Llm, std::nullopt, false, false, true},
    };
    return table;
}

const JudgeInfo* findJudge(const std::string& name) {
    const auto& all = judges();
    const auto it = std::find_if(all.begin(), all.end(), [&](const JudgeInfo& j) { return name == j.name; });
    return it == all.end() ? nullptr : &*it;
}

const JudgeInfo& judgeInfo(JudgeKind k) {
    const auto& all = judges();
    return *std::find_if(all.begin(), all.end(), [&](const JudgeInfo& j) { return j.id == k; });
}

std::vector<std::string> judgeNames() {
    std::vector<std::string> out;
    for (const JudgeInfo& j : judges()) out.emplace_back(j.name);
    return out;
}

bool judgeNeedsPerson(const std::string& name) {
    const JudgeInfo* j = findJudge(name);
    return j && j->needsPerson;
}

std::string labelSourceDisplayName(LabelSource source) {
    switch (source) {
    case LabelSource::Task: return "task judge";
    case LabelSource::RewardModel: return "reward model";
    case LabelSource::Self: return "policy's implicit reward";
    case LabelSource::Human: return "person";
    case LabelSource::Import: return "imported label";
    case LabelSource::Adjudicated: return "reviewer";
    case LabelSource::Llm: return "instruct model (LLM judge)";
    }
    return toString(source);
}

std::string labelSourceDisplayName(const std::string& sourceName) {
    const std::optional<LabelSource> source = labelSourceFromString(sourceName);
    return source ? labelSourceDisplayName(*source) : sourceName;
}

}  // namespace preflab
