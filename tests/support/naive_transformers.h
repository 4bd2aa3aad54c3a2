#pragma once
// Naive references for the Hugging Face families, written from the formulas
// in double precision, head by head, one unpadded sequence at a time: what
// the loader's and the reward-model scorer's outputs are checked against.
#include "support/hf_fixtures.h"

#include <cmath>
#include <vector>

namespace preflab::test {

inline at::Tensor layerNorm(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b) {
    const at::Tensor mean = x.mean(-1, true);
    const at::Tensor var = (x - mean).pow(2).mean(-1, true);
    return (x - mean) / (var + 1e-5).sqrt() * w + b;
}

inline at::Tensor geluTanh(const at::Tensor& x) {
    return 0.5 * x * (1.0 + at::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x.pow(3))));
}

// GPT-2 on one unpadded sequence, in double, head by head: the final
// LayerNorm's output [T, D].
inline at::Tensor naiveGpt2Hidden(const TinyGpt2& m, const std::vector<int64_t>& ids) {
    auto W = [&](const std::string& n) { return m.get(n).to(at::kDouble); };
    const int64_t T = static_cast<int64_t>(ids.size()), D = m.d, H = m.heads, Dh = D / H;
    const at::Tensor idx = at::tensor(ids, at::kLong);
    at::Tensor h = W("wte.weight").index_select(0, idx) + W("wpe.weight").narrow(0, 0, T);
    for (int64_t l = 0; l < m.layers; ++l) {
        const std::string p = "h." + std::to_string(l) + ".";
        const at::Tensor a = layerNorm(h, W(p + "ln_1.weight"), W(p + "ln_1.bias"));
        const at::Tensor qkv = at::matmul(a, W(p + "attn.c_attn.weight")) + W(p + "attn.c_attn.bias");
        std::vector<at::Tensor> heads;
        for (int64_t hd = 0; hd < H; ++hd) {
            const at::Tensor q = qkv.narrow(1, hd * Dh, Dh), k = qkv.narrow(1, D + hd * Dh, Dh),
                             v = qkv.narrow(1, 2 * D + hd * Dh, Dh);
            at::Tensor s = at::matmul(q, k.t()) / std::sqrt(static_cast<double>(Dh));
            for (int64_t i = 0; i < T; ++i) {
                for (int64_t j = i + 1; j < T; ++j) s[i][j] = -INFINITY;
            }
            heads.push_back(at::matmul(at::softmax(s, 1), v));
        }
        h = h + at::matmul(at::cat(heads, 1), W(p + "attn.c_proj.weight")) + W(p + "attn.c_proj.bias");
        const at::Tensor f = geluTanh(at::matmul(layerNorm(h, W(p + "ln_2.weight"), W(p + "ln_2.bias")), W(p + "mlp.c_fc.weight")) +
                                      W(p + "mlp.c_fc.bias"));
        h = h + at::matmul(f, W(p + "mlp.c_proj.weight")) + W(p + "mlp.c_proj.bias");
    }
    return layerNorm(h, W("ln_f.weight"), W("ln_f.bias"));
}

// Its logits: the head tied to wte.
inline at::Tensor naiveGpt2Logits(const TinyGpt2& m, const std::vector<int64_t>& ids) {
    return at::matmul(naiveGpt2Hidden(m, ids), m.get("wte.weight").to(at::kDouble).t());
}

inline at::Tensor rmsNorm(const at::Tensor& x, const at::Tensor& w, double eps) {
    return x / (x.pow(2).mean(-1, true) + eps).sqrt() * w;
}

// The rotary frequency of pair i: theta^(-2i/Dh), divided by the linear
// scale; or, with Llama 3 scaling, as Meta's reference code
// (apply_scaling in llama/model.py) computes it, one frequency at a time.
inline double ropeFrequency(const TinyLlama& m, int64_t i, int64_t Dh) {
    const double base = std::pow(m.theta, -2.0 * static_cast<double>(i) / static_cast<double>(Dh));
    if (!m.llama3) return base / m.ropeScale;
    const double oldContext = 16, low = 1, high = 4;
    const double wavelen = 2 * M_PI / base;
    if (wavelen < oldContext / high) return base;
    if (wavelen > oldContext / low) return base / m.ropeScale;
    const double smooth = (oldContext / wavelen - low) / (high - low);
    return (1 - smooth) * base / m.ropeScale + smooth * base;
}

