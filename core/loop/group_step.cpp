// Why dropout is off in the passes: as in PPO (ppo_step.cpp), the ratio
// pi/pi_old must compare one distribution before and after updates; with
// dropout on, two passes over the same tokens differ by their masks. The
// log-probabilities are those of the tempered distribution sampled
// (LoopModels::sampledLogits).
#include "core/loop/group_step.h"

#include "core/algo/group_terms.h"
#include "core/loop/policy_samples.h"
#include "core/values/metric_names.h"

#include <stdexcept>

namespace preflab {

GroupStep::GroupStep(LoopContext& ctx, LoopModels& models, ParameterUpdate& update)
    : m_ctx(ctx), m_models(models), m_update(update) {
    m_scorer = makeRewardScorer(ctx.cfg);  // null: the task's true reward
}

StepOutcome GroupStep::run(const std::atomic_bool& cancel) {
    const auto t0 = Clock::now();
    const RunConfig& cfg = m_ctx.cfg;
    const bool rloo = m_ctx.method.id == Method::Rloo;
    const int64_t k = groupSize(cfg);
    const int64_t B = cfg.batchSize;  // samples
    const PolicySamples rollout = samplePolicyGroups(m_ctx, m_models, B / k, k, 30, cancel);
    const SampledSequences& s = rollout.sampled;
    if (s.cancelled) return StepOutcome::Cancelled;
    std::vector<std::string> promptTexts, texts;
    for (int64_t i = 0; i < B; ++i) {
        promptTexts.push_back(rollout.taskPrompts[static_cast<size_t>(i)]->text);
        texts.push_back(m_models.tokenizer->decode(s.tokens[static_cast<size_t>(i)]));
    }
    const ScorerCancelScope stoppable(m_scorer.get(), cancel);
    std::vector<double> scores = m_scorer ? m_scorer->score(promptTexts, texts) : std::vector<double>(static_cast<size_t>(B));
    double gold = 0, length = 0;
    for (int64_t i = 0; i < B; ++i) {
        const size_t j = static_cast<size_t>(i);
        const double g = m_ctx.task.score(*rollout.taskPrompts[j], texts[j]).total();
        gold += g / static_cast<double>(B);
        length += static_cast<double>(s.tokens[j].size()) / static_cast<double>(B);
        if (!m_scorer) scores[j] = g;
    }
    const double generationTime = secondsSince(t0);

    const SequenceBatch batch = packSequences(rollout.prompts, s.tokens, m_models.pad());
    const int64_t T = batch.ids.size(1);
    const at::Tensor mask = batch.responseMask.narrow(1, 1, T - 1).to(at::kFloat);
    at::Tensor oldLogp, refLogp;
    {
        torch::NoGradGuard noGrad;
        const DropoutOff policyOff(m_models.policy);
        oldLogp = responseTokenLogprobs(m_models.sampledLogits(m_models.policyLogits(batch)), batch);
        refLogp = responseTokenLogprobs(m_models.sampledLogits(m_models.referenceLogits(batch)), batch);
    }
    at::Tensor rewards = at::tensor(std::vector<float>(scores.begin(), scores.end()));
    const GroupStats stats = groupStats(rewards, k);
    at::Tensor advantages;
    double responseKl = 0;  // RLOO's KL: k1 summed over each response, averaged
    if (rloo) {
        // The KL penalty is part of the reward (TRL's RLOO): k1 summed over the response.
        const at::Tensor kl = ((oldLogp - refLogp) * mask).sum(1);
        responseKl = kl.mean().item<double>();
        advantages = groupAdvantages(rewards - cfg.rlooBeta * kl, k, GroupBaseline::LeaveOneOut, RewardScale::None);
    } else {
        advantages = groupAdvantages(rewards, k, GroupBaseline::Mean, *rewardScaleFromName(cfg.scaleRewards));
    }

    const DropoutOff policyOff(m_models.policy);
    double lossSum = 0, clipLow = 0, clipHigh = 0, clipRegion = 0, kl = 0, gradNorm = 0, learningRate = 0;
    int64_t updates = 0;
    for (int64_t epoch = 0; epoch < cfg.groupEpochs; ++epoch) {
        m_models.optimizer->zero_grad();
        const at::Tensor logp = responseTokenLogprobs(m_models.sampledLogits(m_models.policyLogits(batch)), batch);
        const GroupLoss gl = rloo ? sequenceClippedLoss(logp, oldLogp, advantages, mask, cfg.groupClip)
                                  : groupTokenLoss(logp, oldLogp, refLogp, advantages, mask, cfg.groupClip, cfg.grpoBeta,
                                                   *groupLossTypeFromName(cfg.grpoLossType), cfg.maxNewTokens);
        const double lossValue = gl.loss.item<double>();
        const std::string pass = m_ctx.method.name + std::string(" loss (pass ") + std::to_string(epoch + 1) + "/" +
                                 std::to_string(cfg.groupEpochs) + ")";
        const UpdateResult u = m_update.apply(gl.loss, lossValue, {{&m_models.policy, m_models.optimizer.get()}},
                                              HaltWording{pass, "; no update was applied"});
        if (!u.applied) return StepOutcome::Halted;
        lossSum += lossValue;
        clipLow += gl.clipLow;
        clipHigh += gl.clipHigh;
        clipRegion += gl.clipRegion;
        kl += gl.kl;
        gradNorm += u.gradNorm;
        learningRate = u.learningRate;
        ++updates;
    }
    ++m_ctx.step;
    const double n = static_cast<double>(std::max<int64_t>(1, updates));
    const double stepSeconds = secondsSince(t0);
    m_ctx.lastMetrics = {{metricKey(Metric::Loss), lossSum / n},
                         {metricKey(Metric::GroupReward), stats.meanReward},
                         {metricKey(Metric::GroupRewardStd), stats.meanGroupStd},
                         {metricKey(Metric::FracRewardZeroStd), stats.zeroStdShare},
                         {metricKey(Metric::KlTerm), rloo ? responseKl : kl / n},
                         {metricKey(Metric::ClipRatioLow), clipLow / n},
                         {metricKey(Metric::ClipRatioHigh), clipHigh / n},
                         {metricKey(Metric::ClipRatioRegion), clipRegion / n},
                         {metricKey(Metric::CompletionsMeanLength), length},
                         {metricKey(Metric::GoldRolloutReward), gold},
                         {metricKey(Metric::GradNorm), gradNorm / n},
                         {metricKey(Metric::LearningRate), learningRate},
                         {metricKey(Metric::TimeStepSeconds), stepSeconds},
                         {metricKey(Metric::TimeGenerationShare), stepSeconds > 0 ? generationTime / stepSeconds : 0.0}};
    m_ctx.report(m_ctx.lastMetrics);
    return StepOutcome::Trained;
}

}  // namespace preflab
