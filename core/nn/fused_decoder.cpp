#include "core/nn/fused_decoder.h"

#include "core/nn/bf16_products.h"

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

// Row-major out[M,N] = beta * out + in[M,K] * weight[N,K]^T, fp32.
void floatProduct(const float* in, const float* weight, float* out, int64_t M, int64_t N, int64_t K, float beta) {
    const float one = 1.0f;
    if (M == 1 && sgemv()) {
        const int rows = static_cast<int>(K), cols = static_cast<int>(N), inc = 1;
        sgemv()("T", &rows, &cols, &one, weight, &rows, in, &inc, &beta, out, &inc);
        return;
    }
    const int m = static_cast<int>(N), n = static_cast<int>(M), k = static_cast<int>(K);
    sgemm()("T", "N", &m, &n, &k, &one, weight, &k, in, &k, &beta, out, &m);
}

// The attention dots and weighted sums for one (row, head), in the widest
// vector unit the CPU has: on x86-64, GCC builds an AVX2 and a baseline copy
// and picks one when the program loads (target_clones). The cache holds the
// model's dtype: fp32, or bf16 (widened as it is read).
#if defined(__x86_64__) && defined(__GNUC__)
#define PREFLAB_VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#define PREFLAB_ALWAYS_INLINE __attribute__((always_inline)) inline
#else
#define PREFLAB_VECTOR_CLONES
#define PREFLAB_ALWAYS_INLINE inline
#endif

PREFLAB_ALWAYS_INLINE float widen(float v) { return v; }
PREFLAB_ALWAYS_INLINE float widen(uint16_t v) { return bf16ToFloat(v); }

template <typename T>
PREFLAB_ALWAYS_INLINE void scoreKeysOf(const float* q, const T* keys, const float* keyBias, int64_t length, int64_t dh,
                                       float scale, float* scores) {
    for (int64_t j = 0; j < length; ++j) {
        const T* k = keys + j * dh;
        // Eight independent partial sums, so that the loop vectorises
        // without reassociating a single float sum.
        float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        int64_t d = 0;
        for (; d + 8 <= dh; d += 8) {
            for (int i = 0; i < 8; ++i) acc[i] += q[d + i] * widen(k[d + i]);
        }
        float s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
        for (; d < dh; ++d) s += q[d] * widen(k[d]);
        scores[j] = s * scale + keyBias[j];
    }
}

template <typename T>
PREFLAB_ALWAYS_INLINE void weighValuesOf(const float* probs, const T* values, int64_t length, int64_t dh, float* out) {
    for (int64_t d = 0; d < dh; ++d) out[d] = 0.0f;
    for (int64_t j = 0; j < length; ++j) {
        const float p = probs[j];
        if (p == 0.0f) continue;  // masked padding
        const T* v = values + j * dh;
        for (int64_t d = 0; d < dh; ++d) out[d] += p * widen(v[d]);
    }
}

PREFLAB_VECTOR_CLONES void scoreKeys(const float* q, const float* keys, const float* keyBias, int64_t length,
                                     int64_t dh, float scale, float* scores) {
    scoreKeysOf(q, keys, keyBias, length, dh, scale, scores);
}
PREFLAB_VECTOR_CLONES void scoreKeys(const float* q, const uint16_t* keys, const float* keyBias, int64_t length,
                                     int64_t dh, float scale, float* scores) {
    scoreKeysOf(q, keys, keyBias, length, dh, scale, scores);
}
PREFLAB_VECTOR_CLONES void weighValues(const float* probs, const float* values, int64_t length, int64_t dh, float* out) {
    weighValuesOf(probs, values, length, dh, out);
}
PREFLAB_VECTOR_CLONES void weighValues(const float* probs, const uint16_t* values, int64_t length, int64_t dh,
                                       float* out) {
    weighValuesOf(probs, values, length, dh, out);
}

// x * rsqrt(mean(x^2) + eps) * w over one row (Llama's RMSNorm, as RmsNormImpl).
void rmsNorm(const float* x, const float* w, float* y, int64_t n, double eps) {
    double squares = 0;
    for (int64_t d = 0; d < n; ++d) squares += static_cast<double>(x[d]) * x[d];
    const float inv = static_cast<float>(1.0 / std::sqrt(squares / static_cast<double>(n) + eps));
    for (int64_t d = 0; d < n; ++d) y[d] = x[d] * inv * w[d];
}

