#pragma once
// PPO's pieces (algorithms.md §4): shaped per-token rewards, GAE, whitening,
// the clipped policy and value losses with their metrics. Pure tensor
// functions over right-padded [B,T] batches with a 0/1 mask; the PPO loop
// builds on them. Core-private (torch).
#include <ATen/ATen.h>

namespace preflab {

// r_t = -klCoef * delta_t (delta = log pi - log pi_ref, k1) at every response
// token, plus score[b] at each row's last masked (response) position.
at::Tensor shapedRewards(const at::Tensor& score, const at::Tensor& klPerToken, const at::Tensor& mask, double klCoef);

// Generalised advantage estimation: delta_t = r_t + gamma V_{t+1} - V_t, with
// V = 0 after a row's last real token; A_t = delta_t + gamma lambda A_{t+1}.
at::Tensor generalizedAdvantages(const at::Tensor& rewards, const at::Tensor& values, const at::Tensor& mask,
                                 double gamma, double lambda);

// (x - mean) / std over the masked entries; masked-out entries become 0.
at::Tensor whiten(const at::Tensor& x, const at::Tensor& mask);

struct PolicyLoss {
    at::Tensor loss;         // masked mean of max(-A rho, -A clip(rho, 1 - c, 1 + c))
    double clipFraction = 0;  // share of tokens where the clipped branch is the larger
    double approxKl = 0;      // 1/2 mean (log rho)^2
    double meanRatio = 0;
};
PolicyLoss clippedPolicyLoss(const at::Tensor& logprobs, const at::Tensor& oldLogprobs, const at::Tensor& advantages,
                             const at::Tensor& mask, double clip);

struct ValueLoss {
    at::Tensor loss;  // 1/2 masked mean of max((V - G)^2, (V_old + clip(V - V_old, +-c) - G)^2)
    double clipFraction = 0;
};
ValueLoss clippedValueLoss(const at::Tensor& values, const at::Tensor& oldValues, const at::Tensor& returns,
                           const at::Tensor& mask, double clip);

}  // namespace preflab
