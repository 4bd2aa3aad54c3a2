#pragma once
// Decoder-only transformer (pre-LN, learned positions, causal attention, tanh-GELU
// MLP, head tied to the token embedding: GPT-2's layout) with a KV cache for
// batched sampling; with config.llama the Llama family's layout instead
// (RMSNorm, rotary positions, grouped-query attention, SwiGLU, optional
// untied head and q/k/v biases).
// Core-private: includes torch. Not thread-safe; one thread uses a model at a time.
//
// Padding: a batch may be padded on either side. Positions are counted over real
// tokens only (cumsum of the mask), and padded keys are masked, so a padded
// sequence gets the same logits as the same sequence alone.
#include "core/nn/lora_adapter.h"
#include "core/nn/lora_config.h"
#include "core/nn/transformer_config.h"

#include <torch/nn/module.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include <tuple>
#include <vector>

namespace preflab {

// Keys and values of every layer for a batch being decoded.
struct KVCache {
    std::vector<at::Tensor> keys;    // per layer [B, H, capacity, Dh]
    std::vector<at::Tensor> values;  // per layer [B, H, capacity, Dh]
    at::Tensor keyBias;              // [B, capacity]: 0 for real tokens, large negative for padding
    at::Tensor realCount;            // [B] int64: real tokens seen so far (next position)
    int64_t length = 0;              // columns filled
    int64_t capacity = 0;
};

// Root-mean-square norm (Llama): x / sqrt(mean(x^2) + eps) * weight, computed
// in fp32 (fp64 for an fp64 model). LibTorch 1.13 has no RMSNorm module.
class RmsNormImpl : public torch::nn::Module {
public:
    RmsNormImpl(int64_t dim, double eps);
    at::Tensor forward(const at::Tensor& x);

private:
    at::Tensor m_weight;
    double m_eps;
};
TORCH_MODULE(RmsNorm);

// Rotary position tables for a batch: cos and sin [B,1,T,Dh] (undefined for
// learned positions).
struct Rotary {
    at::Tensor cos, sin;
};

class TransformerBlockImpl : public torch::nn::Module {
public:
    explicit TransformerBlockImpl(const TransformerConfig& c);
    // x [B,T,D]; bias [B,1,T,T] additive attention bias.
    at::Tensor forward(const at::Tensor& x, const at::Tensor& bias, const Rotary& rope = {});
    // x [B,Tn,D] new positions; keys/values are written into the cache at `offset`.
    at::Tensor forwardCached(const at::Tensor& x, const at::Tensor& bias, at::Tensor& cacheK, at::Tensor& cacheV,
                             int64_t offset, const Rotary& rope = {});

    // Adds LoRA adapters on `sites` (base weights are frozen by the model).
    void addLora(const std::vector<LoraSite>& sites, const LoraConfig& config);
    void setLoraEnabled(bool on) { m_loraEnabled = on; }
    // The adapter of linear layer "qkv", "attn_out", "fc" or "proj" (null when none).
    LoraAdapter adapter(const std::string& linear) const;
    // The base weight of one of those layers.
    at::Tensor baseWeight(const std::string& linear) const;

private:
    // layer(x), plus its adapters' contribution when it has them and they are on.
    at::Tensor linear(torch::nn::Linear& layer, LoraAdapter& adapter, const at::Tensor& x);
    at::Tensor norm1(const at::Tensor& x);
    at::Tensor mlp(const at::Tensor& x);
    // q [B,H,T,Dh], k and v [B,Hkv,S,Dh].
    at::Tensor attend(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& bias);
    // q, k, v [B,H|Hkv,T,Dh] of x (rotated when rope is set).
    std::tuple<at::Tensor, at::Tensor, at::Tensor> project(const at::Tensor& x, const Rotary& rope);

    bool m_llama;
    int64_t m_heads, m_kvHeads;
    int64_t m_headDim;
    torch::nn::LayerNorm m_ln1{nullptr}, m_ln2{nullptr};
    RmsNorm m_rms1{nullptr}, m_rms2{nullptr};
    RmsNorm m_qNorm{nullptr}, m_kNorm{nullptr};  // Qwen3's per-head q/k norms (config.qkNorm)
    torch::nn::Linear m_qkv{nullptr}, m_attnOut{nullptr}, m_fc{nullptr}, m_proj{nullptr};
    LoraAdapter m_qkvLora{nullptr}, m_attnOutLora{nullptr}, m_fcLora{nullptr}, m_projLora{nullptr};
    bool m_loraEnabled = true;
};
TORCH_MODULE(TransformerBlock);

// Mask codes beyond 0 (padding) and 1 (a real token) for a preference pair
// packed with its prompt once (prefix sharing, sequence_batch.h): prompt
// tokens are kSharedPrefix, then the chosen response's kFirstBranch, then the
// rejected response's kSecondBranch, which are positioned right after the
// prompt and attend to the prompt and to themselves only.
inline constexpr int64_t kSharedPrefix = 1, kFirstBranch = 2, kSecondBranch = 3;

class TransformerImpl : public torch::nn::Module {
public:
    explicit TransformerImpl(const TransformerConfig& config);