// A weight kept alive and contiguous in `keep`, in its own dtype, or as an fp32 copy.
const void* pointer(std::vector<at::Tensor>& keep, const at::Tensor& t) {
    keep.push_back(t.detach().contiguous());
    return keep.back().data_ptr();
}
const float* floats(std::vector<at::Tensor>& keep, const at::Tensor& t) {
    keep.push_back(t.detach().to(at::kFloat).contiguous());
    return keep.back().data_ptr<float>();
}

}  // namespace

bool FusedDecoder::supports(Transformer& model) {
    if (model->hasLora()) return false;
    const at::ScalarType dtype = model->parameters().at(0).scalar_type();
    if (dtype == at::kFloat ? !sgemm() : !(dtype == at::kBFloat16 && bf16ProductsAvailable())) return false;
    for (const auto& p : model->parameters()) {
        if (p.scalar_type() != dtype || !p.device().is_cpu()) return false;
    }
    return true;
}

FusedDecoder::FusedDecoder(Transformer& model, KVCache& cache) : m_cache(cache) {
    if (!supports(model)) throw std::invalid_argument("FusedDecoder: the model has no fused decoding path");
    const TransformerConfig& c = model->config();
    const at::ScalarType dtype = model->parameters().at(0).scalar_type();
    m_llama = c.llama != 0;
    m_bf16 = dtype == at::kBFloat16;
    m_batch = cache.keys.empty() ? 0 : cache.keys.at(0).size(0);
    m_dModel = c.dModel;
    m_heads = c.nHeads;
    m_kvHeads = c.keyValueHeads();
    m_headDim = c.headDim();
    m_ff = c.dFF;
    m_vocab = c.vocabSize;
    m_context = c.maxSeqLen;
    m_normEps = c.normEps;
    auto params = model->named_parameters();
    auto find = [&](const std::string& name) -> const at::Tensor& {
        const at::Tensor* t = params.find(name);
        if (!t) throw std::invalid_argument("FusedDecoder: the model has no parameter " + name);
        return *t;
    };
    auto matrix = [&](const std::string& name) { return Matrix{pointer(m_weights, find(name))}; };
    auto vector = [&](const std::string& name) { return floats(m_weights, find(name)); };
    m_tokens = matrix("tokens.weight");
    m_head = m_llama && !c.tiedHead ? matrix("lm_head.weight") : m_tokens;
    m_finalNormW = vector("ln_final.weight");
    if (m_llama) {
        const at::Tensor inv = model->ropeInverseFrequencies().to(at::kFloat).contiguous();
        m_ropeInvFreq.assign(inv.data_ptr<float>(), inv.data_ptr<float>() + inv.numel());
        m_ropePositionScale = static_cast<float>(model->ropePositionScale());
    } else {
        m_positions = matrix("positions.weight");
        m_finalNormB = vector("ln_final.bias");
    }
    const std::vector<int64_t> shape{m_batch, m_kvHeads, cache.capacity, m_headDim};
    for (int64_t i = 0; i < c.nLayers; ++i) {
        const std::string b = "block" + std::to_string(i) + ".";
        Layer l;
        l.norm1W = vector(b + "ln1.weight");
        l.norm2W = vector(b + "ln2.weight");
        l.qkv = matrix(b + "qkv.weight");
        l.out = matrix(b + "attn_out.weight");
        l.fc = matrix(b + "fc.weight");
        l.proj = matrix(b + "proj.weight");
        if (!m_llama) {
            l.norm1B = vector(b + "ln1.bias");
            l.norm2B = vector(b + "ln2.bias");
            l.outB = vector(b + "attn_out.bias");
            l.fcB = vector(b + "fc.bias");
            l.projB = vector(b + "proj.bias");
        }
        if (!m_llama || c.qkvBias) l.qkvB = vector(b + "qkv.bias");
        if (m_llama && c.qkNorm) {
            l.qNorm = vector(b + "q_norm.weight");
            l.kNorm = vector(b + "k_norm.weight");
        }
        if (static_cast<size_t>(i) >= cache.keys.size()) break;  // refused below
        at::Tensor& k = cache.keys.at(static_cast<size_t>(i));
        at::Tensor& v = cache.values.at(static_cast<size_t>(i));
        if (!k.is_contiguous() || !v.is_contiguous() || k.scalar_type() != dtype || v.scalar_type() != dtype ||
            k.sizes() != at::IntArrayRef(shape) || v.sizes() != at::IntArrayRef(shape)) {
            throw std::invalid_argument("FusedDecoder: the KV cache must be contiguous [B, key/value heads, capacity, head size] "
                                        "in the model's dtype");
        }
        l.keys = k.data_ptr();
        l.values = v.data_ptr();
        m_layers.push_back(l);
    }
    if (cache.keys.size() != static_cast<size_t>(c.nLayers) || cache.values.size() != cache.keys.size() ||
        !cache.keyBias.is_contiguous() || !cache.realCount.is_contiguous() ||
        cache.keyBias.sizes() != at::IntArrayRef({m_batch, cache.capacity}) || cache.keyBias.scalar_type() != at::kFloat ||
        cache.realCount.sizes() != at::IntArrayRef({m_batch}) || cache.realCount.scalar_type() != at::kLong) {
        throw std::invalid_argument("FusedDecoder: the KV cache does not fit the model");
    }
    const int64_t attention = m_heads * m_headDim;
    m_x.resize(static_cast<size_t>(m_batch * m_dModel));
    m_normed.resize(m_x.size());
    m_attended.resize(static_cast<size_t>(m_batch * attention));
    m_qkv.resize(static_cast<size_t>(m_batch * (attention + 2 * m_kvHeads * m_headDim)));
    m_scores = at::empty({m_batch * m_heads * cache.capacity}, at::kFloat);
    m_mlp = at::empty({m_batch, m_llama ? 2 * m_ff : m_ff}, at::kFloat);
    if (m_llama) m_act.resize(static_cast<size_t>(m_batch * m_ff));
    // Zeros, not empty: the head's product overwrites it with beta = 0, which
    // some BLAS versions implement as a scaling that would keep a NaN.
    m_logits = at::zeros({m_batch, m_vocab}, at::kFloat);
}

