#include "core/algo/ppo_terms.h"

namespace preflab {
namespace {

at::Tensor maskedMean(const at::Tensor& x, const at::Tensor& mask) {
    return (x * mask).sum() / mask.sum().clamp_min(1.0);
}

}  // namespace

at::Tensor shapedRewards(const at::Tensor& score, const at::Tensor& klPerToken, const at::Tensor& mask, double klCoef) {
    at::Tensor r = -klCoef * klPerToken * mask;
    // The last masked position of each row (responses start after the prompt).
    const at::Tensor positions = at::arange(1, mask.size(1) + 1, mask.options());
    const at::Tensor last = ((mask > 0).to(mask.scalar_type()) * positions).argmax(1).unsqueeze(1);
    return r.scatter_add(1, last, score.to(r.scalar_type()).unsqueeze(1));
}

at::Tensor generalizedAdvantages(const at::Tensor& rewards, const at::Tensor& values, const at::Tensor& mask,
                                 double gamma, double lambda) {
    const int64_t T = rewards.size(1);
    at::Tensor adv = at::zeros_like(rewards);
    at::Tensor next = at::zeros({rewards.size(0)}, rewards.options());     // A_{t+1}
    at::Tensor nextValue = at::zeros({rewards.size(0)}, rewards.options());  // V_{t+1}
    for (int64_t t = T - 1; t >= 0; --t) {
        const at::Tensor m = mask.select(1, t);
        const at::Tensor delta = rewards.select(1, t) + gamma * nextValue - values.select(1, t);
        const at::Tensor a = (delta + gamma * lambda * next) * m;
        adv.select(1, t).copy_(a);
        // Past the end of a row (m = 0) the recursion restarts from zero.
        next = a;
        nextValue = values.select(1, t) * m;
    }
    return adv;
}

at::Tensor whiten(const at::Tensor& x, const at::Tensor& mask) {
    const at::Tensor mean = maskedMean(x, mask);
    const at::Tensor var = maskedMean((x - mean).pow(2), mask);
    return (x - mean) * at::rsqrt(var + 1e-8) * mask;
}

PolicyLoss clippedPolicyLoss(const at::Tensor& logprobs, const at::Tensor& oldLogprobs, const at::Tensor& advantages,
                             const at::Tensor& mask, double clip) {
    const at::Tensor logRatio = logprobs - oldLogprobs;
    const at::Tensor ratio = at::exp(logRatio);
    const at::Tensor unclipped = -advantages * ratio;
    const at::Tensor clipped = -advantages * at::clamp(ratio, 1.0 - clip, 1.0 + clip);
    PolicyLoss out;
    out.loss = maskedMean(at::maximum(unclipped, clipped), mask);
    out.clipFraction = maskedMean((clipped > unclipped).to(mask.scalar_type()), mask).item<double>();
    out.approxKl = 0.5 * maskedMean(logRatio.detach().pow(2), mask).item<double>();
    out.meanRatio = maskedMean(ratio.detach(), mask).item<double>();
    return out;
}

ValueLoss clippedValueLoss(const at::Tensor& values, const at::Tensor& oldValues, const at::Tensor& returns,
                           const at::Tensor& mask, double clip) {
    const at::Tensor vClipped = oldValues + at::clamp(values - oldValues, -clip, clip);
    const at::Tensor a = (values - returns).pow(2), b = (vClipped - returns).pow(2);
    ValueLoss out;
    out.loss = 0.5 * maskedMean(at::maximum(a, b), mask);
    out.clipFraction = maskedMean((b > a).to(mask.scalar_type()), mask).item<double>();
    return out;
}

}  // namespace preflab
