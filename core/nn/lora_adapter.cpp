#include "core/nn/lora_adapter.h"

#include <ATen/ATen.h>
#include <torch/nn/init.h>

#include <algorithm>
#include <cmath>

namespace preflab {

LoraAdapterImpl::LoraAdapterImpl(std::vector<LoraSite> sites, int64_t outFeatures, const LoraConfig& config)
    : m_sites(std::move(sites)), m_out(outFeatures), m_scale(config.scale()), m_dropout(config.dropout) {
    std::sort(m_sites.begin(), m_sites.end(), [](const LoraSite& x, const LoraSite& y) { return x.rowOffset < y.rowOffset; });
    for (const LoraSite& s : m_sites) {
        const std::string name = s.module.substr(s.module.rfind('.') + 1);
        // PEFT's initialisation: A Kaiming-uniform (a = sqrt 5, as nn.Linear), B zero,
        // so the adapted model starts equal to the base.
        at::Tensor a = at::empty({config.rank, s.inFeatures});
        torch::nn::init::kaiming_uniform_(a, std::sqrt(5.0));
        m_a.push_back(register_parameter(name + "_A", a));
        m_b.push_back(register_parameter(name + "_B", at::zeros({s.rows, config.rank})));
    }
}

at::Tensor LoraAdapterImpl::forward(const at::Tensor& x) {
    const at::Tensor in = (m_dropout > 0 && is_training()) ? at::dropout(x, m_dropout, true) : x;
    std::vector<at::Tensor> pieces;
    int64_t row = 0;
    auto gap = [&](int64_t until) {
        if (until > row) {
            std::vector<int64_t> shape = x.sizes().vec();
            shape.back() = until - row;
            pieces.push_back(at::zeros(shape, x.options()));
        }
    };
    for (size_t i = 0; i < m_sites.size(); ++i) {
        gap(m_sites[i].rowOffset);
        pieces.push_back(at::linear(at::linear(in, m_a[i].to(x.scalar_type())), m_b[i].to(x.scalar_type())) * m_scale);
        row = m_sites[i].rowOffset + m_sites[i].rows;
    }
    gap(m_out);
    return pieces.size() == 1 ? pieces.front() : at::cat(pieces, -1);
}

at::Tensor LoraAdapterImpl::deltaWeight() const {
    at::Tensor delta = at::zeros({m_out, m_sites.empty() ? 0 : m_sites.front().inFeatures}, m_a.front().options());
    for (size_t i = 0; i < m_sites.size(); ++i) {
        delta.narrow(0, m_sites[i].rowOffset, m_sites[i].rows).copy_(at::matmul(m_b[i], m_a[i]) * m_scale);
    }
    return delta;
}

}  // namespace preflab
