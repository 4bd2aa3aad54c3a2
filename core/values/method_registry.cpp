#include "core/values/method_registry.h"

#include <algorithm>

namespace preflab {

const std::vector<MethodInfo>& methods() {
    using F = MethodFamily;
    using D = MethodData;
    static const std::vector<MethodInfo> table = {
        {Method::Dpo, "dpo", "DPO, -log s(beta h); online pairs, or offline ones with --pairs", F::Pairwise,
         D::PairsOnlineOrOffline},
        {Method::Ipo, "ipo", "IPO, (h - 1/(2 beta))^2; --ipo-token-mean for per-token log-probs", F::Pairwise,
         D::PairsOnlineOrOffline},
        {Method::Slic, "slic", "SLiC hinge, max(0, 1 - beta h)", F::Pairwise, D::PairsOnlineOrOffline},
        {Method::SlicHf, "slic-hf", "SLiC-HF without a reference: max(0, delta - c(y_w) + c(y_l)) - lambda c(y_w)",
         F::Pairwise, D::PairsOnlineOrOffline, std::nullopt, false, true, nullptr},
        {Method::Cdpo, "cdpo", "conservative DPO: label smoothing epsilon (--label-smoothing)", F::Pairwise,
         D::PairsOnlineOrOffline},
        {Method::Rdpo, "rdpo", "robust DPO: unbiased under label-flip rate epsilon (--label-smoothing)", F::Pairwise,
         D::PairsOnlineOrOffline},
        {Method::Kto, "kto",
         "KTO: each pair split into a desirable and an undesirable response, reference point z_ref from mismatched pairs",
         F::Pairwise, D::PairsOnlineOrOffline},
        {Method::Orpo, "orpo", "ORPO: the chosen response's NLL - lambda log s(log-odds ratio); no reference model",
         F::Pairwise, D::PairsOnlineOrOffline, std::nullopt, false, true, nullptr},
        {Method::Simpo, "simpo", "SimPO: -log s(beta (c_w/|y_w| - c_l/|y_l|) - gamma); no reference model", F::Pairwise,
         D::PairsOnlineOrOffline, std::nullopt, false, true},
        {Method::OnlineDpo, "online-dpo", "online DPO: policy samples labeled by the judge (SAIL-PR with gamma = 0)",
         F::Pairwise, D::PolicyPairs},
        {Method::SailPr, "sail-pr",
         "SAIL-PR: policy pairs from the judge + exploration (gamma); --pairs mixes in dataset pairs (1 - g)",
         F::Pairwise, D::PolicyPairsMixable},
        {Method::SailPp, "sail-pp",
         "SAIL-PP: self-judged policy pairs + -1/2 pi ell^2 + exploration (pi); --pairs mixes in dataset pairs",
         F::Pairwise, D::PolicyPairsMixable, JudgeKind::Self},
        {Method::Ppo, "ppo",
         "PPO: one sample per prompt scored by --reward-model (else the task's true reward), GAE, clipping", F::Ppo,
         D::PolicySamples, std::nullopt, false, false, "ppo_kl_coef"},
        {Method::Grpo, "grpo",
         "GRPO: num_generations samples per prompt scored by --reward-model (else the true reward), group-normalised "
         "advantages, clipped token loss",
         F::Group, D::PolicyGroups, std::nullopt, false, false, "grpo_beta"},
        {Method::Rloo, "rloo",
         "RLOO: num_generations samples per prompt, leave-one-out baseline, KL penalty in the reward, sequence-level "
         "REINFORCE (clipped over extra passes)",
         F::Group, D::PolicyGroups, std::nullopt, false, false, "rloo_beta"},
        {Method::SailDp, "sail-dp",
         "SAIL-DP: dataset pairs (--pairs), preference re-drawn from the policy (r), -1/2 rho ell^2", F::Pairwise,
         D::DatasetPairs},
        {Method::Cpo, "cpo", "CPO: self-normalised importance weights P^f/P^R on rated responses (--ratings or fresh ones)",
         F::Causal, D::Ratings, std::nullopt, false, false, nullptr},
        {Method::DrCpo, "dr-cpo", "DR-CPO: doubly robust CPO with an outcome model (regression head) on the ratings",
         F::Causal, D::Ratings, std::nullopt, true, false, nullptr},
        {Method::OoRlhf, "oo-rlhf", "OO-RLHF: policy gradient on the outcome model alone (the baseline DR-CPO corrects)",
         F::Causal, D::Ratings, std::nullopt, true, false, nullptr},
    };
    return table;
}

const MethodInfo* findMethod(const std::string& name) {
    const auto& all = methods();
    const auto it = std::find_if(all.begin(), all.end(), [&](const MethodInfo& m) { return name == m.name; });
    return it == all.end() ? nullptr : &*it;
}

const MethodInfo& methodInfo(Method m) {
    const auto& all = methods();
    return *std::find_if(all.begin(), all.end(), [&](const MethodInfo& e) { return e.id == m; });
}

MethodFamily methodFamily(const std::string& name) {
    const MethodInfo* m = findMethod(name);
    return m ? m->family : MethodFamily::Pairwise;
}

bool generatesOwnSamples(const MethodInfo& m) {
    return m.data == MethodData::PolicyPairs || m.data == MethodData::PolicyPairsMixable ||
           m.data == MethodData::PolicySamples || m.data == MethodData::PolicyGroups;
}

}  // namespace preflab
