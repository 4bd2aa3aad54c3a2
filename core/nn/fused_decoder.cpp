#include "core/nn/fused_decoder.h"

#include <ATen/ATen.h>

#include <cmath>
#include <dlfcn.h>
#include <stdexcept>
#include <string>

namespace preflab {
namespace {

// Fortran BLAS sgemm_, column-major. Looked up in the process rather than
// linked: it is the BLAS LibTorch itself loaded (libblas.so.3, which Debian's
// alternatives point at OpenBLAS), so no BLAS development package is needed
// to build and the products run on the same kernels as LibTorch's own.
using Sgemm = void (*)(const char* transa, const char* transb, const int* m, const int* n, const int* k,
                       const float* alpha, const float* a, const int* lda, const float* b, const int* ldb,
                       const float* beta, float* c, const int* ldc);

Sgemm sgemm() {
    static const Sgemm f = reinterpret_cast<Sgemm>(dlsym(RTLD_DEFAULT, "sgemm_"));
    return f;
}

// Fortran BLAS sgemv_, column-major, looked up the same way. For one row a
// matrix-vector product streams the weights once; sgemm with one column
// first copies them into its packed layout, which for a weight matrix larger
// than the caches reads and writes it again (batch 1 of a 124 M model ran at
// about a third of the memory-bandwidth bound through sgemm).
using Sgemv = void (*)(const char* trans, const int* m, const int* n, const float* alpha, const float* a,
                       const int* lda, const float* x, const int* incx, const float* beta, float* y, const int* incy);

Sgemv sgemv() {
    static const Sgemv f = reinterpret_cast<Sgemv>(dlsym(RTLD_DEFAULT, "sgemv_"));
    return f;
}

// Row-major out[M,N] = beta * out + in[M,K] * weight[N,K]^T.
void product(const float* in, const float* weight, float* out, int64_t M, int64_t N, int64_t K, float beta) {
    const float one = 1.0f;
    if (M == 1 && sgemv()) {
        const int rows = static_cast<int>(K), cols = static_cast<int>(N), inc = 1;
        sgemv()("T", &rows, &cols, &one, weight, &rows, in, &inc, &beta, out, &inc);
        return;
    }
    const int m = static_cast<int>(N), n = static_cast<int>(M), k = static_cast<int>(K);
    sgemm()("T", "N", &m, &n, &k, &one, weight, &k, in, &k, &beta, out, &m);
}

// Row-major out[M,N] = bias + in[M,K] * weight[N,K]^T (a Linear layer), or
// out += in * weight^T when `accumulate` (the residual stream).
void linear(const float* in, const float* weight, const float* bias, float* out, int64_t M, int64_t N, int64_t K,
            bool accumulate) {
    for (int64_t m = 0; m < M; ++m) {
        float* row = out + m * N;
        if (accumulate) {
            for (int64_t n = 0; n < N; ++n) row[n] += bias[n];
        } else {
            for (int64_t n = 0; n < N; ++n) row[n] = bias[n];
        }
    }
    product(in, weight, out, M, N, K, 1.0f);
}

// The attention dots and weighted sums for one (row, head), in the widest
// vector unit the CPU has: on x86-64, GCC builds an AVX2 and a baseline copy
// and picks one when the program loads (target_clones).
#if defined(__x86_64__) && defined(__GNUC__)
#define PREFLAB_VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define PREFLAB_VECTOR_CLONES
#endif

PREFLAB_VECTOR_CLONES void scoreKeys(const float* q, const float* keys, const float* keyBias,
                                                               int64_t length, int64_t dh, float scale, float* scores) {
    for (int64_t j = 0; j < length; ++j) {
        const float* k = keys + j * dh;
        // Eight independent partial sums, so that the loop vectorises
        // without reassociating a single float sum.
        float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        int64_t d = 0;
        for (; d + 8 <= dh; d += 8) {
            for (int i = 0; i < 8; ++i) acc[i] += q[d + i] * k[d + i];
        }
        float s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
        for (; d < dh; ++d) s += q[d] * k[d];
        scores[j] = s * scale + keyBias[j];
    }
}

PREFLAB_VECTOR_CLONES void weighValues(const float* probs, const float* values,
                                                                 int64_t length, int64_t dh, float* out) {
    for (int64_t d = 0; d < dh; ++d) out[d] = 0.0f;
    for (int64_t j = 0; j < length; ++j) {
        const float p = probs[j];
        if (p == 0.0f) continue;  // masked padding
        const float* v = values + j * dh;
        for (int64_t d = 0; d < dh; ++d) out[d] += p * v[d];
    }
}

const float* pointer(std::vector<at::Tensor>& keep, const at::Tensor& t) {
    keep.push_back(t.detach().contiguous());
    return keep.back().data_ptr<float>();
}

}  // namespace

bool FusedDecoder::supports(Transformer& model) {
    const TransformerConfig& c = model->config();
    if (c.llama || c.keyValueHeads() != c.nHeads || model->hasLora() || !sgemm()) return false;
    for (const auto& p : model->parameters()) {
        if (p.scalar_type() != at::kFloat || !p.device().is_cpu()) return false;
    }
    return true;
}

FusedDecoder::FusedDecoder(Transformer& model, KVCache& cache) : m_cache(cache) {
    if (!supports(model)) throw std::invalid_argument("FusedDecoder: the model has no fused decoding path");
    const TransformerConfig& c = model->config();
    m_batch = cache.keys.at(0).size(0);
    m_dModel = c.dModel;
    m_heads = c.nHeads;
    m_headDim = c.headDim();
    m_ff = c.dFF;
    m_vocab = c.vocabSize;
    m_context = c.maxSeqLen;
    auto params = model->named_parameters();
    auto weight = [&](const std::string& name) {
        const at::Tensor* t = params.find(name);
        if (!t) throw std::invalid_argument("FusedDecoder: the model has no parameter " + name);
        return pointer(m_weights, *t);
    };
    m_tokens = weight("tokens.weight");
    m_positions = weight("positions.weight");
    m_lnFinalW = weight("ln_final.weight");
    m_lnFinalB = weight("ln_final.bias");
    for (int64_t i = 0; i < c.nLayers; ++i) {
        const std::string b = "block" + std::to_string(i) + ".";
        Layer l{};
        l.ln1w = weight(b + "ln1.weight");
        l.ln1b = weight(b + "ln1.bias");
        l.qkvW = weight(b + "qkv.weight");
        l.qkvB = weight(b + "qkv.bias");
        l.outW = weight(b + "attn_out.weight");
        l.outB = weight(b + "attn_out.bias");
        l.ln2w = weight(b + "ln2.weight");
        l.ln2b = weight(b + "ln2.bias");
        l.fcW = weight(b + "fc.weight");
        l.fcB = weight(b + "fc.bias");
        l.projW = weight(b + "proj.weight");
        l.projB = weight(b + "proj.bias");
        at::Tensor& k = cache.keys.at(static_cast<size_t>(i));
        at::Tensor& v = cache.values.at(static_cast<size_t>(i));
        const std::vector<int64_t> shape{m_batch, m_heads, cache.capacity, m_headDim};
        if (!k.is_contiguous() || !v.is_contiguous() || k.scalar_type() != at::kFloat || v.scalar_type() != at::kFloat ||
            k.sizes() != at::IntArrayRef(shape) || v.sizes() != at::IntArrayRef(shape)) {
            throw std::invalid_argument("FusedDecoder: the KV cache must be contiguous fp32 [B, heads, capacity, head size]");
        }
        l.keys = k.data_ptr<float>();
        l.values = v.data_ptr<float>();
        m_layers.push_back(l);
    }
    if (cache.keys.size() != static_cast<size_t>(c.nLayers) || !cache.keyBias.is_contiguous() ||
        !cache.realCount.is_contiguous() || cache.keyBias.sizes() != at::IntArrayRef({m_batch, cache.capacity}) ||
        cache.keyBias.scalar_type() != at::kFloat || cache.realCount.sizes() != at::IntArrayRef({m_batch}) ||
        cache.realCount.scalar_type() != at::kLong) {
        throw std::invalid_argument("FusedDecoder: the KV cache does not fit the model");
    }
    m_x.resize(static_cast<size_t>(m_batch * m_dModel));
    m_normed.resize(m_x.size());
    m_attended.resize(m_x.size());
    m_qkv.resize(static_cast<size_t>(3 * m_batch * m_dModel));
    m_scores = at::empty({m_batch * m_heads * cache.capacity}, at::kFloat);
    m_mlp = at::empty({m_batch, m_ff}, at::kFloat);
    // Zeros, not empty: the head's product overwrites it with beta = 0, which
    // some BLAS versions implement as a scaling that would keep a NaN.
    m_logits = at::zeros({m_batch, m_vocab}, at::kFloat);
}

void FusedDecoder::layerNorm(const float* w, const float* b, const float* in, float* out) const {
    const int64_t D = m_dModel;
    for (int64_t r = 0; r < m_batch; ++r) {
        const float* x = in + r * D;
        float* y = out + r * D;
        double mean = 0, var = 0;
        for (int64_t d = 0; d < D; ++d) mean += x[d];
        mean /= static_cast<double>(D);
        for (int64_t d = 0; d < D; ++d) var += (x[d] - mean) * (x[d] - mean);
        // torch's LayerNorm: biased variance, eps 1e-5.
        const float inv = static_cast<float>(1.0 / std::sqrt(var / static_cast<double>(D) + 1e-5));
        const float m = static_cast<float>(mean);
        for (int64_t d = 0; d < D; ++d) y[d] = (x[d] - m) * inv * w[d] + b[d];
    }
}

void FusedDecoder::attention(const Layer& layer, int64_t length) {
    const int64_t H = m_heads, Dh = m_headDim, D = m_dModel, cap = m_cache.capacity;
    const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(Dh)));
    const float* keyBias = m_cache.keyBias.data_ptr<float>();
    float* scores = m_scores.data_ptr<float>();
    for (int64_t b = 0; b < m_batch; ++b) {
        for (int64_t h = 0; h < H; ++h) {
            const float* q = m_qkv.data() + b * 3 * D + h * Dh;
            scoreKeys(q, layer.keys + (b * H + h) * cap * Dh, keyBias + b * cap, length, Dh, scale,
                      scores + (b * H + h) * length);
        }
    }
    // Softmax over each (row, head)'s `length` scores, packed rows.
    at::Tensor packed = m_scores.narrow(0, 0, m_batch * H * length).view({m_batch * H, length});
    at::_softmax_out(packed, packed, -1, false);
    for (int64_t b = 0; b < m_batch; ++b) {
        for (int64_t h = 0; h < H; ++h) {
            weighValues(scores + (b * H + h) * length, layer.values + (b * H + h) * cap * Dh, length, Dh,
                        m_attended.data() + b * D + h * Dh);
        }
    }
}