    const TransformerConfig& config() const { return m_config; }
    // ids [B,T] int64, mask [B,T] (1 = real token; or the codes above). Final-norm hidden states [B,T,D].
    at::Tensor hidden(const at::Tensor& ids, const at::Tensor& mask);
    at::Tensor logitsFromHidden(const at::Tensor& h);
    at::Tensor forward(const at::Tensor& ids, const at::Tensor& mask) { return logitsFromHidden(hidden(ids, mask)); }

    // The scalar head (config.scalarHead) on each row's last real token of a
    // right-padded batch: [B]. A reward model's score, or a value.
    at::Tensor scalar(const at::Tensor& ids, const at::Tensor& mask);
    // The scalar head on every position's hidden state [B,T] (values per token).
    at::Tensor scalarPerToken(const at::Tensor& ids, const at::Tensor& mask);
    bool hasScalarHead() const { return m_config.scalarHead != 0; }

    KVCache newCache(int64_t batch, int64_t capacity) const;
    // Llama layout: the rotary inverse frequencies [Dh/2] (fp32) and what
    // positions are divided by before they multiply them (a hand-written
    // decode step rotates with the same angles: core/nn/fused_decoder).
    const at::Tensor& ropeInverseFrequencies() const { return m_ropeInvFreq; }
    double ropePositionScale() const { return m_config.ropeOriginalContext > 0 ? 1.0 : m_config.ropeScale; }
    // Feeds new tokens ids [B,Tn] with mask [B,Tn]; returns logits [B,Tn,V].
    at::Tensor forwardCached(const at::Tensor& ids, const at::Tensor& mask, KVCache& cache);

    // LoRA: adapters on the projections config.targets selects (throws
    // std::invalid_argument for a bad target or a second call), A and B
    // initialised as PEFT does (from torch's generator: seed it first), every
    // other weight frozen. With adapters off the model is its base, so one
    // copy of the weights serves as both policy and reference.
    void addLora(const LoraConfig& config);
    bool hasLora() const { return m_lora.rank > 0; }
    const LoraConfig& lora() const { return m_lora; }
    void setLoraEnabled(bool on);
    std::vector<TransformerBlock>& blocks() { return m_blocks; }
    // The parameters a run trains: the adapters with LoRA, else all.
    std::vector<at::Tensor> trainableParameters();
    // Recompute each block's activations in the backward pass instead of
    // keeping them (less memory, about one more forward pass of time).
    void setGradientCheckpointing(bool on) { m_checkpointing = on; }
    bool gradientCheckpointing() const { return m_checkpointing; }

private:
    at::Tensor embed(const at::Tensor& ids, const at::Tensor& positions);
    Rotary rotary(const at::Tensor& positions) const;
    at::Tensor finalNorm(const at::Tensor& x);
    void initWeights();

    TransformerConfig m_config;
    torch::nn::Embedding m_tokens{nullptr}, m_positions{nullptr};
    std::vector<TransformerBlock> m_blocks;
    torch::nn::LayerNorm m_lnFinal{nullptr};
    RmsNorm m_rmsFinal{nullptr};
    at::Tensor m_ropeInvFreq;  // [Dh/2] theta^(-2i/Dh), fp32; not a parameter (Llama layout only)
    torch::nn::Linear m_head{nullptr};  // untied output head (Llama without tie_word_embeddings)
    torch::nn::Linear m_scalarHead{nullptr};
    LoraConfig m_lora;  // rank 0: none
    bool m_checkpointing = false;
};
TORCH_MODULE(Transformer);

// A model with a scalar head whose other weights are copied from `base` (a
// reward model or value function started from a language model); the head
// starts at zero, so every score is 0 before training.
Transformer withScalarHead(Transformer& base);

// A copy with the same weights and adapters (the frozen reference at run start).
Transformer cloneTransformer(Transformer& source);

// A model without adapters whose weights are `source`'s with its LoRA deltas
// merged in (W + scale B A), in the source's dtype: what an exported model holds.
Transformer mergeLora(Transformer& source);

}  // namespace preflab
