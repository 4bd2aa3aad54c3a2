#include "core/loop/held_out_preferences.h"

#include "core/loop/seed_mix.h"

#include <algorithm>

namespace preflab {

HeldOutStats heldOutStats(const std::vector<double>& policyChosen, const std::vector<double>& policyRejected,
                          const std::vector<double>& refChosen, const std::vector<double>& refRejected, double beta) {
    HeldOutStats s;
    const size_t n = policyChosen.size();
    if (n == 0) return s;
    for (size_t i = 0; i < n; ++i) {
        const double m = beta * ((policyChosen[i] - refChosen[i]) - (policyRejected[i] - refRejected[i]));
        s.margin += m;
        s.accuracy += m > 0 ? 1.0 : 0.0;  // as TRL: chosen_rewards > rejected_rewards
    }
    s.accuracy /= static_cast<double>(n);
    s.margin /= static_cast<double>(n);
    return s;
}

namespace {

// The reference policy for a scope: the frozen copy, or (LoRA) the policy
// with its adapters off.
struct ReferenceModel {
    LoopModels& models;
    explicit ReferenceModel(LoopModels& m) : models(m) {
        if (!models.reference) models.policy->setLoraEnabled(false);
    }
    ~ReferenceModel() {
        if (!models.reference) models.policy->setLoraEnabled(true);
    }
    Transformer& get() { return models.reference ? models.reference : models.policy; }
};

// Sequence log-probabilities of `responses` after `prompts` under the policy (T = 1,
// as the pairwise losses' implicit reward).
std::vector<double> policyLogprobs(LoopModels& models, const std::vector<TokenIds>& prompts,
                                   const std::vector<TokenIds>& responses) {
    const SequenceBatch batch = packSequences(prompts, responses, models.pad());
    const at::Tensor lp = sequenceLogprobs(models.policyLogits(batch), batch).contiguous();
    return std::vector<double>(lp.data_ptr<float>(), lp.data_ptr<float>() + lp.numel());
}

}  // namespace

bool HeldOutPreferences::build(const std::atomic_bool& cancel) {
    const int64_t wanted = m_ctx.cfg.heldOutPairs;
    // Prompts of their own (stream 3 of the run's seed: the training and
    // evaluation prompts are streams 1 and 2).
    const std::vector<TaskPrompt> prompts = m_ctx.task.prompts(static_cast<int>(wanted), mixSeed(m_ctx.seed(), 3, 0));
    SamplingParams sampling = m_models.sampling;  // the run's tempered distribution, untruncated
    sampling.topK = 0;
    sampling.topP = 1.0;
    std::vector<TokenIds> ids;
    std::vector<uint64_t> seeds;
    for (size_t i = 0; i < prompts.size(); ++i) {
        for (uint64_t k = 0; k < 2; ++k) {
            ids.push_back(m_models.promptIds(prompts[i].text));
            seeds.push_back(mixSeed(m_ctx.seed() ^ 0x4E1Dull, static_cast<uint64_t>(i), k));
        }
    }
    SampledSequences s;
    {
        ReferenceModel ref(m_models);
        s = sampleBatch(ref.get(), ids, sampling, seeds, m_models.eos(), m_models.pad(), &cancel);
    }
    if (s.cancelled) return false;
    for (size_t i = 0; i < prompts.size(); ++i) {
        const TokenIds& a = s.tokens[2 * i];
        const TokenIds& b = s.tokens[2 * i + 1];
        const double goldA = m_ctx.task.score(prompts[i], m_models.tokenizer->decode(a)).total();
        const double goldB = m_ctx.task.score(prompts[i], m_models.tokenizer->decode(b)).total();
        if (goldA == goldB || a == b) continue;  // no preference to hold the policy to
        m_prompts.push_back(ids[2 * i]);
        m_chosen.push_back(goldA > goldB ? a : b);
        m_rejected.push_back(goldA > goldB ? b : a);
    }
    if (!m_prompts.empty()) {
        const at::Tensor c = m_models.referenceLogprobs(m_prompts, m_chosen).contiguous();
        const at::Tensor r = m_models.referenceLogprobs(m_prompts, m_rejected).contiguous();
        m_refChosen.assign(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
        m_refRejected.assign(r.data_ptr<float>(), r.data_ptr<float>() + r.numel());
    }
    m_built = true;
    return true;
}

bool HeldOutPreferences::evaluate(const std::atomic_bool& cancel, HeldOutStats* out) {
    if (m_ctx.cfg.heldOutPairs <= 0) return false;
    torch::NoGradGuard noGrad;
    const DropoutOff off(m_models.policy);
    if (!m_built && !build(cancel)) return false;
    if (m_prompts.empty() || cancel.load()) return false;
    const std::vector<double> c = policyLogprobs(m_models, m_prompts, m_chosen);
    const std::vector<double> r = policyLogprobs(m_models, m_prompts, m_rejected);
    *out = heldOutStats(c, r, m_refChosen, m_refRejected, m_ctx.cfg.beta);
    return true;
}

}  // namespace preflab
