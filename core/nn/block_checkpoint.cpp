#include "core/nn/block_checkpoint.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/autocast_mode.h>
#include <torch/autograd.h>

#include <mutex>

namespace preflab {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// The CPU generator's state, so that dropout draws the same masks when the
// block is recomputed.
at::Tensor rngState() {
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    return gen.get_state();
}

void setRngState(const at::Tensor& state) {
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(state);
}

struct BlockCheckpoint : public torch::autograd::Function<BlockCheckpoint> {
    // params: the block's trainable parameters (inputs, so that they get
    // gradients); blockAddress: the block, which outlives the graph.
    static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& bias,
                              const at::Tensor& cos, const at::Tensor& sin, at::TensorList params,
                              int64_t blockAddress) {
        ctx->saved_data["block"] = blockAddress;
        ctx->saved_data["rng"] = rngState();
        ctx->saved_data["autocast"] = at::autocast::is_cpu_enabled();
        ctx->saved_data["bias"] = bias;
        ctx->saved_data["cos"] = cos;
        ctx->saved_data["sin"] = sin;
        ctx->saved_data["params"] = static_cast<int64_t>(params.size());
        ctx->save_for_backward({x});
        auto* block = reinterpret_cast<TransformerBlockImpl*>(blockAddress);
        torch::NoGradGuard noGrad;
        return block->forward(x, bias, Rotary{cos, sin});
    }

    static variable_list backward(AutogradContext* ctx, variable_list gradOutputs) {
        auto* block = reinterpret_cast<TransformerBlockImpl*>(ctx->saved_data["block"].toInt());
        const at::Tensor x = ctx->get_saved_variables()[0].detach().requires_grad_(true);
        const at::Tensor bias = ctx->saved_data["bias"].toTensor();
        const at::Tensor cos = ctx->saved_data["cos"].toTensor(), sin = ctx->saved_data["sin"].toTensor();
        std::vector<at::Tensor> inputs{x};
        for (const auto& p : block->parameters()) {
            if (p.requires_grad()) inputs.push_back(p);
        }
        const at::Tensor outerRng = rngState();
        setRngState(ctx->saved_data["rng"].toTensor());
        const bool outerAutocast = at::autocast::is_cpu_enabled();
        const bool autocast = ctx->saved_data["autocast"].toBool();
        at::autocast::set_cpu_enabled(autocast);
        if (autocast) at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
        at::Tensor out;
        {
            torch::AutoGradMode grad(true);
            out = block->forward(x, bias, Rotary{cos, sin});
        }
        if (autocast) at::autocast::clear_cache();
        at::autocast::set_cpu_enabled(outerAutocast);
        setRngState(outerRng);
        const variable_list grads = torch::autograd::grad({out}, inputs, {gradOutputs[0]}, false, false, true);
        // One gradient per forward input: x, bias, cos, sin, each parameter, the address.
        variable_list result{grads[0], at::Tensor(), at::Tensor(), at::Tensor()};
        for (size_t i = 1; i < grads.size(); ++i) result.push_back(grads[i]);
        result.push_back(at::Tensor());
        return result;
    }
};

}  // namespace

at::Tensor checkpointedBlock(TransformerBlock& block, const at::Tensor& x, const at::Tensor& bias, const Rotary& rope) {
    std::vector<at::Tensor> params;
    for (const auto& p : block->parameters()) {
        if (p.requires_grad()) params.push_back(p);
    }
    // Undefined rotary tables (GPT-2 layout, which ignores them) travel as empty
    // tensors: a custom Function's tensor inputs must be defined.
    const at::Tensor cos = rope.cos.defined() ? rope.cos : at::empty({0});
    const at::Tensor sin = rope.sin.defined() ? rope.sin : at::empty({0});
    return BlockCheckpoint::apply(x, bias, cos, sin, at::TensorList(params),
                                  reinterpret_cast<int64_t>(block.get()));
}

}  // namespace preflab
