#include "core/loop/parameter_update.h"

#include <torch/nn/utils/clip_grad.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace preflab {

ParameterUpdate::ParameterUpdate(LoopContext& ctx, torch::optim::AdamW& policyOptimizer) : m_ctx(ctx) {
    track(policyOptimizer);
}

void ParameterUpdate::track(torch::optim::AdamW& optimizer) {
    m_optimizers.push_back(&optimizer);
}

UpdateResult ParameterUpdate::apply(const at::Tensor& loss, double lossValue, const std::vector<UpdatedModel>& models,
                                    const HaltWording& wording, GradientClip clip) {
    UpdateResult result;
    const std::string atStep = " at step " + std::to_string(m_ctx.step + 1);
    if (!std::isfinite(lossValue)) {
        halt("non-finite " + wording.lossName + " (" + std::to_string(lossValue) + ")" + atStep +
             "; no update was applied and the last checkpoint is kept");
        return result;
    }
    loss.backward();
    if (clip == GradientClip::Jointly) {
        std::vector<at::Tensor> all;
        for (const UpdatedModel& m : models) {
            for (const at::Tensor& p : (*m.model)->parameters()) all.push_back(p);
        }
        result.gradNorm = torch::nn::utils::clip_grad_norm_(all, maxGradNorm());
    } else {
        // Every model is clipped before the check; only the first one's norm
        // is checked and reported (a side model's norm is not).
        for (size_t i = 0; i < models.size(); ++i) {
            const double norm = clipGradients(*models[i].model);
            if (i == 0) result.gradNorm = norm;
        }
    }
    if (!std::isfinite(result.gradNorm)) {
        halt("non-finite gradient norm" + atStep + wording.gradientTail);
        return result;
    }
    for (size_t i = 0; i < models.size(); ++i) {
        const double lr = stepOptimizer(*models[i].optimizer);
        if (i == 0) result.learningRate = lr;
    }
    result.applied = true;
    return result;
}

StepOutcome ParameterUpdate::halt(const std::string& message) {
    m_ctx.lastError = message;
    for (torch::optim::AdamW* optimizer : m_optimizers) optimizer->zero_grad();
    return StepOutcome::Halted;
}

double ParameterUpdate::maxGradNorm() const {
    return m_ctx.cfg.maxGradNorm > 0 ? m_ctx.cfg.maxGradNorm : std::numeric_limits<double>::infinity();
}

double ParameterUpdate::clipGradients(Transformer& model) const {
    return torch::nn::utils::clip_grad_norm_(model->parameters(), maxGradNorm());
}

double ParameterUpdate::stepOptimizer(torch::optim::AdamW& optimizer) const {
    const double warmup = static_cast<double>(std::max<int64_t>(1, m_ctx.cfg.warmupSteps));
    const double lr = m_ctx.cfg.lr * std::min(1.0, static_cast<double>(m_ctx.step + 1) / warmup);
    for (auto& group : optimizer.param_groups()) static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
    optimizer.step();
    return lr;
}

}  // namespace preflab
