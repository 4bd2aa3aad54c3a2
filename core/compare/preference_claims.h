#pragma once
// The seeds' claims about preference-optimisation methods (issue 13; the
// orderings algorithms.md §5 expects from the literature), each judged on a
// comparison's runs at matched KL: reproduced or not, with the figures that
// decide it. preflab-compare writes them as orderings.json. No torch.
#include "core/compare/kl_frontier.h"

#include <map>
#include <string>
#include <vector>

namespace preflab {

// The names preflab-compare gives its contenders; the claims refer to them.
namespace contender {
inline const char* const kOfflineDpo = "offline DPO";
inline const char* const kSailDp = "SAIL-DP";
inline const char* const kOnlineDpo = "online DPO";
inline const char* const kOnlineDpoNoisy = "online DPO, 20 % flipped labels";
inline const char* const kSailPr = "SAIL-PR";
inline const char* const kSailPp = "SAIL-PP (λ 0)";                    // without its reverse-KL term
inline const char* const kSailPpRevKl = "SAIL-PP (RevKL λ 0.1)";       // with it, at the λ that holds it (docs/methods.md)
inline const char* const kPpo = "PPO (reward model)";                  // scored by a reward model trained on task pairs
inline const char* const kPpoTrue = "PPO (true reward)";               // scored by the task's true reward: the algorithm alone
inline const char* const kOnlineDpoRm = "online DPO (reward-model judge)";  // labelled by PPO's reward model
inline const char* const kDrCpo = "DR-CPO (confounded g)";
inline const char* const kOoRlhf = "OO-RLHF (confounded g)";
inline const char* const kGrpo = "GRPO (true reward)";
inline const char* const kRloo = "RLOO (true reward)";
inline const char* const kKto = "KTO";
inline const char* const kOrpo = "ORPO";
inline const char* const kSimpo = "SimPO";
}  // namespace contender

struct ClaimContext {
    // PPO's reward model: the last iterate's accuracy on held-out pairs
    // (< 0: none trained), and how many pairs that was measured on.
    double rewardModelAccuracy = -1;
    int64_t rewardModelPairs = 0;
    // What counts as a good reward model: the task's labels are a function of
    // the text, so 0.85 is reachable; below it a quarter of what the policy
    // is pushed towards can be wrong. Measured on at least this many pairs
    // (200 pairs give an interval of about ±0.06).
    double goodRewardModel = 0.85;
    int64_t goodRewardModelPairs = 1000;
    double equivalenceMargin = 0.2;   // |difference| in gold below which two methods are "about equal"
    // Per method, one mean absolute value-estimate error per seed (the CPO family).
    std::map<std::string, std::vector<double>> valueErrors;
};

struct Claim {
    std::string claim;
    std::string source;
    bool reproduced = false;
    bool judged = false;  // false: the runs could not decide it (a method missing or never reaching the KL)
    std::string evidence;
    // "reproduced", "refuted" (the interval lies on the other side),
    // "inconclusive" (the interval straddles the line) or "not judged".
    std::string verdict;
};

std::vector<Claim> judgeClaims(const KlFrontier& frontier, const ClaimContext& context);
// [{claim, source, verdict, reproduced, judged, evidence}], indented JSON.
std::string claimsToJson(const std::vector<Claim>& claims);

}  // namespace preflab