void FusedDecoder::product(const float* in, const Matrix& w, float* out, int64_t N, int64_t K, float beta) {
    if (m_bf16) {
        bf16Product(in, static_cast<const uint16_t*>(w.data), out, m_batch, N, K, beta, m_bf16Scratch);
    } else {
        floatProduct(in, static_cast<const float*>(w.data), out, m_batch, N, K, beta);
    }
}

void FusedDecoder::linear(const float* in, const Matrix& w, const float* bias, float* out, int64_t N, int64_t K,
                          bool accumulate) {
    for (int64_t m = 0; m < m_batch; ++m) {
        float* row = out + m * N;
        if (bias && accumulate) {
            for (int64_t n = 0; n < N; ++n) row[n] += bias[n];
        } else if (bias) {
            for (int64_t n = 0; n < N; ++n) row[n] = bias[n];
        } else if (!accumulate) {
            for (int64_t n = 0; n < N; ++n) row[n] = 0.0f;
        }
    }
    product(in, w, out, N, K, 1.0f);
}

void FusedDecoder::norm(const float* w, const float* b, const float* in, float* out) const {
    const int64_t D = m_dModel;
    for (int64_t r = 0; r < m_batch; ++r) {
        const float* x = in + r * D;
        float* y = out + r * D;
        if (m_llama) {
            rmsNorm(x, w, y, D, m_normEps);
            continue;
        }
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

void FusedDecoder::embed(int64_t id, int64_t position, float* x) const {
    const int64_t D = m_dModel;
    if (m_bf16) {
        const uint16_t* tok = static_cast<const uint16_t*>(m_tokens.data) + id * D;
        const uint16_t* pos = m_llama ? nullptr : static_cast<const uint16_t*>(m_positions.data) + position * D;
        for (int64_t d = 0; d < D; ++d) x[d] = bf16ToFloat(tok[d]) + (pos ? bf16ToFloat(pos[d]) : 0.0f);
        return;
    }
    const float* tok = static_cast<const float*>(m_tokens.data) + id * D;
    if (m_llama) {
        for (int64_t d = 0; d < D; ++d) x[d] = tok[d];
        return;
    }
    const float* pos = static_cast<const float*>(m_positions.data) + position * D;
    for (int64_t d = 0; d < D; ++d) x[d] = tok[d] + pos[d];
}

// Llama: each row's rotation angles for this step, once for every layer, in
// fp32 as TransformerImpl::rotary computes them: [B, Dh/2] cosines and sines.
void FusedDecoder::rotaryAngles(const int64_t* positions) {
    const int64_t half = m_headDim / 2;
    m_cosines.resize(static_cast<size_t>(m_batch * half));
    m_sines.resize(m_cosines.size());
    for (int64_t b = 0; b < m_batch; ++b) {
        const float position = static_cast<float>(positions[b]) / m_ropePositionScale;
        for (int64_t i = 0; i < half; ++i) {
            const float angle = position * m_ropeInvFreq[static_cast<size_t>(i)];
            m_cosines[static_cast<size_t>(b * half + i)] = std::cos(angle);
            m_sines[static_cast<size_t>(b * half + i)] = std::sin(angle);
        }
    }
}

// Llama: Qwen3's per-head norms, then each query and key head rotated by its
// row's angles (HF's rotate_half form: pairs (i, i + Dh/2)).
void FusedDecoder::rotateAndNormalise(const Layer& layer) {
    const int64_t Dh = m_headDim, half = Dh / 2, width = (m_heads + 2 * m_kvHeads) * Dh;
    for (int64_t b = 0; b < m_batch; ++b) {
        const float* cosines = m_cosines.data() + b * half;
        const float* sines = m_sines.data() + b * half;
        // Query heads, then key heads: contiguous in the qkv row.
        for (int64_t h = 0; h < m_heads + m_kvHeads; ++h) {
            float* v = m_qkv.data() + b * width + h * Dh;
            const float* w = h < m_heads ? layer.qNorm : layer.kNorm;
            if (w) rmsNorm(v, w, v, Dh, m_normEps);
            for (int64_t i = 0; i < half; ++i) {
                const float lo = v[i], hi = v[i + half];
                v[i] = lo * cosines[i] - hi * sines[i];
                v[i + half] = hi * cosines[i] + lo * sines[i];
            }
        }
    }
}

// The new token's keys and values into the cache at `column`.
void FusedDecoder::appendKeysValues(const Layer& layer, int64_t column) {
    const int64_t Dh = m_headDim, Hkv = m_kvHeads, cap = m_cache.capacity;
    const int64_t width = (m_heads + 2 * Hkv) * Dh, keysAt = m_heads * Dh, valuesAt = keysAt + Hkv * Dh;
    for (int64_t b = 0; b < m_batch; ++b) {
        for (int64_t g = 0; g < Hkv; ++g) {
            const float* k = m_qkv.data() + b * width + keysAt + g * Dh;
            const float* v = m_qkv.data() + b * width + valuesAt + g * Dh;
            const int64_t at = ((b * Hkv + g) * cap + column) * Dh;
            if (m_bf16) {
                uint16_t* kDst = static_cast<uint16_t*>(layer.keys) + at;
                uint16_t* vDst = static_cast<uint16_t*>(layer.values) + at;
                for (int64_t d = 0; d < Dh; ++d) {
                    kDst[d] = floatToBf16(k[d]);
                    vDst[d] = floatToBf16(v[d]);
                }
            } else {
                float* kDst = static_cast<float*>(layer.keys) + at;
                float* vDst = static_cast<float*>(layer.values) + at;
                for (int64_t d = 0; d < Dh; ++d) {
                    kDst[d] = k[d];
                    vDst[d] = v[d];
                }
            }
        }
    }
}

void FusedDecoder::attention(const Layer& layer, int64_t length) {
    const int64_t H = m_heads, Hkv = m_kvHeads, Dh = m_headDim, cap = m_cache.capacity;
    const int64_t width = (H + 2 * Hkv) * Dh, group = H / Hkv;
    const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(Dh)));
    const float* keyBias = m_cache.keyBias.data_ptr<float>();
    float* scores = m_scores.data_ptr<float>();
    // Grouped-query attention: query head h reads key/value head h / (H / Hkv).
    auto cacheAt = [&](int64_t b, int64_t h) { return ((b * Hkv + h / group) * cap) * Dh; };
    for (int64_t b = 0; b < m_batch; ++b) {
        for (int64_t h = 0; h < H; ++h) {
            const float* q = m_qkv.data() + b * width + h * Dh;
            float* out = scores + (b * H + h) * length;
            if (m_bf16) {
                scoreKeys(q, static_cast<const uint16_t*>(layer.keys) + cacheAt(b, h), keyBias + b * cap, length, Dh, scale, out);
            } else {
                scoreKeys(q, static_cast<const float*>(layer.keys) + cacheAt(b, h), keyBias + b * cap, length, Dh, scale, out);
            }
        }
    }
    // Softmax over each (row, head)'s `length` scores, packed rows.
    at::Tensor packed = m_scores.narrow(0, 0, m_batch * H * length).view({m_batch * H, length});
    at::_softmax_out(packed, packed, -1, false);
    for (int64_t b = 0; b < m_batch; ++b) {
        for (int64_t h = 0; h < H; ++h) {
            const float* probs = scores + (b * H + h) * length;
            float* out = m_attended.data() + (b * H + h) * Dh;
            if (m_bf16) {
                weighValues(probs, static_cast<const uint16_t*>(layer.values) + cacheAt(b, h), length, Dh, out);
            } else {
                weighValues(probs, static_cast<const float*>(layer.values) + cacheAt(b, h), length, Dh, out);
            }
        }
    }
}