// Rotates each (i, i + Dh/2) pair of the rows of x [T,Dh] by position p's
// angle p * frequency(i), one element at a time.
inline at::Tensor rotate(const at::Tensor& x, const TinyLlama& m) {
    const int64_t T = x.size(0), Dh = x.size(1), half = Dh / 2;
    at::Tensor out = x.clone();
    for (int64_t p = 0; p < T; ++p) {
        for (int64_t i = 0; i < half; ++i) {
            const double angle = static_cast<double>(p) * ropeFrequency(m, i, Dh);
            const double a = x[p][i].item<double>(), b = x[p][i + half].item<double>();
            out[p][i] = a * std::cos(angle) - b * std::sin(angle);
            out[p][i + half] = b * std::cos(angle) + a * std::sin(angle);
        }
    }
    return out;
}

// A Llama-family forward on one unpadded sequence, in double, head by head:
// the final RMSNorm's output [T, D].
inline at::Tensor naiveLlamaHidden(const TinyLlama& m, const std::vector<int64_t>& ids) {
    auto W = [&](const std::string& n) { return m.get(n).to(at::kDouble); };
    const int64_t T = static_cast<int64_t>(ids.size()), H = m.heads, Dh = m.headDim(), group = m.heads / m.kvHeads;
    at::Tensor h = W("model.embed_tokens.weight").index_select(0, at::tensor(ids, at::kLong));
    for (int64_t l = 0; l < m.layers; ++l) {
        const std::string p = "model.layers." + std::to_string(l) + ".";
        const at::Tensor a = rmsNorm(h, W(p + "input_layernorm.weight"), 1e-6);
        at::Tensor q = at::matmul(a, W(p + "self_attn.q_proj.weight").t()), k = at::matmul(a, W(p + "self_attn.k_proj.weight").t()),
                   v = at::matmul(a, W(p + "self_attn.v_proj.weight").t());
        if (m.biases()) {
            q = q + W(p + "self_attn.q_proj.bias");
            k = k + W(p + "self_attn.k_proj.bias");
            v = v + W(p + "self_attn.v_proj.bias");
        }
        std::vector<at::Tensor> heads;
        for (int64_t hd = 0; hd < H; ++hd) {
            const int64_t g = hd / group;  // the key/value head this query head reads
            at::Tensor qh = q.narrow(1, hd * Dh, Dh), kh = k.narrow(1, g * Dh, Dh);
            if (m.qkNorm()) {  // Qwen3: each head's query and key RMS-normalised, then rotated
                qh = rmsNorm(qh, W(p + "self_attn.q_norm.weight"), 1e-6);
                kh = rmsNorm(kh, W(p + "self_attn.k_norm.weight"), 1e-6);
            }
            qh = rotate(qh, m);
            kh = rotate(kh, m);
            at::Tensor s = at::matmul(qh, kh.t()) / std::sqrt(static_cast<double>(Dh));
            for (int64_t i = 0; i < T; ++i) {
                for (int64_t j = i + 1; j < T; ++j) s[i][j] = -INFINITY;
            }
            heads.push_back(at::matmul(at::softmax(s, 1), v.narrow(1, g * Dh, Dh)));
        }
        h = h + at::matmul(at::cat(heads, 1), W(p + "self_attn.o_proj.weight").t());
        const at::Tensor x = rmsNorm(h, W(p + "post_attention_layernorm.weight"), 1e-6);
        const at::Tensor gate = at::matmul(x, W(p + "mlp.gate_proj.weight").t());
        const at::Tensor up = at::matmul(x, W(p + "mlp.up_proj.weight").t());
        h = h + at::matmul(gate * at::sigmoid(gate) * up, W(p + "mlp.down_proj.weight").t());
    }
    return rmsNorm(h, W("model.norm.weight"), 1e-6);
}

// Its logits: the tied embedding or lm_head.
inline at::Tensor naiveLlamaLogits(const TinyLlama& m, const std::vector<int64_t>& ids) {
    const at::Tensor head = m.tied ? m.get("model.embed_tokens.weight") : m.get("lm_head.weight");
    return at::matmul(naiveLlamaHidden(m, ids), head.to(at::kDouble).t());
}

}  // namespace preflab::test
