#pragma once
// One decoding step of a GPT-2-layout model (PrefLab's built-in layout, and
// Hugging Face GPT-2), written out by hand on buffers allocated once per
// generation: token and position embedding, then per layer LayerNorm, the qkv
// product, attention over the KV cache, the output product, LayerNorm, the MLP
// (tanh-GELU), and the final LayerNorm and tied head.
//
// Why by hand: LibTorch sends each of the ~25 operations a decoded token needs
// per layer through its dispatcher and allocator, and runs attention as one
// small GEMM per (sequence, head). For a small model at the online loop's
// batch that overhead, not arithmetic, was the step: a profile of the
// built-in model's sampling (16 sequences) had 39 % of the time in
// libtorch_cpu's dispatch and tensor bookkeeping, 11 % in malloc, and a
// decode step of ~16 MFLOP took ~1.7 ms. Here the matrix products still go to
// the BLAS LibTorch itself uses (sgemm_, OpenBLAS on Debian), the tanh-GELU
// and softmax to LibTorch's vectorised kernels on preallocated tensors, and
// the rest (LayerNorm, attention dots) is plain loops over contiguous rows.
//
// Core-private (torch). It reads and extends the same KVCache as
// TransformerImpl::forwardCached and gives the same logits up to float
// rounding (tests/tst_fused_decoder.cpp compares the two). Models it does not
// support (the Llama layout, LoRA adapters, a dtype other than fp32) decode
// through forwardCached.
#include "core/nn/transformer.h"

#include <cstdint>
#include <vector>

namespace preflab {

class FusedDecoder {
public:
    // Whether `model` can decode here: GPT-2 layout with as many key/value
    // heads as query heads, fp32 weights on the CPU, no LoRA adapters, and a
    // BLAS sgemm_ in the process.
    static bool supports(Transformer& model);

    // For a cache of `cache.keys[0].size(0)` rows that `model` filled (the
    // prompt's prefill). Both must outlive the decoder; the weights must not
    // change while it is used.
    FusedDecoder(Transformer& model, KVCache& cache);

    // Feeds one real token per row (ids[b] for row b) at the end of the cache
    // and returns the next-token logits [B,V]: a view of a buffer that the
    // next call overwrites. Throws std::out_of_range when the cache or the
    // model's context is full, as forwardCached does.
    at::Tensor step(const std::vector<int64_t>& ids);

private:
    struct Layer {
        const float *ln1w, *ln1b, *qkvW, *qkvB, *outW, *outB, *ln2w, *ln2b, *fcW, *fcB, *projW, *projB;
        float *keys, *values;  // the cache's [B, H, capacity, Dh]
    };
    void layerNorm(const float* w, const float* b, const float* in, float* out) const;
    void attention(const Layer& layer, int64_t length);

    KVCache& m_cache;
    int64_t m_batch, m_dModel, m_heads, m_headDim, m_ff, m_vocab, m_context;
    std::vector<at::Tensor> m_weights;  // keeps every weight the raw pointers read alive and contiguous
    const float *m_tokens, *m_positions, *m_lnFinalW, *m_lnFinalB;
    std::vector<Layer> m_layers;
    // Work buffers, allocated once: x [B,D], normed [B,D], qkv [B,3D],
    // attended [B,D], scores [B,H,capacity], mlp [B,F], logits [B,V].
    std::vector<float> m_x, m_normed, m_qkv, m_attended;
    at::Tensor m_scores, m_mlp, m_logits;
};

}  // namespace preflab
