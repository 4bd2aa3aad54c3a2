#include "core/nn/fused_adamw.h"

#include <ATen/Parallel.h>

#include <cmath>

namespace preflab {
namespace {

struct Coefficients {
    float decay;      // 1 - lr * weight_decay
    float beta1, oneMinusBeta1, beta2, oneMinusBeta2;
    float sqrtCorrection2;  // sqrt(1 - beta2^t)
    float eps;
    float stepSize;  // lr / (1 - beta1^t)
    bool decays;
};

// One pass; the operations in LibTorch's order, each rounded to fp32.
void update(float* p, const float* g, float* m, float* v, int64_t n, const Coefficients& c) {
    // Element-wise, split over LibTorch's intra-op threads (this file is
    // compiled with OpenMP, as core/nn/bf16_products.cpp is).
    at::parallel_for(0, n, 16384, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) {
            float w = p[i];
            if (c.decays) w = w * c.decay;
            const float gi = g[i];
            const float mi = m[i] * c.beta1 + c.oneMinusBeta1 * gi;
            const float vi = v[i] * c.beta2 + c.oneMinusBeta2 * gi * gi;
            const float denom = std::sqrt(vi) / c.sqrtCorrection2 + c.eps;
            m[i] = mi;
            v[i] = vi;
            p[i] = w - c.stepSize * mi / denom;
        }
    });
}

bool fusable(const at::Tensor& p, const at::Tensor& grad) {
    return p.scalar_type() == at::kFloat && grad.scalar_type() == at::kFloat && p.is_contiguous() &&
           grad.is_contiguous() && !grad.is_sparse() && p.device().is_cpu() && grad.numel() == p.numel();
}

}  // namespace

at::Tensor FusedAdamW::step(LossClosure closure) {
    torch::NoGradGuard noGrad;
    at::Tensor loss;
    if (closure != nullptr) {
        at::AutoGradMode enableGrad(true);
        loss = closure();
    }
    for (auto& group : param_groups_) {
        const auto& o = static_cast<const torch::optim::AdamWOptions&>(group.options());
        for (auto& p : group.params()) {
            if (!p.grad().defined()) continue;
            const at::Tensor& grad = p.grad();
            TORCH_CHECK(!grad.is_sparse(), "AdamW does not support sparse gradients");
            const std::string key = c10::guts::to_string(p.unsafeGetTensorImpl());
            auto found = state_.find(key);
            if (found == state_.end()) {
                auto s = std::make_unique<torch::optim::AdamWParamState>();
                s->step(0);
                s->exp_avg(at::zeros_like(p, at::MemoryFormat::Preserve));
                s->exp_avg_sq(at::zeros_like(p, at::MemoryFormat::Preserve));
                if (o.amsgrad()) s->max_exp_avg_sq(at::zeros_like(p, at::MemoryFormat::Preserve));
                found = state_.emplace(key, std::move(s)).first;
            }
            auto& state = static_cast<torch::optim::AdamWParamState&>(*found->second);
            state.step(state.step() + 1);
            const double beta1 = std::get<0>(o.betas()), beta2 = std::get<1>(o.betas());
            const double correction1 = 1 - std::pow(beta1, static_cast<double>(state.step()));
            const double correction2 = 1 - std::pow(beta2, static_cast<double>(state.step()));
            at::Tensor& m = state.exp_avg();
            at::Tensor& v = state.exp_avg_sq();
            if (!o.amsgrad() && fusable(p, grad) && m.is_contiguous() && v.is_contiguous() &&
                m.scalar_type() == at::kFloat && v.scalar_type() == at::kFloat) {
                const Coefficients c{static_cast<float>(1 - o.lr() * o.weight_decay()),
                                     static_cast<float>(beta1),
                                     static_cast<float>(1 - beta1),
                                     static_cast<float>(beta2),
                                     static_cast<float>(1 - beta2),
                                     static_cast<float>(std::sqrt(correction2)),
                                     static_cast<float>(o.eps()),
                                     static_cast<float>(o.lr() / correction1),
                                     o.weight_decay() != 0};
                update(p.data_ptr<float>(), grad.data_ptr<float>(), m.data_ptr<float>(), v.data_ptr<float>(), p.numel(), c);
                continue;
            }
            // LibTorch's own operations (its AdamW::step, per parameter).
            if (o.weight_decay() != 0) p.mul_(1 - o.lr() * o.weight_decay());
            m.mul_(beta1).add_(grad, 1 - beta1);
            v.mul_(beta2).addcmul_(grad, grad, 1 - beta2);
            at::Tensor denom;
            if (o.amsgrad()) {
                at::Tensor& maxV = state.max_exp_avg_sq();
                at::max_out(maxV, v, maxV);
                denom = (maxV.sqrt() / std::sqrt(correction2)).add_(o.eps());
            } else {
                denom = (v.sqrt() / std::sqrt(correction2)).add_(o.eps());
            }
            p.addcdiv_(m, denom, -o.lr() / correction1);
        }
    }
    return loss;
}

}  // namespace preflab
