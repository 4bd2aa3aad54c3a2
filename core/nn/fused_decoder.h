#pragma once
// One decoding step of a model, written out by hand on buffers allocated once
// per generation: the embedding, then per layer the first norm, the qkv
// product, attention over the KV cache, the output product, the second norm,
// the MLP, and the final norm and head. Two layouts: GPT-2's (PrefLab's
// built-in layout and Hugging Face GPT-2: LayerNorm, learned positions,
// tanh-GELU, biases, tied head) and the Llama family's (RMSNorm, rotary
// positions, grouped-query attention, SwiGLU, optional q/k/v biases (Qwen2)
// and per-head q/k norms (Qwen3), optional untied head). Two weight types:
// fp32, and bf16 on CPUs with native bf16 dot products.
//
// Why by hand: LibTorch sends each of the ~25 operations a decoded token needs
// per layer through its dispatcher and allocator, and runs attention as one
// small GEMM per (sequence, head). For a small model at the online loop's
// batch that overhead, not arithmetic, was the step: a profile of the
// built-in model's sampling (16 sequences) had 39 % of the time in
// libtorch_cpu's dispatch and tensor bookkeeping, 11 % in malloc, and a
// decode step of ~16 MFLOP took ~1.7 ms. For a large model at batch 1 the
// step is reading the weights once: fp32 products go to sgemv_ (OpenBLAS),
// bf16 ones to core/nn/bf16_products (LibTorch's bf16 Linear on one row ran
// at a third to a half of the memory-bandwidth bound). Activations stay fp32
// throughout; the tanh-GELU and softmax go to LibTorch's vectorised kernels
// on preallocated tensors, and the rest (norms, rotation, attention dots) is
// plain loops over contiguous rows.
//
// Core-private (torch). It reads and extends the same KVCache as
// TransformerImpl::forwardCached (in the model's dtype) and gives the same
// logits up to float rounding, or for bf16 up to bf16 rounding (LibTorch
// rounds every activation to bf16; here only the products' inputs and the
// cache are). tests/tst_fused_decoder.cpp compares the two. Models it does
// not support (LoRA adapters, other dtypes, bf16 without native bf16) decode
// through forwardCached.
#include "core/nn/transformer.h"

#include <cstdint>
#include <vector>

namespace preflab {

class FusedDecoder {
public:
    // Whether `model` can decode here: GPT-2 or Llama layout, no LoRA
    // adapters, every weight on the CPU and fp32 (with a BLAS sgemm_ in the
    // process) or every weight bf16 (on a CPU with AVX512-BF16).
    static bool supports(Transformer& model);

    // For a cache of `cache.keys[0].size(0)` rows that `model` filled (the
    // prompt's prefill). Both must outlive the decoder; the weights must not
    // change while it is used.
    FusedDecoder(Transformer& model, KVCache& cache);

    // Feeds one real token per row (ids[b] for row b) at the end of the cache
    // and returns the next-token logits [B,V] (fp32): a view of a buffer that
    // the next call overwrites. Throws std::out_of_range when the cache or
    // the model's context is full, as forwardCached does.
    at::Tensor step(const std::vector<int64_t>& ids);

private:
    // A weight matrix [N,K] row-major, in the model's dtype.
    struct Matrix {
        const void* data = nullptr;
    };
    struct Layer {
        // Norm weights and biases are fp32 copies; a null bias is none.
        const float *norm1W = nullptr, *norm1B = nullptr, *norm2W = nullptr, *norm2B = nullptr;
        const float *qNorm = nullptr, *kNorm = nullptr;  // Qwen3's per-head norms
        Matrix qkv, out, fc, proj;
        const float *qkvB = nullptr, *outB = nullptr, *fcB = nullptr, *projB = nullptr;
        void *keys = nullptr, *values = nullptr;  // the cache's [B, kv heads, capacity, Dh]
    };
    void norm(const float* w, const float* b, const float* in, float* out) const;
    // out[M,N] = bias + in * w^T, or out += bias + in * w^T when accumulate.
    void linear(const float* in, const Matrix& w, const float* bias, float* out, int64_t N, int64_t K, bool accumulate);
    void product(const float* in, const Matrix& w, float* out, int64_t N, int64_t K, float beta);
    void rotaryAngles(const int64_t* positions);
    void rotateAndNormalise(const Layer& layer);
    void appendKeysValues(const Layer& layer, int64_t column);
    void attention(const Layer& layer, int64_t length);
    void mlp(const Layer& layer);
    void embed(int64_t id, int64_t position, float* x) const;

    KVCache& m_cache;
    bool m_llama = false, m_bf16 = false;
    int64_t m_batch, m_dModel, m_heads, m_kvHeads, m_headDim, m_ff, m_vocab, m_context;
    double m_normEps = 1e-5;
    std::vector<at::Tensor> m_weights;  // keeps every weight the raw pointers read alive and contiguous
    Matrix m_tokens, m_positions, m_head;
    const float *m_finalNormW = nullptr, *m_finalNormB = nullptr;
    std::vector<float> m_ropeInvFreq;  // Llama: [Dh/2]
    std::vector<float> m_cosines, m_sines;  // Llama: this step's angles, [B, Dh/2] each
    float m_ropePositionScale = 1.0f;
    std::vector<Layer> m_layers;
    // Work buffers, allocated once: x [B,D], normed [B,D], qkv [B,(H+2Hkv)Dh],
    // attended [B,H Dh], scores [B,H,capacity], mlp [B,F] (Llama: [B,2F] with
    // the gate and up halves, and act [B,F]), logits [B,V].
    std::vector<float> m_x, m_normed, m_qkv, m_attended, m_act;
    std::vector<uint16_t> m_bf16Scratch;  // the products' inputs rounded to bf16
    at::Tensor m_scores, m_mlp, m_logits;
};

}  // namespace preflab
