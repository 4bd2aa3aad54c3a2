#pragma once
// The LoRA adapters of one of PrefLab's linear layers. A fused layer (GPT-2's
// c_attn is one HF module; Llama's q/k/v and gate/up are several fused into
// one of ours) carries one adapter pair per selected HF module, each adding
// to its own rows of the output. Core-private (torch).
#include "core/nn/lora_config.h"

#include <torch/nn/module.h>

#include <vector>

namespace preflab {

class LoraAdapterImpl : public torch::nn::Module {
public:
    // `sites` all on the same linear layer of `outFeatures` outputs.
    LoraAdapterImpl(std::vector<LoraSite> sites, int64_t outFeatures, const LoraConfig& config);

    // The adapters' contribution to the layer's output for input x [.., in]:
    // [.., out], zero in the rows no adapter covers.
    at::Tensor forward(const at::Tensor& x);
    // scale * B A laid out as the layer's weight [out, in].
    at::Tensor deltaWeight() const;

    const std::vector<LoraSite>& sites() const { return m_sites; }
    // A [rank, in] and B [rows, rank] of site i.
    const at::Tensor& a(size_t i) const { return m_a[i]; }
    const at::Tensor& b(size_t i) const { return m_b[i]; }

private:
    std::vector<LoraSite> m_sites;  // in row order
    int64_t m_out;
    double m_scale, m_dropout;
    std::vector<at::Tensor> m_a, m_b;
};
TORCH_MODULE(LoraAdapter);

}  // namespace preflab
