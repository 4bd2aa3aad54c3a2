#include "core/loop/held_out_preferences.h"

#include "core/judges/reward_model.h"
#include "core/values/seed_mix.h"

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

// Pairs per forward pass or sampling call, as the evaluator's chunks: bounds
// memory for large models and large sets.
constexpr size_t kChunk = 64;

// Sequence log-probabilities of `responses` after `prompts` (T = 1, as the
// pairwise losses' implicit reward), under the policy or the reference, in chunks.
std::vector<double> logprobs(LoopModels& models, const std::vector<TokenIds>& prompts,
                             const std::vector<TokenIds>& responses, bool reference) {
    std::vector<double> out;
    out.reserve(prompts.size());
    for (size_t start = 0; start < prompts.size(); start += kChunk) {
        const size_t end = std::min(prompts.size(), start + kChunk);
        const std::vector<TokenIds> p(prompts.begin() + start, prompts.begin() + end);
        const std::vector<TokenIds> r(responses.begin() + start, responses.begin() + end);
        at::Tensor lp;
        if (reference) {
            lp = models.referenceLogprobs(p, r);
        } else {
            const SequenceBatch batch = packSequences(p, r, models.pad());
            lp = sequenceLogprobs(models.policyLogits(batch), batch);
        }
        lp = lp.contiguous();
        out.insert(out.end(), lp.data_ptr<float>(), lp.data_ptr<float>() + lp.numel());
    }
    return out;
}

}  // namespace

HeldOutPreferences::HeldOutPreferences(LoopContext& ctx, LoopModels& models)
    : m_ctx(ctx), m_models(models),
      m_labels(judgeNeedsPerson(ctx.cfg.judge) ? HeldOutLabels::HeldBackHumanLabels
               : isJudge(ctx.cfg.judge, JudgeKind::RewardModel) || isJudge(ctx.cfg.judge, JudgeKind::RewardServer)
                   ? HeldOutLabels::RewardModel
                                                 : HeldOutLabels::TrueReward) {
    if (m_labels == HeldOutLabels::HeldBackHumanLabels) takeResumedLabels();
}

bool HeldOutPreferences::holdBack(int64_t pairIndex, const TokenIds& prompt, const TokenIds& chosen,
                                  const TokenIds& rejected, double refChosen, double refRejected) {
    if (m_labels != HeldOutLabels::HeldBackHumanLabels || m_ctx.cfg.heldOutPairs <= 0 ||
        m_prompts.size() >= static_cast<size_t>(m_ctx.cfg.heldOutPairs) ||
        !heldBackPair(m_ctx.seed(), pairIndex, m_ctx.cfg.heldOutShare)) {
        return false;
    }
    m_prompts.push_back(prompt);
    m_chosen.push_back(chosen);
    m_rejected.push_back(rejected);
    m_refChosen.push_back(refChosen);
    m_refRejected.push_back(refRejected);
    return true;
}

void HeldOutPreferences::takeResumedLabels() {
    const auto& earlier = m_ctx.setup.heldBackPairs;
    if (earlier.empty()) return;
    std::vector<TokenIds> prompts, chosen, rejected;
    const int32_t eos = m_models.eos();
    for (const OfflinePair& p : earlier) {
        if (prompts.size() >= static_cast<size_t>(m_ctx.cfg.heldOutPairs)) break;
        prompts.push_back(m_models.promptIds(p.prompt));
        chosen.push_back(m_models.tokenizer->encode(p.chosen));
        chosen.back().push_back(eos);
        rejected.push_back(m_models.tokenizer->encode(p.rejected));
        rejected.back().push_back(eos);
    }
    torch::NoGradGuard noGrad;
    const std::vector<double> rc = logprobs(m_models, prompts, chosen, true);
    const std::vector<double> rr = logprobs(m_models, prompts, rejected, true);
    for (size_t i = 0; i < prompts.size(); ++i) {
        m_prompts.push_back(prompts[i]);
        m_chosen.push_back(chosen[i]);
        m_rejected.push_back(rejected[i]);
        m_refChosen.push_back(rc[i]);
        m_refRejected.push_back(rr[i]);
    }
}

