#include "core/nn/row_parallel_logits.h"

#include "core/nn/autocast_scope.h"
#include "core/nn/row_groups.h"

#include <torch/autograd.h>

namespace preflab {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

std::vector<at::Tensor> trainable(const torch::nn::Module& model) {
    std::vector<at::Tensor> out;
    for (const auto& p : model.parameters()) {
        if (p.requires_grad()) out.push_back(p);
    }
    return out;
}

// Each group's logits, computed on its own thread with autograd `record`ing.
std::vector<at::Tensor> groupLogits(Transformer& model, const at::Tensor& ids, const at::Tensor& mask, bool bf16,
                                    const std::vector<std::pair<int64_t, int64_t>>& groups, bool record) {
    std::vector<at::Tensor> out(groups.size());
    runRowGroups(static_cast<int>(groups.size()), [&](int g) {
        const auto [begin, end] = groups[static_cast<size_t>(g)];
        torch::AutoGradMode mode(record);
        out[static_cast<size_t>(g)] = computeLogits(model, ids.narrow(0, begin, end - begin), mask.narrow(0, begin, end - begin), bf16);
    });
    return out;
}

struct RowParallel : public torch::autograd::Function<RowParallel> {
    // params: the model's trainable parameters (inputs, so that they get
    // gradients; kept for the backward pass); modelAddress: the caller's
    // Transformer, read in this call only.
    static at::Tensor forward(AutogradContext* ctx, const at::Tensor& ids, const at::Tensor& mask, at::TensorList params,
                              int64_t modelAddress, bool bf16, int64_t groupCount) {
        Transformer& model = *reinterpret_cast<Transformer*>(modelAddress);
        const auto groups = splitRows(ids.size(0), static_cast<int>(groupCount));
        const std::vector<at::Tensor> logits = groupLogits(model, ids, mask, bf16, groups, true);
        c10::List<at::Tensor> kept;
        std::vector<at::Tensor> detached;
        for (const at::Tensor& l : logits) {
            kept.push_back(l);  // with its graph, for the backward pass
            detached.push_back(l.detach());
        }
        ctx->saved_data["logits"] = kept;
        ctx->saved_data["params"] = c10::List<at::Tensor>(params.vec());
        return at::cat(detached, 0);
    }

    static variable_list backward(AutogradContext* ctx, variable_list gradOutputs) {
        // Each group's graph is back-propagated once, without a graph of its
        // own: no second backward pass (retain_graph) and no double backward.
        TORCH_CHECK(!at::GradMode::is_enabled(), "rowParallelLogits: double backward (create_graph) is not supported");
        const c10::List<at::Tensor> kept = ctx->saved_data["logits"].toTensorList();
        const c10::List<at::Tensor> saved = ctx->saved_data["params"].toTensorList();
        const std::vector<at::Tensor> params(saved.begin(), saved.end());
        std::vector<variable_list> grads(kept.size());
        const at::Tensor gradOut = gradOutputs[0];
        // The forward pass's split, again: the same rows in the same groups.
        const auto groups = splitRows(gradOut.size(0), static_cast<int>(kept.size()));
        runRowGroups(static_cast<int>(groups.size()), [&](int g) {
            const auto [begin, end] = groups[static_cast<size_t>(g)];
            grads[static_cast<size_t>(g)] = torch::autograd::grad({kept.get(static_cast<size_t>(g))}, params,
                                                                  {gradOut.narrow(0, begin, end - begin)}, false, false, true);
        });
        // ids, mask, then each parameter (the groups' sum, in group order, so
        // that the bits do not depend on which thread finished first), then
        // the address, bf16 and the group count.
        variable_list result{at::Tensor(), at::Tensor()};
        for (size_t i = 0; i < params.size(); ++i) {
            at::Tensor sum;
            for (const variable_list& g : grads) {
                if (!g[i].defined()) continue;
                sum = sum.defined() ? sum + g[i] : g[i];
            }
            result.push_back(sum);
        }
        result.insert(result.end(), {at::Tensor(), at::Tensor(), at::Tensor()});
        // LibTorch 1.13 frees a node's saved_variables after its backward,
        // not its saved_data: drop the groups' logits and graphs here.
        ctx->saved_data.clear();
        return result;
    }
};

}  // namespace

at::Tensor rowParallelLogits(Transformer& model, const at::Tensor& ids, const at::Tensor& mask, bool bf16, int groups) {
    const auto rows = splitRows(ids.size(0), groups);
    // One group: nothing to split; LoRA dropout in training draws random
    // masks (their order would follow thread timing); checkpointed blocks
    // recompute inside the backward pass.
    if (rows.size() <= 1 || (model->hasLora() && model->is_training()) || model->gradientCheckpointing()) {
        return computeLogits(model, ids, mask, bf16);
    }
    const std::vector<at::Tensor> params = at::GradMode::is_enabled() ? trainable(*model) : std::vector<at::Tensor>{};
    if (params.empty()) return at::cat(groupLogits(model, ids, mask, bf16, rows, false), 0);
    return RowParallel::apply(ids, mask, at::TensorList(params), reinterpret_cast<int64_t>(&model), bf16,
                              static_cast<int64_t>(rows.size()));
}

}  // namespace preflab