at::Tensor FusedDecoder::step(const std::vector<int64_t>& ids) {
    const int64_t B = m_batch, D = m_dModel, H = m_heads, Dh = m_headDim, cap = m_cache.capacity;
    if (static_cast<int64_t>(ids.size()) != B) throw std::invalid_argument("FusedDecoder: one token per row");
    const int64_t L = m_cache.length;
    if (L + 1 > cap) throw std::out_of_range("KV cache full: " + std::to_string(L + 1) + " > " + std::to_string(cap));
    int64_t* real = m_cache.realCount.data_ptr<int64_t>();
    float* keyBias = m_cache.keyBias.data_ptr<float>();
    for (int64_t b = 0; b < B; ++b) {
        if (real[b] >= m_context) {
            throw std::out_of_range("sequence longer than the model's context (" + std::to_string(m_context) + " tokens)");
        }
        if (ids[static_cast<size_t>(b)] < 0 || ids[static_cast<size_t>(b)] >= m_vocab) {
            throw std::out_of_range("token id " + std::to_string(ids[static_cast<size_t>(b)]) + " outside the vocabulary");
        }
    }
    for (int64_t b = 0; b < B; ++b) {
        const float* tok = m_tokens + ids[static_cast<size_t>(b)] * D;
        const float* pos = m_positions + real[b] * D;
        float* x = m_x.data() + b * D;
        for (int64_t d = 0; d < D; ++d) x[d] = tok[d] + pos[d];
        real[b] += 1;
        keyBias[b * cap + L] = 0.0f;  // the new token is real, and sees itself
    }
    float* mlp = m_mlp.data_ptr<float>();
    for (const Layer& l : m_layers) {
        layerNorm(l.ln1w, l.ln1b, m_x.data(), m_normed.data());
        linear(m_normed.data(), l.qkvW, l.qkvB, m_qkv.data(), B, 3 * D, D, false);
        // qkv per row: [q | k | v], each H heads of Dh.
        for (int64_t b = 0; b < B; ++b) {
            for (int64_t h = 0; h < H; ++h) {
                const float* k = m_qkv.data() + b * 3 * D + D + h * Dh;
                const float* v = k + D;
                float* kDst = l.keys + ((b * H + h) * cap + L) * Dh;
                float* vDst = l.values + ((b * H + h) * cap + L) * Dh;
                for (int64_t d = 0; d < Dh; ++d) {
                    kDst[d] = k[d];
                    vDst[d] = v[d];
                }
            }
        }
        attention(l, L + 1);
        linear(m_attended.data(), l.outW, l.outB, m_x.data(), B, D, D, true);
        layerNorm(l.ln2w, l.ln2b, m_x.data(), m_normed.data());
        linear(m_normed.data(), l.fcW, l.fcB, mlp, B, m_ff, D, false);
        at::gelu_out(m_mlp, m_mlp, "tanh");
        linear(mlp, l.projW, l.projB, m_x.data(), B, D, m_ff, true);
    }
    m_cache.length = L + 1;
    layerNorm(m_lnFinalW, m_lnFinalB, m_x.data(), m_normed.data());
    // Tied head: logits = h * tokens^T, no bias.
    float* logits = m_logits.data_ptr<float>();
    product(m_normed.data(), m_tokens, logits, B, m_vocab, D, 0.0f);
    return m_logits;
}

}  // namespace preflab
