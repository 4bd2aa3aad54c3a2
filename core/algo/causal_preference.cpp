#include "core/algo/causal_preference.h"

namespace preflab {

at::Tensor selfNormalizedWeights(const at::Tensor& logpPolicy, const at::Tensor& logpBehaviour) {
    const double n = static_cast<double>(logpPolicy.size(0));
    return n * at::softmax(logpPolicy - logpBehaviour, 0);
}

WeightDiagnostics weightDiagnostics(const at::Tensor& weights) {
    const at::Tensor w = weights.detach().to(at::kDouble);
    WeightDiagnostics d;
    d.effectiveSampleSize = (w.sum().pow(2) / w.pow(2).sum()).item<double>();
    d.maxWeight = w.max().item<double>();
    return d;
}

at::Tensor cpoObjective(const at::Tensor& weights, const at::Tensor& outcomes, double clip) {
    const at::Tensor plain = weights * outcomes;
    if (clip <= 0) return plain.mean();
    return at::minimum(plain, at::clamp(weights, 1.0 - clip, 1.0 + clip) * outcomes).mean();
}

CausalObjective cpoEstimate(const at::Tensor& weights, const at::Tensor& outcomes, double clip) {
    CausalObjective out;
    out.surrogate = cpoObjective(weights, outcomes - outcomes.mean(), clip);
    out.value = (weights.detach() * outcomes).mean().item<double>();
    return out;
}

CausalObjective ooRlhfObjective(const at::Tensor& outcomeModelAtFresh, const at::Tensor& freshLogprobs) {
    const at::Tensor g = outcomeModelAtFresh.detach();
    const int64_t n = g.size(0);
    // Each sample's baseline is the mean of the *other* samples (leave-one-out),
    // independent of its own: the score-function estimate stays unbiased. A
    // mean that includes the sample itself shrinks the expected gradient by
    // (n-1)/n (12.5 % at n = 8). g_j - (S - g_j)/(n-1) = n/(n-1) (g_j - mean g).
    const at::Tensor centred = n > 1 ? (g - g.mean()) * (static_cast<double>(n) / static_cast<double>(n - 1)) : g;
    CausalObjective out;
    out.surrogate = (centred * freshLogprobs).mean();
    out.value = g.mean().item<double>();
    return out;
}

CausalObjective drCpoObjective(const at::Tensor& weights, const at::Tensor& outcomes, const at::Tensor& outcomeModelAtData,
                               const at::Tensor& outcomeModelAtFresh, const at::Tensor& freshLogprobs, double clip) {
    const CausalObjective direct = ooRlhfObjective(outcomeModelAtFresh, freshLogprobs);
    const CausalObjective correction = cpoEstimate(weights, outcomes - outcomeModelAtData.detach(), clip);
    return {direct.surrogate + correction.surrogate, direct.value + correction.value};
}

}  // namespace preflab
