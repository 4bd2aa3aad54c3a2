#include "core/values/win_rate.h"

#include "core/values/judge_registry.h"
#include "core/values/proportion_interval.h"

#include <limits>

namespace preflab {

void WinRateCount::add(Choice policyIsA) {
    switch (policyIsA) {
    case Choice::A: ++wins; break;
    case Choice::B: ++losses; break;
    case Choice::Tie:
    case Choice::BothBad: ++ties; break;
    case Choice::Skip: break;
    }
}

WinRate winRate(const WinRateCount& c) {
    WinRate w;
    w.n = c.judged();
    if (w.n == 0) {
        w.rate = w.low = w.high = std::numeric_limits<double>::quiet_NaN();
        return w;
    }
    const double n = static_cast<double>(w.n);
    w.rate = (static_cast<double>(c.wins) + 0.5 * static_cast<double>(c.ties)) / n;
    const ProportionInterval i = wilsonInterval95(w.rate, n);
    w.low = i.low;
    w.high = i.high;
    return w;
}

Choice swapped(Choice c) {
    return c == Choice::A ? Choice::B : c == Choice::B ? Choice::A : c;
}

bool verdictFlips(Choice firstOrder, Choice swappedOrder) {
    return firstOrder != swapped(swappedOrder);
}

Choice bothOrdersVerdict(Choice firstOrder, Choice swappedOrder) {
    return verdictFlips(firstOrder, swappedOrder) ? Choice::Tie : firstOrder;
}

namespace {

// The last part of a path or repository id ("org/rm" -> "rm").
std::string shortName(const std::string& path) {
    std::string p = path;
    while (!p.empty() && (p.back() == '/' || p.back() == '\\')) p.pop_back();
    const size_t slash = p.find_last_of("/\\");
    return slash == std::string::npos ? p : p.substr(slash + 1);
}

std::string machineJudgeName(JudgeKind kind, const RunConfig& c, std::string* whyNone) {
    switch (kind) {
    case JudgeKind::Task: return "task's true reward";
    case JudgeKind::RewardModel: return "reward model " + shortName(c.rewardModel);
    case JudgeKind::Llm: return "instruct model " + shortName(c.judgeModel) + ", both orders";
    case JudgeKind::Self:
        if (whyNone) {
            *whyNone = "the self judge is the policy's own implicit reward: judging the policy against its reference "
                       "by it says how far the policy moved (KL shows that), not whether it got better";
        }
        return {};
    default: return judgeInfo(kind).displayName;
    }
}

}  // namespace

std::string winRateJudgeName(const RunConfig& c, std::string* whyNone) {
    const JudgeInfo* j = findJudge(c.judge);
    if (!j) {
        if (whyNone) *whyNone = "unknown judge '" + c.judge + "'";
        return {};
    }
    if (!j->needsPerson) return machineJudgeName(j->id, c, whyNone);
    if (j->fallback) {
        const std::string name = machineJudgeName(*j->fallback, c, whyNone);
        if (name.empty() && whyNone) *whyNone = "a person judges this run and its machine fallback cannot: " + *whyNone;
        return name;
    }
    if (whyNone) {
        *whyNone = "a person judges this run and there is no machine judge to compare the policy with the reference "
                   "(judge human+task, or a reward model judge, gives one)";
    }
    return {};
}

std::string winRateDisplayName(const RunConfig& c) {
    const std::string judge = winRateJudgeName(c);
    return "win rate vs reference (judge: " + (judge.empty() ? std::string("none") : judge) + ")";
}

std::string proxyGoldDisplayName(const RunConfig& c) {
    if (c.goldModel.empty()) return {};
    return "proxy gold (reward model " + shortName(c.goldModel) + ")";
}

}  // namespace preflab
