#include "core/nn/sampler.h"

#include "core/nn/dropout_off.h"
#include "core/nn/fused_decoder.h"
#include "core/nn/row_groups.h"

#include <ATen/ATen.h>
#include <torch/nn/module.h>

#include <algorithm>
#include <iterator>
#include <optional>
#include <random>
#include <stdexcept>

namespace preflab {
namespace {

// Restricts logits [B,V] to the top-k and nucleus (top-p) sets; filtered
// entries become -inf.
at::Tensor filterLogits(at::Tensor logits, const SamplingParams& p) {
    const int64_t V = logits.size(-1);
    if (p.topK > 0 && p.topK < V) {
        const at::Tensor kth = std::get<0>(logits.topk(p.topK, -1)).select(-1, p.topK - 1).unsqueeze(-1);
        logits = logits.masked_fill(logits < kth, -INFINITY);
    }
    if (p.topP < 1.0) {
        auto [sorted, order] = logits.sort(-1, /*descending=*/true);
        const at::Tensor cumulative = at::softmax(sorted, -1).cumsum(-1);
        // Drop a token when the tokens ranked above it already reach top-p.
        at::Tensor drop = (cumulative - at::softmax(sorted, -1)) >= p.topP;
        drop.select(-1, 0).fill_(false);
        logits = logits.masked_fill(at::zeros_like(drop).scatter(-1, order, drop), -INFINITY);
    }
    return logits;
}

// The new-token limit of a batch: maxNewTokens, cut to what the model's
// context leaves after the longest prompt (prompts are left-padded to it).
int newTokenLimit(Transformer& model, const std::vector<TokenIds>& prompts, const SamplingParams& params) {
    size_t longest = 0;
    for (const auto& p : prompts) longest = std::max(longest, p.size());
    const int64_t room = model->config().maxSeqLen - static_cast<int64_t>(longest);
    return static_cast<int>(std::max<int64_t>(0, std::min<int64_t>(params.maxNewTokens, room)));
}

// One group of rows, on the calling thread, with the model already in eval
// mode and autograd off; maxNew is the whole batch's limit.
SampledSequences sampleRows(Transformer& model, const std::vector<TokenIds>& prompts, const SamplingParams& params,
                            int maxNew, const std::vector<uint64_t>& seeds, int32_t eos, int32_t pad,
                            const std::atomic_bool* cancel) {
    const int64_t B = static_cast<int64_t>(prompts.size());
    SampledSequences out;
    out.tokens.resize(B);
    out.endedWithEos.assign(B, false);
    out.policyLogprob.assign(B, 0.0);
    out.samplingLogprob.assign(B, 0.0);
    if (B == 0) return out;

    size_t longest = 0;
    for (const auto& p : prompts) longest = std::max(longest, p.size());
    const int64_t Lp = static_cast<int64_t>(longest);

    // Left-pad the prompts so that they all end in the same column.
    at::Tensor ids = at::full({B, Lp}, pad, at::kLong);
    at::Tensor mask = at::zeros({B, Lp}, at::kLong);
    auto idsA = ids.accessor<int64_t, 2>();
    auto maskA = mask.accessor<int64_t, 2>();
    for (int64_t b = 0; b < B; ++b) {
        const int64_t off = Lp - static_cast<int64_t>(prompts[b].size());
        for (size_t t = 0; t < prompts[b].size(); ++t) {
            idsA[b][off + static_cast<int64_t>(t)] = prompts[b][t];
            maskA[b][off + static_cast<int64_t>(t)] = 1;
        }
    }

    std::vector<std::mt19937_64> rngs;
    rngs.reserve(B);
    for (uint64_t s : seeds) rngs.emplace_back(s);
    std::uniform_real_distribution<double> uniform(0.0, 1.0);

    const bool useFused = params.fusedDecoding && maxNew > 1 && FusedDecoder::supports(model);
    KVCache cache = model->newCache(B, Lp + maxNew);
    at::Tensor logits = model->forwardCached(ids, mask, cache).select(1, Lp - 1).to(at::kFloat);
    std::optional<FusedDecoder> fused;
    if (useFused) fused.emplace(model, cache);
    std::vector<int64_t> nextIds(static_cast<size_t>(B));
    std::vector<bool> done(B, false);
    int remaining = static_cast<int>(B);
    at::Tensor next = at::empty({B, 1}, at::kLong);
    at::Tensor ones = at::ones({B, 1}, at::kLong);
    at::Tensor u = at::empty({B, 1}, at::kFloat);

    for (int step = 0; step < maxNew && remaining > 0; ++step) {
        if (cancel && cancel->load()) {
            out.cancelled = true;
            break;
        }
        const at::Tensor logp = at::log_softmax(logits, -1);
        at::Tensor chosen;
        at::Tensor sampleLogp;
        if (params.temperature <= 0.0) {
            chosen = logits.argmax(-1, /*keepdim=*/true);
            sampleLogp = at::zeros({B, 1});
        } else {
            const at::Tensor scaled = filterLogits(logits / params.temperature, params);
            const at::Tensor q = at::softmax(scaled, -1);
            auto uA = u.accessor<float, 2>();
            for (int64_t b = 0; b < B; ++b) uA[b][0] = static_cast<float>(uniform(rngs[b]));
            // Inverse-CDF draw: the first index whose cumulative mass exceeds u.
            chosen = (q.cumsum(-1) <= u).sum(-1, /*keepdim=*/true).clamp_max(logits.size(-1) - 1);
            // Guard against landing on a filtered entry through rounding at the top end.
            const at::Tensor zeroMass = q.gather(-1, chosen) <= 0;
            if (zeroMass.any().item<bool>()) chosen = at::where(zeroMass, q.argmax(-1, true), chosen);
            sampleLogp = at::log_softmax(scaled, -1).gather(-1, chosen);
        }
        const at::Tensor tokLogp = logp.gather(-1, chosen);
        auto cA = chosen.accessor<int64_t, 2>();
        auto pA = tokLogp.accessor<float, 2>();
        auto sA = sampleLogp.accessor<float, 2>();
        auto nA = next.accessor<int64_t, 2>();
        for (int64_t b = 0; b < B; ++b) {
            if (done[b]) {
                nA[b][0] = pad;
                nextIds[static_cast<size_t>(b)] = pad;
                continue;
            }
            const int32_t tok = static_cast<int32_t>(cA[b][0]);
            out.tokens[b].push_back(tok);
            out.policyLogprob[b] += pA[b][0];
            out.samplingLogprob[b] += params.temperature <= 0.0 ? 0.0 : sA[b][0];
            nA[b][0] = tok;
            nextIds[static_cast<size_t>(b)] = tok;
            if (tok == eos) {
                done[b] = true;
                out.endedWithEos[b] = true;
                --remaining;
            }
        }
        if (remaining == 0 || step + 1 == maxNew) break;
        logits = fused ? fused->step(nextIds) : model->forwardCached(next, ones, cache).select(1, 0).to(at::kFloat);
    }
    return out;
}

}  // namespace

SampledSequences sampleBatch(Transformer& model, const std::vector<TokenIds>& prompts, const SamplingParams& params,
                             const std::vector<uint64_t>& seeds, int32_t eos, int32_t pad,
                             const std::atomic_bool* cancel) {
    if (seeds.size() != prompts.size()) throw std::invalid_argument("sampleBatch: one seed per prompt");
    torch::NoGradGuard noGrad;
    const DropoutOff eval(model);
    const auto groups = splitRows(static_cast<int64_t>(prompts.size()), params.rowGroups);
    const int maxNew = newTokenLimit(model, prompts, params);
    if (groups.size() <= 1) return sampleRows(model, prompts, params, maxNew, seeds, eos, pad, cancel);
    std::vector<SampledSequences> parts(groups.size());
    runRowGroups(static_cast<int>(groups.size()), [&](int g) {
        const auto [begin, end] = groups[static_cast<size_t>(g)];
        const std::vector<TokenIds> p(prompts.begin() + begin, prompts.begin() + end);
        const std::vector<uint64_t> s(seeds.begin() + begin, seeds.begin() + end);
        parts[static_cast<size_t>(g)] = sampleRows(model, p, params, maxNew, s, eos, pad, cancel);
    });
    SampledSequences out;
    for (SampledSequences& part : parts) {
        out.cancelled = out.cancelled || part.cancelled;
        std::move(part.tokens.begin(), part.tokens.end(), std::back_inserter(out.tokens));
        out.endedWithEos.insert(out.endedWithEos.end(), part.endedWithEos.begin(), part.endedWithEos.end());
        out.policyLogprob.insert(out.policyLogprob.end(), part.policyLogprob.begin(), part.policyLogprob.end());
        out.samplingLogprob.insert(out.samplingLogprob.end(), part.samplingLogprob.begin(), part.samplingLogprob.end());
    }
    return out;
}

}  // namespace preflab