bool HeldOutPreferences::build(const std::atomic_bool& cancel) {
    const int64_t wanted = m_ctx.cfg.heldOutPairs;
    // Prompts drawn by a stream of the run's seed that nothing else uses
    // (1: training prompts, 2: evaluation prompts, 3: the training walk).
    const std::vector<TaskPrompt> prompts = m_ctx.task.prompts(static_cast<int>(wanted), mixSeed(m_ctx.seed(), 4, 0));
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
        ReferenceScope ref(m_models);
        for (size_t start = 0; start < ids.size(); start += 2 * kChunk) {
            const size_t end = std::min(ids.size(), start + 2 * kChunk);
            const SampledSequences part =
                sampleBatch(ref.get(), std::vector<TokenIds>(ids.begin() + start, ids.begin() + end), sampling,
                            std::vector<uint64_t>(seeds.begin() + start, seeds.begin() + end), m_models.eos(),
                            m_models.pad(), &cancel);
            if (part.cancelled) return false;
            s.tokens.insert(s.tokens.end(), part.tokens.begin(), part.tokens.end());
        }
    }
    // Each response's score by the run's kind of judge: the true reward, or the reward model's.
    std::vector<double> scores;
    if (m_labels == HeldOutLabels::RewardModel) {
        std::vector<std::string> texts, responses;
        for (size_t k = 0; k < s.tokens.size(); ++k) {
            texts.push_back(prompts[k / 2].text);
            responses.push_back(m_models.tokenizer->decode(s.tokens[k]));
        }
        const std::unique_ptr<RewardScorer> rewardModel = makeRewardScorer(m_ctx.cfg);
        const ScorerCancelScope stoppable(rewardModel.get(), cancel);
        for (size_t start = 0; start < texts.size(); start += 2 * kChunk) {
            const size_t end = std::min(texts.size(), start + 2 * kChunk);
            const std::vector<double> part =
                rewardModel->score(std::vector<std::string>(texts.begin() + start, texts.begin() + end),
                                  std::vector<std::string>(responses.begin() + start, responses.begin() + end));
            scores.insert(scores.end(), part.begin(), part.end());
        }
    } else {
        for (size_t k = 0; k < s.tokens.size(); ++k) {
            scores.push_back(m_ctx.task.score(prompts[k / 2], m_models.tokenizer->decode(s.tokens[k])).total());
        }
    }
    for (size_t i = 0; i < prompts.size(); ++i) {
        const TokenIds& a = s.tokens[2 * i];
        const TokenIds& b = s.tokens[2 * i + 1];
        const double scoreA = scores[2 * i], scoreB = scores[2 * i + 1];
        if (scoreA == scoreB || a == b) continue;  // no preference to hold the policy to
        m_prompts.push_back(ids[2 * i]);
        m_promptTexts.push_back(prompts[i].text);
        m_chosen.push_back(scoreA > scoreB ? a : b);
        m_rejected.push_back(scoreA > scoreB ? b : a);
    }
    m_refChosen = logprobs(m_models, m_prompts, m_chosen, true);
    m_refRejected = logprobs(m_models, m_prompts, m_rejected, true);
    m_built = true;
    return true;
}

std::vector<HeldOutPreferences::PairText> HeldOutPreferences::sampledPairs() const {
    std::vector<PairText> out;
    for (size_t i = 0; i < m_promptTexts.size(); ++i) {
        out.push_back({m_promptTexts[i], m_models.tokenizer->decode(m_chosen[i]), m_models.tokenizer->decode(m_rejected[i])});
    }
    return out;
}

bool HeldOutPreferences::evaluate(const std::atomic_bool& cancel, HeldOutStats* out) {
    if (m_ctx.cfg.heldOutPairs <= 0 || m_ctx.method.family != MethodFamily::Pairwise) return false;
    torch::NoGradGuard noGrad;
    const DropoutOff off(m_models.policy);
    if (m_labels == HeldOutLabels::HeldBackHumanLabels) {
        // The set grows as the person labels; too few pairs say nothing yet.
        if (m_prompts.size() < kMinimumHeldBack) return false;
    } else if (!m_built && !build(cancel)) {
        return false;
    }
    if (m_prompts.empty() || cancel.load()) return false;
    const std::vector<double> c = logprobs(m_models, m_prompts, m_chosen, false);
    const std::vector<double> r = logprobs(m_models, m_prompts, m_rejected, false);
    *out = heldOutStats(c, r, m_refChosen, m_refRejected, m_ctx.cfg.beta);
    return true;
}

}  // namespace preflab
