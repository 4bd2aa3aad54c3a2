#include "core/loop/parameter_update.h"

#include "core/distributed/rank_group.h"

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
    if (m_ctx.ranks) {
        const bool finite = std::isfinite(lossValue);
        if (finite) loss.backward();
        const std::string halted = exchangeGradients(finite, lossValue, wording, result);
        if (!halted.empty()) {
            halt(halted);
            return result;
        }
    } else if (!std::isfinite(lossValue)) {
        halt("non-finite " + wording.lossName + " (" + std::to_string(lossValue) + ")" + atStep +
             "; no update was applied and the last checkpoint is kept");
        return result;
    } else {
        loss.backward();
    }
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

std::string ParameterUpdate::exchangeGradients(bool finite, double lossValue, const HaltWording& wording,
                                               UpdateResult& result, const std::string& localHalt) {
    torch::NoGradGuard noGrad;
    // The tracked optimizers' parameters, in their order: the same layout on
    // every rank, whether it reached its update or halted before.
    std::vector<at::Tensor> params;
    int64_t numel = 0;
    for (torch::optim::AdamW* optimizer : m_optimizers) {
        for (auto& group : optimizer->param_groups()) {
            for (at::Tensor& p : group.params()) {
                // A parameter this rank's loss did not reach gets zeros.
                if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
                params.push_back(p);
                numel += p.numel();
            }
        }
    }
    const bool sends = finite && localHalt.empty();
    const int world = m_ctx.worldSize;
    if (!m_exchange.defined() || m_exchange.numel() != numel + 3 * world) {
        m_exchange = torch::empty({numel + 3 * world}, torch::kFloat);
    }
    int64_t offset = 0;
    for (const at::Tensor& p : params) {
        at::Tensor slot = m_exchange.narrow(0, offset, p.numel());
        if (sends) slot.copy_(p.grad().reshape(-1));
        else slot.zero_();
        offset += p.numel();
    }
    // Flags: which ranks' losses were not finite, which asked to stop, and
    // which halted before their update (their reason is in the store).
    at::Tensor flags = m_exchange.narrow(0, numel, 3 * world);
    flags.zero_();
    if (!finite) flags[m_ctx.rank] = 1.0f;
    if (m_ctx.localStop && m_ctx.localStop->load()) flags[world + m_ctx.rank] = 1.0f;
    const std::string haltKey = "halt/" + std::to_string(m_ctx.step + 1) + "/";
    if (!localHalt.empty()) {
        flags[2 * world + m_ctx.rank] = 1.0f;
        m_ctx.ranks->publish(haltKey + std::to_string(m_ctx.rank), localHalt);
    }

    const auto t0 = Clock::now();
    m_ctx.ranks->allReduceSum(m_exchange, m_ctx.step + 1, "the gradient exchange of step " + std::to_string(m_ctx.step + 1));
    result.exchangeSeconds = secondsSince(t0);

    offset = 0;
    for (at::Tensor& p : params) {
        p.mutable_grad().copy_(m_exchange.narrow(0, offset, p.numel()).view_as(p)).div_(world);
        offset += p.numel();
    }
    const auto flag = flags.accessor<float, 1>();
    std::string nonFinite;
    for (int r = 0; r < world; ++r) {
        if (flag[r] > 0) nonFinite += (nonFinite.empty() ? "" : ", ") + std::to_string(r);
        if (flag[world + r] > 0) m_ctx.stopAgreed = true;
    }
    for (int r = 0; r < world; ++r) {
        if (flag[2 * world + r] <= 0) continue;
        const std::string reason = r == m_ctx.rank ? localHalt
                                                   : m_ctx.ranks->fetch(haltKey + std::to_string(r),
                                                                        "rank " + std::to_string(r) + "'s reason to halt");
        return "rank " + std::to_string(r) + " halted the run: " + reason;
    }
    if (nonFinite.empty()) return {};
    const std::string local = finite ? "" : " (" + std::to_string(lossValue) + " here)";
    return "non-finite " + wording.lossName + " on rank" + (nonFinite.find(',') != std::string::npos ? "s " : " ") +
           nonFinite + local + " at step " + std::to_string(m_ctx.step + 1) +
           "; no update was applied on any rank and the last checkpoint is kept";
}

StepOutcome ParameterUpdate::haltTogether(const std::string& message) {
    if (!m_ctx.ranks) return halt(message);
    UpdateResult ignored;
    return halt(exchangeGradients(true, 0.0, {}, ignored, message));
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
