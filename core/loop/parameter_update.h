#pragma once
// The end of every family's training step, written once: backward, gradient
// clipping, the finiteness checks that halt a run (zero the gradients, keep
// the weights, say which step), the warmed-up learning rate and the optimizer
// steps. Core-private (torch); used on the training thread.
#include "core/loop/loop_context.h"
#include "core/nn/transformer.h"

#include <torch/optim/adamw.h>

#include <string>
#include <vector>

namespace preflab {

// A model whose gradients one update clips, and the optimizer that steps it.
struct UpdatedModel {
    Transformer* model;
    torch::optim::AdamW* optimizer;
};

// How a halted update words its message: "non-finite <lossName> (v) at step
// n; no update was applied and the last checkpoint is kept" and "non-finite
// gradient norm at step n<gradientTail>".
struct HaltWording {
    std::string lossName = "loss";
    std::string gradientTail = "; no update was applied and the last checkpoint is kept";
};

// How apply() clips: each model's gradient to max_grad_norm on its own, or
// the gradients of all models as one vector (TRL's PPO: policy and value are
// one module with one optimizer, clipped together).
enum class GradientClip { EachModel, Jointly };

struct UpdateResult {
    bool applied = false;     // false: halted (ctx.lastError says why)
    double gradNorm = 0;      // the first model's norm before clipping (Jointly: the joint norm)
    double learningRate = 0;  // the warmed-up rate of this step
    double exchangeSeconds = 0;  // data-parallel: the gradient all-reduce's wall time
};

class ParameterUpdate {
public:
    // `policyOptimizer` is the first optimizer a halt clears.
    ParameterUpdate(LoopContext& ctx, torch::optim::AdamW& policyOptimizer);

    // Registers another optimizer whose gradients a halt clears.
    void track(torch::optim::AdamW& optimizer);
    // One update from `loss`, its value `lossValue` given by the caller (the
    // value the method reports as its loss): halts on a non-finite loss before
    // backward; then clips the gradients of each of `models` in order
    // (max_grad_norm, 0 = off), or all together with GradientClip::Jointly,
    // halts on a non-finite norm of the first (or the joint one), and steps
    // each model's optimizer in order at the warmed-up learning rate.
    // Data-parallel (ctx.ranks): the gradients are averaged over the ranks
    // first, in one all-reduce that also carries each rank's finiteness and
    // stop request, so that every rank halts, clips, steps and stops alike.
    UpdateResult apply(const at::Tensor& loss, double lossValue, const std::vector<UpdatedModel>& models,
                       const HaltWording& wording = {}, GradientClip clip = GradientClip::EachModel);
    // Stops the step: records `message` as ctx.lastError, clears the
    // gradients of every tracked optimizer and keeps the weights.
    StepOutcome halt(const std::string& message);
    // A halt before this rank's update (a barren judge): with other ranks it
    // still takes part in the step's gradient exchange, flagged, so every
    // rank halts at this step with `message` naming this rank.
    StepOutcome haltTogether(const std::string& message);
    // Clips `model`'s gradients to max_grad_norm; returns the norm before clipping.
    double clipGradients(Transformer& model) const;

private:
    // Averages the gradients of the tracked optimizers' parameters over the
    // ranks (a rank with a non-finite loss, or halting, sends zeros); an empty
    // string, or the halt message naming the ranks that stopped the step.
    std::string exchangeGradients(bool finite, double lossValue, const HaltWording& wording, UpdateResult& result,
                                  const std::string& localHalt = {});
    double maxGradNorm() const;  // max_grad_norm, or infinity when 0 (off)
    // Sets the warmed-up learning rate of this step on `optimizer` and steps it; returns the rate.
    double stepOptimizer(torch::optim::AdamW& optimizer) const;

    LoopContext& m_ctx;
    std::vector<torch::optim::AdamW*> m_optimizers;
    at::Tensor m_exchange;  // data-parallel: the flat gradients and flags, reused every step
};

}  // namespace preflab
