#include "core/loop/reference_cache.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <unordered_set>

namespace preflab {
namespace {

// A 64-bit hash for change detection (not security): eight bytes at a time,
// each word mixed before it enters the state, so that it runs at memory
// speed over a model's weights (about 10 ms for the 10.8 M model).
class Hash64 {
public:
    void add(const void* data, size_t bytes) {
        const auto* p = static_cast<const unsigned char*>(data);
        size_t i = 0;
        for (; i + 8 <= bytes; i += 8) {
            uint64_t w;
            std::memcpy(&w, p + i, 8);
            word(w);
        }
        uint64_t tail = 0;
        if (i < bytes) {
            std::memcpy(&tail, p + i, bytes - i);
            word(tail);
        }
        word(static_cast<uint64_t>(bytes));  // lengths keep "ab"+"c" apart from "a"+"bc"
    }
    void add(const std::string& s) { add(s.data(), s.size()); }
    void add(int64_t v) { add(&v, sizeof v); }
    uint64_t value() const {
        uint64_t h = m_h;
        h ^= h >> 33;
        h *= 0xff51afd7ed558ccdULL;
        h ^= h >> 33;
        return h;
    }

private:
    void word(uint64_t w) {
        w *= 0x87c37b91114253d5ULL;
        w = (w << 31) | (w >> 33);
        w *= 0x4cf5ad432745937fULL;
        m_h ^= w;
        m_h = ((m_h << 27) | (m_h >> 37)) * 5 + 0x52dce729;
    }
    uint64_t m_h = 0x9E3779B97F4A7C15ULL;
};

void addTokens(Hash64& h, const TokenIds& ids) {
    h.add(ids.data(), ids.size() * sizeof(ids[0]));
}

bool usableLogprob(double v) {
    // A sum of log-probabilities: finite and never above zero.
    return std::isfinite(v) && v <= 0.0;
}

std::string describe(double v) {
    char text[64];
    std::snprintf(text, sizeof text, "%.9g", v);
    return text;
}

}  // namespace

std::string referenceFingerprint(LoopModels& models, bool prefixSharing) {
    Hash64 h;
    h.add(std::string("reference log-probs v1"));
    h.add(static_cast<int64_t>(models.bf16));
    h.add(models.modelInfo.tokenizer);
    h.add(static_cast<int64_t>(models.tokenizer->vocabSize()));
    h.add(static_cast<int64_t>(models.policy->config().maxSeqLen));
    // Packed with the prompt once or not: the same values to about 1e-6, not
    // to the bit, and a cached run should train exactly as a recomputing one.
    h.add(prefixSharing ? int64_t(1) : int64_t(0));
    // The reference's weights: the frozen copy, or with LoRA the policy's
    // base weights (frozen; the adapters are off in the reference's pass).
    const bool lora = !models.reference;
    const Transformer& ref = lora ? models.policy : models.reference;
    for (const auto& item : ref->named_parameters(true)) {
        if (lora && item.key().find("lora_") != std::string::npos) continue;
        const at::Tensor t = item.value().detach().contiguous();
        h.add(item.key());
        h.add(std::string(c10::toString(t.scalar_type())));
        for (int64_t d : t.sizes()) h.add(d);
        h.add(t.data_ptr(), t.nbytes());
    }
    char text[40];
    std::snprintf(text, sizeof text, "ref1-%016llx", static_cast<unsigned long long>(h.value()));
    return text;
}

int64_t pairTokensKey(const TrainablePair& p) {
    Hash64 h;
    addTokens(h, p.prompt);
    addTokens(h, p.chosen);
    addTokens(h, p.rejected);
    addTokens(h, p.rejectedPrompt);
    return static_cast<int64_t>(h.value());
}

const std::string& ReferenceCache::fingerprint() {
    if (m_fingerprint.empty()) m_fingerprint = referenceFingerprint(m_models, m_ctx.cfg.prefixSharing != 0);
    return m_fingerprint;
}

std::optional<ReferenceCache::Known> ReferenceCache::lookUp(size_t index, int64_t key) {
    if (m_known.size() != m_ctx.setup.offlinePairs.size()) m_known.resize(m_ctx.setup.offlinePairs.size());
    if (m_known[index] && m_known[index]->tokensKey == key) return m_known[index];
    const OfflinePair& pair = m_ctx.setup.offlinePairs[index];
    if (!pair.cachedRef) return std::nullopt;
    const CachedReferenceLogprobs& c = *pair.cachedRef;
    // Another reference or another tokenization: stale, not wrong.
    if (c.fingerprint != fingerprint() || c.tokensKey != key) return std::nullopt;
    if (!usableLogprob(c.chosen) || !usableLogprob(c.rejected)) {
        if (!m_noticed && m_ctx.observer) {
            m_noticed = true;
            m_ctx.observer->noticeRaised(
                {"reference_cache", m_ctx.step,
                 "the stored reference log-probabilities of pair " + std::to_string(pair.pairId) + " (" +
                     describe(c.chosen) + ", " + describe(c.rejected) +
                     ") are not finite log-probabilities; they, and any other unusable ones, are recomputed and stored again",
                 "nothing to do: the run uses recomputed values (ref_logprobs recompute skips the stored ones)"});
        }
        return std::nullopt;
    }
    m_known[index] = Known{key, c.chosen, c.rejected};
    return m_known[index];
}

void ReferenceCache::fill(std::vector<TrainablePair>& pairs) {
    const bool cache = m_ctx.cfg.refLogprobs != "recompute";
    std::vector<size_t> missing;
    std::vector<int64_t> keys(pairs.size(), 0);
    for (size_t k = 0; k < pairs.size(); ++k) {
        if (!cache) {
            missing.push_back(k);
            continue;
        }
        keys[k] = pairTokensKey(pairs[k]);
        if (const auto known = lookUp(static_cast<size_t>(pairs[k].index), keys[k])) {
            pairs[k].refChosen = known->chosen;
            pairs[k].refRejected = known->rejected;
        } else {
            missing.push_back(k);
        }
    }
    if (missing.empty()) return;
    // Pairs that share their prompt are packed with it once (prefix_sharing).
    bool share = m_ctx.cfg.prefixSharing != 0;
    for (size_t k : missing) share = share && pairs[k].rejectedPrompt.empty();
    at::Tensor ref;
    if (share) {
        std::vector<TokenIds> prompts, chosen, rejected;
        for (size_t k : missing) {
            prompts.push_back(pairs[k].prompt);
            chosen.push_back(pairs[k].chosen);
            rejected.push_back(pairs[k].rejected);
        }
        ref = m_models.referencePairLogprobs(prompts, chosen, rejected);
    } else {
        std::vector<TokenIds> prompts, responses;
        for (int pass = 0; pass < 2; ++pass) {
            for (size_t k : missing) {
                const TrainablePair& t = pairs[k];
                prompts.push_back(pass == 1 && !t.rejectedPrompt.empty() ? t.rejectedPrompt : t.prompt);
                responses.push_back(pass == 0 ? t.chosen : t.rejected);
            }
        }
        ref = m_models.referenceLogprobs(prompts, responses);
    }
    const auto refA = ref.accessor<float, 1>();
    const int64_t n = static_cast<int64_t>(missing.size());
    std::vector<ReferenceLogprobRecord> records;
    std::unordered_set<size_t> recorded;  // a draw across an epoch's end may hold a pair twice
    for (int64_t i = 0; i < n; ++i) {
        TrainablePair& t = pairs[missing[static_cast<size_t>(i)]];
        t.refChosen = refA[i];
        t.refRejected = refA[n + i];
        if (!cache || !usableLogprob(t.refChosen) || !usableLogprob(t.refRejected)) continue;
        const int64_t key = keys[missing[static_cast<size_t>(i)]];
        const size_t index = static_cast<size_t>(t.index);
        m_known[index] = Known{key, t.refChosen, t.refRejected};
        const OfflinePair& stored = m_ctx.setup.offlinePairs[index];
        if (stored.pairId > 0 && recorded.insert(index).second) {
            records.push_back({stored.pairId, stored.chosenIsA, {fingerprint(), key, t.refChosen, t.refRejected}});
        }
    }
    if (!records.empty() && m_ctx.observer) m_ctx.observer->referenceLogprobsComputed(records);
}

}  // namespace preflab