void FusedDecoder::mlp(const Layer& l) {
    const int64_t D = m_dModel, F = m_ff;
    float* mlp = m_mlp.data_ptr<float>();
    if (!m_llama) {
        linear(m_normed.data(), l.fc, l.fcB, mlp, F, D, false);
        at::gelu_out(m_mlp, m_mlp, "tanh");
        linear(mlp, l.proj, l.projB, m_x.data(), D, F, true);
        return;
    }
    // SwiGLU: fc holds [gate; up]; silu(gate) * up.
    linear(m_normed.data(), l.fc, nullptr, mlp, 2 * F, D, false);
    for (int64_t b = 0; b < m_batch; ++b) {
        const float* gate = mlp + b * 2 * F;
        const float* up = gate + F;
        float* act = m_act.data() + b * F;
        for (int64_t i = 0; i < F; ++i) act[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
    }
    linear(m_act.data(), l.proj, nullptr, m_x.data(), D, F, true);
}

at::Tensor FusedDecoder::step(const std::vector<int64_t>& ids) {
    const int64_t B = m_batch, D = m_dModel, cap = m_cache.capacity;
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
    // Each row's position: the real tokens before this one.
    std::vector<int64_t> positions(real, real + B);
    for (int64_t b = 0; b < B; ++b) {
        embed(ids[static_cast<size_t>(b)], positions[static_cast<size_t>(b)], m_x.data() + b * D);
        real[b] += 1;
        keyBias[b * cap + L] = 0.0f;  // the new token is real, and sees itself
    }
    if (m_llama) rotaryAngles(positions.data());
    const int64_t attentionWidth = m_heads * m_headDim, qkvWidth = attentionWidth + 2 * m_kvHeads * m_headDim;
    for (const Layer& l : m_layers) {
        norm(l.norm1W, l.norm1B, m_x.data(), m_normed.data());
        linear(m_normed.data(), l.qkv, l.qkvB, m_qkv.data(), qkvWidth, D, false);
        if (m_llama) rotateAndNormalise(l);
        appendKeysValues(l, L);
        attention(l, L + 1);
        linear(m_attended.data(), l.out, l.outB, m_x.data(), D, attentionWidth, true);
        norm(l.norm2W, l.norm2B, m_x.data(), m_normed.data());
        mlp(l);
    }
    m_cache.length = L + 1;
    norm(m_finalNormW, m_finalNormB, m_x.data(), m_normed.data());
    // logits = h * head^T, no bias (GPT-2's head is the token embedding).
    product(m_normed.data(), m_head, m_logits.data_ptr<float>(), m_vocab, D, 0.0f);
    return m_logits;
}

}  // namespace preflab
