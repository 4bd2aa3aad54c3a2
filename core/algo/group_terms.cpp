#include "core/algo/group_terms.h"

#include <stdexcept>

namespace preflab {
namespace {

constexpr double kStdEpsilon = 1e-4;  // TRL's: (r - mean) / (std + 1e-4)

}  // namespace

std::optional<RewardScale> rewardScaleFromName(const std::string& name) {
    if (name == "group") return RewardScale::Group;
    if (name == "batch") return RewardScale::Batch;
    if (name == "none") return RewardScale::None;
    return std::nullopt;
}

std::optional<GroupLossType> groupLossTypeFromName(const std::string& name) {
    if (name == "dapo") return GroupLossType::Dapo;
    if (name == "grpo") return GroupLossType::Grpo;
    if (name == "dr_grpo") return GroupLossType::DrGrpo;
    if (name == "bnpo") return GroupLossType::Bnpo;
    return std::nullopt;
}

at::Tensor groupAdvantages(const at::Tensor& rewards, int64_t k, GroupBaseline baseline, RewardScale scale) {
    if (k < 2 || rewards.numel() % k != 0) {
        throw std::invalid_argument("group advantages need groups of at least 2 samples that divide the batch");
    }
    const at::Tensor r = rewards.to(at::kDouble).reshape({-1, k});
    const at::Tensor sum = r.sum(1, true);
    const at::Tensor centred = baseline == GroupBaseline::LeaveOneOut
                                   ? r - (sum - r) / static_cast<double>(k - 1)
                                   : r - sum / static_cast<double>(k);
    at::Tensor out = centred;
    if (scale == RewardScale::Group) out = centred / (r.std(1, /*unbiased=*/true, /*keepdim=*/true) + kStdEpsilon);
    if (scale == RewardScale::Batch) out = centred / (r.reshape(-1).std(/*unbiased=*/true) + kStdEpsilon);
    return out.reshape(-1).to(rewards.scalar_type());
}

GroupStats groupStats(const at::Tensor& rewards, int64_t k) {
    const at::Tensor r = rewards.to(at::kDouble).reshape({-1, k});
    const at::Tensor stds = r.std(1, /*unbiased=*/true);
    GroupStats s;
    s.meanReward = r.mean().item<double>();
    s.meanGroupStd = stds.mean().item<double>();
    // Tied exactly (the task's reward is a sum of a few discrete terms):
    // such a group's advantages are all 0.
    s.zeroStdShare = (r.amax(1) == r.amin(1)).to(at::kDouble).mean().item<double>();
    return s;
}

GroupLoss groupTokenLoss(const at::Tensor& logp, const at::Tensor& oldLogp, const at::Tensor& refLogp,
                         const at::Tensor& advantages, const at::Tensor& mask, double clip, double klCoef,
                         GroupLossType type, int64_t maxTokens) {
    const at::Tensor m = mask.to(logp.scalar_type());
    const at::Tensor A = advantages.to(logp.scalar_type()).unsqueeze(1);
    const at::Tensor ratio = at::exp(logp - oldLogp);
    const at::Tensor clipped = at::clamp(ratio, 1.0 - clip, 1.0 + clip);
    at::Tensor perToken = -at::min(ratio * A, clipped * A);
    GroupLoss out;
    if (refLogp.defined()) {
        const at::Tensor d = refLogp - logp;
        const at::Tensor k3 = at::exp(d) - d - 1.0;
        if (klCoef != 0) perToken = perToken + klCoef * k3;
        out.kl = ((k3.detach() * m).sum() / m.sum().clamp_min(1.0)).item<double>();
    } else if (klCoef != 0) {
        throw std::invalid_argument("a KL coefficient needs the reference's log-probabilities");
    }
    perToken = perToken * m;
    switch (type) {
    case GroupLossType::Dapo:
    case GroupLossType::Bnpo: out.loss = perToken.sum() / m.sum().clamp_min(1.0); break;
    case GroupLossType::Grpo: out.loss = (perToken.sum(1) / m.sum(1).clamp_min(1.0)).mean(); break;
    case GroupLossType::DrGrpo:
        out.loss = perToken.sum() / static_cast<double>(std::max<int64_t>(1, logp.size(0) * maxTokens));
        break;
    }
    // TRL's clip_ratio: tokens whose ratio left the interval on the side the advantage pushes.
    const at::Tensor low = ((ratio < 1.0 - clip) & (A < 0)).to(m.scalar_type()) * m;
    const at::Tensor high = ((ratio > 1.0 + clip) & (A > 0)).to(m.scalar_type()) * m;
    const double tokens = std::max(1.0, m.sum().item<double>());
    out.clipLow = low.sum().item<double>() / tokens;
    out.clipHigh = high.sum().item<double>() / tokens;
    out.clipRegion = out.clipLow + out.clipHigh;
    return out;
}

GroupLoss sequenceClippedLoss(const at::Tensor& logp, const at::Tensor& oldLogp, const at::Tensor& advantages,
                              const at::Tensor& mask, double clip) {
    const at::Tensor m = mask.to(logp.scalar_type());
    const at::Tensor A = advantages.to(logp.scalar_type());
    const at::Tensor ratio = at::exp(((logp - oldLogp) * m).sum(1));
    const at::Tensor clipped = at::clamp(ratio, 1.0 - clip, 1.0 + clip);
    GroupLoss out;
    out.loss = (-at::min(ratio * A, clipped * A)).mean();
    const double n = static_cast<double>(std::max<int64_t>(1, logp.size(0)));
    out.clipLow = ((ratio < 1.0 - clip) & (A < 0)).sum().item<double>() / n;
    out.clipHigh = ((ratio > 1.0 + clip) & (A > 0)).sum().item<double>() / n;
    out.clipRegion = out.clipLow + out.clipHigh;
    return out;
}

}  // namespace preflab
