#include "core/nn/transformer.h"

#include "core/nn/block_checkpoint.h"
#include "core/nn/single_row_linear.h"

#include <ATen/ATen.h>
#include <torch/nn/init.h>

#include <cmath>
#include <stdexcept>

namespace preflab {
namespace {

// Large but finite, so that a fully masked row still gives a finite softmax.
constexpr double kMasked = -1e9;

}  // namespace

RmsNormImpl::RmsNormImpl(int64_t dim, double eps) : m_eps(eps) {
    m_weight = register_parameter("weight", at::ones({dim}));
}

at::Tensor RmsNormImpl::forward(const at::Tensor& x) {
    const at::Tensor xf = x.scalar_type() == at::kDouble ? x : x.to(at::kFloat);  // at least fp32
    const at::Tensor normed = xf * at::rsqrt(xf.pow(2).mean(-1, true) + m_eps);
    return m_weight * normed.to(x.scalar_type());
}

TransformerBlockImpl::TransformerBlockImpl(const TransformerConfig& c)
    : m_llama(c.llama != 0), m_heads(c.nHeads), m_kvHeads(c.keyValueHeads()), m_headDim(c.headDim()) {
    const int64_t kv = m_kvHeads * m_headDim, q = c.attentionWidth();
    if (m_llama) {
        m_rms1 = register_module("ln1", RmsNorm(c.dModel, c.normEps));
        m_qkv = register_module("qkv", torch::nn::Linear(torch::nn::LinearOptions(c.dModel, q + 2 * kv).bias(c.qkvBias != 0)));
        m_attnOut = register_module("attn_out", torch::nn::Linear(torch::nn::LinearOptions(q, c.dModel).bias(false)));
        if (c.qkNorm) {
            m_qNorm = register_module("q_norm", RmsNorm(m_headDim, c.normEps));
            m_kNorm = register_module("k_norm", RmsNorm(m_headDim, c.normEps));
        }
        m_rms2 = register_module("ln2", RmsNorm(c.dModel, c.normEps));
        // gate and up projections fused: [gate; up].
        m_fc = register_module("fc", torch::nn::Linear(torch::nn::LinearOptions(c.dModel, 2 * c.dFF).bias(false)));
        m_proj = register_module("proj", torch::nn::Linear(torch::nn::LinearOptions(c.dFF, c.dModel).bias(false)));
        return;
    }
    m_ln1 = register_module("ln1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.dModel})));
    m_qkv = register_module("qkv", torch::nn::Linear(c.dModel, 3 * c.dModel));
    m_attnOut = register_module("attn_out", torch::nn::Linear(c.dModel, c.dModel));
    m_ln2 = register_module("ln2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.dModel})));
    m_fc = register_module("fc", torch::nn::Linear(c.dModel, c.dFF));
    m_proj = register_module("proj", torch::nn::Linear(c.dFF, c.dModel));
}

at::Tensor TransformerBlockImpl::linear(torch::nn::Linear& layer, LoraAdapter& adapter, const at::Tensor& x) {
    const at::Tensor y = linearForward(x, layer->weight, layer->bias);
    return adapter && m_loraEnabled ? y + adapter(x) : y;
}

void TransformerBlockImpl::addLora(const std::vector<LoraSite>& sites, const LoraConfig& config) {
    const std::pair<const char*, std::pair<torch::nn::Linear*, LoraAdapter*>> layers[] = {
        {"qkv", {&m_qkv, &m_qkvLora}}, {"attn_out", {&m_attnOut, &m_attnOutLora}},
        {"fc", {&m_fc, &m_fcLora}}, {"proj", {&m_proj, &m_projLora}}};
    for (const auto& [name, pair] : layers) {
        std::vector<LoraSite> mine;
        for (const LoraSite& s : sites) {
            if (s.linear == name) mine.push_back(s);
        }
        if (mine.empty()) continue;
        const int64_t out = (*pair.first)->weight.size(0);
        *pair.second = register_module(std::string("lora_") + name, LoraAdapter(mine, out, config));
    }
}

LoraAdapter TransformerBlockImpl::adapter(const std::string& linear) const {
    if (linear == "qkv") return m_qkvLora;
    if (linear == "attn_out") return m_attnOutLora;
    if (linear == "fc") return m_fcLora;
    if (linear == "proj") return m_projLora;
    throw std::invalid_argument("no linear layer '" + linear + "'");
}

at::Tensor TransformerBlockImpl::baseWeight(const std::string& linear) const {
    if (linear == "qkv") return m_qkv->weight;
    if (linear == "attn_out") return m_attnOut->weight;
    if (linear == "fc") return m_fc->weight;
    if (linear == "proj") return m_proj->weight;
    throw std::invalid_argument("no linear layer '" + linear + "'");
}

at::Tensor TransformerBlockImpl::norm1(const at::Tensor& x) {
    return m_llama ? m_rms1(x) : m_ln1(x);
}

at::Tensor TransformerBlockImpl::mlp(const at::Tensor& x) {
    if (m_llama) {
        const auto gateUp = linear(m_fc, m_fcLora, m_rms2(x)).chunk(2, -1);
        return linear(m_proj, m_projLora, at::silu(gateUp[0]) * gateUp[1]);
    }
    // tanh-GELU (as GPT-2): cheaper than the exact erf form, which was ~10 % of a step.
    return linear(m_proj, m_projLora, at::gelu(linear(m_fc, m_fcLora, m_ln2(x)), "tanh"));
}

namespace {

// Rotates pairs (i, i + Dh/2) by the position's angles (HF's rotate_half form).
at::Tensor applyRotary(const at::Tensor& x, const Rotary& rope) {
    const int64_t half = x.size(-1) / 2;
    const at::Tensor rotated = at::cat({-x.narrow(-1, half, half), x.narrow(-1, 0, half)}, -1);
    return (x * rope.cos + rotated * rope.sin).to(x.scalar_type());
}

}  // namespace

std::tuple<at::Tensor, at::Tensor, at::Tensor> TransformerBlockImpl::project(const at::Tensor& x, const Rotary& rope) {
    const int64_t B = x.size(0), T = x.size(1);
    const at::Tensor qkv = linear(m_qkv, m_qkvLora, norm1(x));
    if (!m_llama) {
        const at::Tensor parts = qkv.view({B, T, 3, m_heads, m_headDim}).permute({2, 0, 3, 1, 4});
        return {parts[0], parts[1], parts[2]};
    }
    const int64_t q = m_heads * m_headDim, kv = m_kvHeads * m_headDim;
    at::Tensor qh = qkv.narrow(-1, 0, q).view({B, T, m_heads, m_headDim}).transpose(1, 2);
    at::Tensor kh = qkv.narrow(-1, q, kv).view({B, T, m_kvHeads, m_headDim}).transpose(1, 2);
    const at::Tensor vh = qkv.narrow(-1, q + kv, kv).view({B, T, m_kvHeads, m_headDim}).transpose(1, 2);
    if (m_qNorm) {
        // Qwen3: each head's query and key normalised over its own width, before the rotation.
        qh = m_qNorm->forward(qh);
        kh = m_kNorm->forward(kh);
    }
    return {applyRotary(qh, rope), applyRotary(kh, rope), vh};
}

at::Tensor TransformerBlockImpl::attend(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                        const at::Tensor& bias) {
    const double scale = 1.0 / std::sqrt(static_cast<double>(m_headDim));
    // Grouped-query attention: query head h reads key/value head h / (H / Hkv).
    const at::Tensor keys = m_kvHeads == m_heads ? k : k.repeat_interleave(m_heads / m_kvHeads, 1);
    const at::Tensor values = m_kvHeads == m_heads ? v : v.repeat_interleave(m_heads / m_kvHeads, 1);
    at::Tensor scores = at::matmul(q, keys.transpose(-2, -1)).mul_(scale);
    scores = scores + bias.to(scores.scalar_type());
    return at::matmul(at::softmax(scores, -1), values);
}

at::Tensor TransformerBlockImpl::forward(const at::Tensor& x, const at::Tensor& bias, const Rotary& rope) {
    const int64_t B = x.size(0), T = x.size(1);
    const auto [q, k, v] = project(x, rope);
    const at::Tensor att = attend(q, k, v, bias);
    const at::Tensor h = x + linear(m_attnOut, m_attnOutLora, att.transpose(1, 2).reshape({B, T, m_heads * m_headDim}));
    return h + mlp(h);
}

at::Tensor TransformerBlockImpl::forwardCached(const at::Tensor& x, const at::Tensor& bias, at::Tensor& cacheK,
                                               at::Tensor& cacheV, int64_t offset, const Rotary& rope) {
    const int64_t B = x.size(0), T = x.size(1);
    const auto [q, k, v] = project(x, rope);
    cacheK.narrow(2, offset, T).copy_(k);
    cacheV.narrow(2, offset, T).copy_(v);
    const at::Tensor att = attend(q, cacheK.narrow(2, 0, offset + T), cacheV.narrow(2, 0, offset + T), bias);
    const at::Tensor h = x + linear(m_attnOut, m_attnOutLora, att.transpose(1, 2).reshape({B, T, m_heads * m_headDim}));
    return h + mlp(h);
}

TransformerImpl::TransformerImpl(const TransformerConfig& config) : m_config(config) {
    const std::string err = config.validationError();
    if (!err.empty()) throw std::invalid_argument("transformer config: " + err);
    m_tokens = register_module("tokens", torch::nn::Embedding(config.vocabSize, config.dModel));
    if (!config.llama) m_positions = register_module("positions", torch::nn::Embedding(config.maxSeqLen, config.dModel));
    for (int64_t i = 0; i < config.nLayers; ++i) {
        m_blocks.push_back(register_module("block" + std::to_string(i), TransformerBlock(config)));
    }
    if (config.llama) {
        const int64_t dh = config.headDim();
        at::Tensor invFreq = at::pow(config.ropeTheta, at::arange(0, dh, 2, at::kDouble) / static_cast<double>(dh)).reciprocal();
        if (config.ropeOriginalContext > 0) {
            // Llama 3 scaling (HF _compute_llama3_parameters): wavelengths above
            // ctx / low_freq_factor slowed by the factor, below ctx / high_freq_factor
            // kept, a linear blend in ctx / wavelength between.
            const double ctx = static_cast<double>(config.ropeOriginalContext);
            const double lo = config.ropeLowFreqFactor, hi = config.ropeHighFreqFactor, factor = config.ropeScale;
            const at::Tensor wavelen = 2.0 * M_PI / invFreq;
            const at::Tensor smooth = ((ctx / wavelen - lo) / (hi - lo)).clamp(0.0, 1.0);
            invFreq = (1.0 - smooth) * invFreq / factor + smooth * invFreq;
        }
        m_ropeInvFreq = invFreq.to(at::kFloat);
        m_rmsFinal = register_module("ln_final", RmsNorm(config.dModel, config.normEps));
        if (!config.tiedHead) {
            m_head = register_module("lm_head", torch::nn::Linear(torch::nn::LinearOptions(config.dModel, config.vocabSize).bias(false)));
        }
    } else {
        m_lnFinal = register_module("ln_final", torch::nn::LayerNorm(torch::nn::LayerNormOptions({config.dModel})));
    }
    if (config.scalarHead) m_scalarHead = register_module("scalar_head", torch::nn::Linear(config.dModel, 1));
    initWeights();
}

void TransformerImpl::initWeights() {
    torch::NoGradGuard noGrad;
    const double residualStd = 0.02 / std::sqrt(2.0 * static_cast<double>(m_config.nLayers));
    for (auto& item : named_parameters()) {
        const std::string& name = item.key();
        at::Tensor& p = item.value();
        if (name.find("ln") != std::string::npos) continue;  // LayerNorm keeps weight 1, bias 0
        if (name.size() >= 4 && name.compare(name.size() - 4, 4, "bias") == 0) {
            p.zero_();
        } else if (name.find("attn_out") != std::string::npos || name.find("proj") != std::string::npos) {
            p.normal_(0.0, residualStd);
        } else {
            p.normal_(0.0, 0.02);
        }
    }
}

at::Tensor TransformerImpl::embed(const at::Tensor& ids, const at::Tensor& positions) {
    if (positions.numel() > 0 && positions.max().item<int64_t>() >= m_config.maxSeqLen) {
        throw std::out_of_range("sequence longer than the model's context (" + std::to_string(m_config.maxSeqLen) +
                                " tokens)");
    }
    return m_positions ? m_tokens(ids) + m_positions(positions) : m_tokens(ids);
}

Rotary TransformerImpl::rotary(const at::Tensor& positions) const {
    if (!m_config.llama) return {};
    // Linear scaling divides positions; Llama 3 scaling is in the frequencies.
    const at::Tensor pos = positions.to(at::kFloat) / ropePositionScale();
    const at::Tensor freqs = pos.unsqueeze(-1) * m_ropeInvFreq;                        // [B,T,Dh/2]
    const at::Tensor angles = at::cat({freqs, freqs}, -1).unsqueeze(1);                // [B,1,T,Dh]
    return {angles.cos(), angles.sin()};
}

at::Tensor TransformerImpl::finalNorm(const at::Tensor& x) {
    return m_rmsFinal ? m_rmsFinal(x) : m_lnFinal(x);
}

at::Tensor TransformerImpl::hidden(const at::Tensor& ids, const at::Tensor& mask) {
    const int64_t B = ids.size(0), T = ids.size(1);
    const at::Tensor maskLong = mask.to(at::kLong);
    // A pair packed with its prompt once (kSharedPrefix, kFirstBranch,
    // kSecondBranch; sequence_batch.h): the second branch takes the
    // positions right after the prompt and never sees the first branch, so
    // each of its tokens has the same context as in a sequence of its own.
    const bool branched = T > 0 && maskLong.max().item<int64_t>() > kSharedPrefix;
    const at::Tensor second = branched ? maskLong.eq(kSecondBranch) : at::Tensor();
    at::Tensor positions;
    if (!branched) {
        positions = (maskLong.cumsum(1) - 1).clamp_min(0);
    } else {
        const at::Tensor first = maskLong.gt(0).logical_and(second.logical_not()).to(at::kLong);
        const at::Tensor prefix = maskLong.eq(kSharedPrefix).sum(1, true);
        positions = at::where(second, prefix + second.to(at::kLong).cumsum(1) - 1, first.cumsum(1) - 1).clamp_min(0);
    }
    const auto boolOpts = ids.options().dtype(at::kBool);
    const at::Tensor causal = at::ones({T, T}, boolOpts).tril().view({1, 1, T, T});
    at::Tensor keys = maskLong.gt(0).view({B, 1, 1, T});
    if (branched) {
        // [B,1,T,T]: a second-branch query sees no first-branch key.
        const at::Tensor firstKeys = maskLong.eq(kFirstBranch).view({B, 1, 1, T});
        keys = keys.logical_and(second.view({B, 1, T, 1}).logical_and(firstKeys).logical_not());
    }
    // A padding query sees itself only, so its row stays finite; it is masked later.
    const at::Tensor self = at::eye(T, boolOpts).view({1, 1, T, T});
    const at::Tensor allowed = at::logical_or(at::logical_and(causal, keys), self);
    const at::Tensor bias =
        at::zeros({B, 1, T, T}, ids.options().dtype(at::kFloat)).masked_fill_(allowed.logical_not(), kMasked);
    at::Tensor x = embed(ids, positions);
    const Rotary rope = rotary(positions);
    const bool checkpoint = m_checkpointing && at::GradMode::is_enabled();
    for (auto& block : m_blocks) x = checkpoint ? checkpointedBlock(block, x, bias, rope) : block->forward(x, bias, rope);
    return finalNorm(x);
}

at::Tensor TransformerImpl::logitsFromHidden(const at::Tensor& h) {
    return linearForward(h, m_head ? m_head->weight : m_tokens->weight, {});
}

KVCache TransformerImpl::newCache(int64_t batch, int64_t capacity) const {
    if (capacity > m_config.maxSeqLen) capacity = m_config.maxSeqLen;
    KVCache cache;
    const auto opts = m_tokens->weight.options().requires_grad(false);
    for (int64_t i = 0; i < m_config.nLayers; ++i) {
        cache.keys.push_back(at::zeros({batch, m_config.keyValueHeads(), capacity, m_config.headDim()}, opts));
        cache.values.push_back(at::zeros({batch, m_config.keyValueHeads(), capacity, m_config.headDim()}, opts));
    }
    cache.keyBias = at::zeros({batch, capacity}, opts.dtype(at::kFloat));
    cache.realCount = at::zeros({batch}, opts.dtype(at::kLong));
    cache.capacity = capacity;
    return cache;
}

at::Tensor TransformerImpl::forwardCached(const at::Tensor& ids, const at::Tensor& mask, KVCache& cache) {
    const int64_t B = ids.size(0), Tn = ids.size(1);
    const int64_t L = cache.length;
    if (L + Tn > cache.capacity) {
        throw std::out_of_range("KV cache full: " + std::to_string(L + Tn) + " > " + std::to_string(cache.capacity));
    }
    const at::Tensor maskLong = mask.to(at::kLong);
    const at::Tensor positions = (cache.realCount.unsqueeze(1) + maskLong.cumsum(1) - 1).clamp_min(0);
    cache.realCount += maskLong.sum(1);
    cache.keyBias.narrow(1, L, Tn).copy_(at::where(maskLong.to(at::kBool), 0.0, kMasked));

    at::Tensor bias;
    const at::Tensor keyBias = cache.keyBias.narrow(1, 0, L + Tn).view({B, 1, 1, L + Tn});
    if (Tn == 1) {
        // Decoding one token: every cached key is earlier; the token always sees itself.
        bias = keyBias.clone();
        bias.select(3, L).zero_();
    } else {
        const auto boolOpts = ids.options().dtype(at::kBool);
        // Query i (absolute L+i) may see keys j <= L+i.
        const at::Tensor causal = at::ones({Tn, L + Tn}, boolOpts).tril(L).view({1, 1, Tn, L + Tn});
        const at::Tensor self = at::eye(Tn, L + Tn, boolOpts).roll(L, 1).view({1, 1, Tn, L + Tn});
        bias = (keyBias + at::zeros({1, 1, Tn, L + Tn}, keyBias.options()).masked_fill_(causal.logical_not(), kMasked))
                   .clamp_min(kMasked)
                   .masked_fill_(self, 0.0);
    }

    at::Tensor x = embed(ids, positions);
    const Rotary rope = rotary(positions);
    for (size_t i = 0; i < m_blocks.size(); ++i) {
        x = m_blocks[i]->forwardCached(x, bias, cache.keys[i], cache.values[i], L, rope);
    }
    cache.length = L + Tn;
    return logitsFromHidden(finalNorm(x));
}

void TransformerImpl::addLora(const LoraConfig& config) {
    if (hasLora()) throw std::invalid_argument("this model already has LoRA adapters");
    if (config.rank <= 0) throw std::invalid_argument("LoRA rank must be positive");
    if (!(config.dropout >= 0 && config.dropout < 1)) throw std::invalid_argument("LoRA dropout must be in [0, 1)");
    const std::vector<LoraSite> sites = selectLoraSites(m_config, config.targets);
    for (auto& p : parameters()) p.set_requires_grad(false);
    m_lora = config;
    if (m_lora.targets.empty()) m_lora.targets = defaultLoraTargets(m_config);
    // Adapters train in fp32 even on a bf16/fp16 base (or in fp64 on an fp64 one).
    const at::ScalarType dtype = m_tokens->weight.scalar_type() == at::kDouble ? at::kDouble : at::kFloat;
    for (auto& block : m_blocks) {
        block->addLora(sites, m_lora);
        for (const char* linear : {"qkv", "attn_out", "fc", "proj"}) {
            if (LoraAdapter a = block->adapter(linear)) a->to(dtype);
        }
    }
}

void TransformerImpl::setLoraEnabled(bool on) {
    for (auto& block : m_blocks) block->setLoraEnabled(on);
}

std::vector<at::Tensor> TransformerImpl::trainableParameters() {
    std::vector<at::Tensor> out;
    for (const auto& p : parameters()) {
        if (p.requires_grad()) out.push_back(p);
    }
    return out;
}

Transformer cloneTransformer(Transformer& source) {
    Transformer copy(source->config());
    copy->to(source->named_parameters().begin()->value().scalar_type());
    if (source->hasLora()) copy->addLora(source->lora());
    torch::NoGradGuard noGrad;
    auto dst = copy->named_parameters();
    for (const auto& item : source->named_parameters()) dst[item.key()].copy_(item.value());
    return copy;
}

Transformer mergeLora(Transformer& source) {
    Transformer merged(source->config());
    const at::ScalarType dtype = source->named_parameters().begin()->value().scalar_type();
    merged->to(dtype);
    torch::NoGradGuard noGrad;
    auto dst = merged->named_parameters();
    for (const auto& item : source->named_parameters()) {
        if (dst.contains(item.key())) dst[item.key()].copy_(item.value());
    }
    for (size_t i = 0; i < source->blocks().size(); ++i) {
        for (const char* linear : {"qkv", "attn_out", "fc", "proj"}) {
            const LoraAdapter adapter = source->blocks()[i]->adapter(linear);
            if (!adapter) continue;
            at::Tensor w = merged->blocks()[i]->baseWeight(linear);
            const at::ScalarType sum = dtype == at::kDouble ? at::kDouble : at::kFloat;
            w.copy_((w.to(sum) + adapter->deltaWeight().to(sum)).to(dtype));
        }
    }
    return merged;
}

}  // namespace preflab

namespace preflab {

at::Tensor TransformerImpl::scalarPerToken(const at::Tensor& ids, const at::Tensor& mask) {
    if (!m_scalarHead) throw std::logic_error("this model has no scalar head");
    return m_scalarHead->forward(hidden(ids, mask)).squeeze(-1);
}

at::Tensor TransformerImpl::scalar(const at::Tensor& ids, const at::Tensor& mask) {
    const at::Tensor perToken = scalarPerToken(ids, mask);
    // Right-padded rows: the last real token sits at (number of real tokens - 1).
    const at::Tensor last = (mask.sum(1) - 1).clamp_min(0).to(at::kLong).unsqueeze(1);
    return perToken.gather(1, last).squeeze(1);
}

Transformer withScalarHead(Transformer& base) {
    TransformerConfig c = base->config();
    c.scalarHead = 1;
    Transformer model(c);
    model->to(base->named_parameters().begin()->value().scalar_type());
    torch::NoGradGuard noGrad;
    auto dst = model->named_parameters();
    for (const auto& item : base->named_parameters()) {
        if (dst.contains(item.key())) dst[item.key()].copy_(item.value());
    }
    dst["scalar_head.weight"].zero_();
    dst["scalar_head.bias"].zero_();
    return model;
}

}  // namespace preflab
