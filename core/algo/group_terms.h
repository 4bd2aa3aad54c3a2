#pragma once
// The pieces of the group methods (algorithms.md §7), GRPO and RLOO: k
// samples of each prompt, each scored with a scalar reward, and an advantage
// relative to the other samples of its group, with no value model. Pure
// tensor functions; the group step builds on them. Core-private (torch).
#include <ATen/ATen.h>

#include <optional>
#include <string>

namespace preflab {

// How a sample's reward is centred in its group of k.
enum class GroupBaseline {
    Mean,         // GRPO: r_i - mean of the group (the sample itself included)
    LeaveOneOut,  // RLOO: r_i - mean of the other k - 1 samples (unbiased)
};

// GRPO's scale_rewards (TRL): divide the centred reward by the group's
// standard deviation (group, TRL's default), by the whole batch's (batch), or
// not at all (none; Dr. GRPO).
enum class RewardScale { Group, Batch, None };
std::optional<RewardScale> rewardScaleFromName(const std::string& name);  // "group", "batch", "none"

// How GRPO sums its per-token losses (TRL's loss_type): dapo (TRL's default)
// divides by the number of response tokens in the batch; grpo averages each
// sequence over its tokens, then the sequences; dr_grpo divides by the batch
// size times the longest response allowed (a constant); bnpo is dapo over
// the local batch (the same here: one process's batch is the whole step's).
enum class GroupLossType { Dapo, Grpo, DrGrpo, Bnpo };
std::optional<GroupLossType> groupLossTypeFromName(const std::string& name);

// Rewards [P*k] in groups of k consecutive samples -> advantages [P*k].
// The standard deviations are the unbiased ones torch (and so TRL) uses,
// and std + 1e-4 divides, as TRL does.
at::Tensor groupAdvantages(const at::Tensor& rewards, int64_t k, GroupBaseline baseline, RewardScale scale);

struct GroupStats {
    double meanReward = 0;
    double meanGroupStd = 0;       // TRL's reward_std: the groups' standard deviations, averaged
    double zeroStdShare = 0;       // TRL's frac_reward_zero_std: groups whose rewards all tie (no gradient)
};
GroupStats groupStats(const at::Tensor& rewards, int64_t k);

struct GroupLoss {
    at::Tensor loss;  // differentiable scalar
    double clipLow = 0, clipHigh = 0, clipRegion = 0;  // shares of tokens (sequences for RLOO) clipped below, above, either
    double kl = 0;    // mean per-token k3 to the reference (0 when no reference log-probs were given)
};

// GRPO's token-level clipped surrogate (TRL): per token
//   -min(rho_t A, clip(rho_t, 1 - eps, 1 + eps) A) + klCoef * k3_t,
// rho_t = exp(logp_t - oldLogp_t), k3_t = exp(ref_t - logp_t) - (ref_t - logp_t) - 1,
// summed as `type` says. logp, oldLogp, refLogp [B,T] (refLogp may be
// undefined when klCoef is 0 and no KL is wanted), advantages [B], mask [B,T]
// 0/1; maxTokens is dr_grpo's constant.
GroupLoss groupTokenLoss(const at::Tensor& logp, const at::Tensor& oldLogp, const at::Tensor& refLogp,
                         const at::Tensor& advantages, const at::Tensor& mask, double clip, double klCoef,
                         GroupLossType type, int64_t maxTokens);

// RLOO's sequence-level surrogate (TRL's RLOO): per sequence
//   -min(rho A, clip(rho, 1 - eps, 1 + eps) A), rho = exp(sum_t (logp_t - oldLogp_t)),
// averaged over the sequences. On the first pass rho = 1 and this is
// REINFORCE: its gradient is -mean_i A_i grad log pi(y_i).
GroupLoss sequenceClippedLoss(const at::Tensor& logp, const at::Tensor& oldLogp, const at::Tensor& advantages,
                              const at::Tensor& mask, double clip);

}  // namespace preflab
