#include "core/loop/ppo_step.h"

#include "core/algo/ppo_terms.h"
#include "core/loop/policy_samples.h"

namespace preflab {

PpoStep::PpoStep(LoopContext& ctx, LoopModels& models, ParameterUpdate& update)
    : m_ctx(ctx), m_models(models), m_update(update) {
    const RunConfig& cfg = ctx.cfg;
    if (!cfg.rewardModel.empty()) {
        m_scorer = std::make_unique<RewardModelJudge>(cfg.rewardModel);
        m_value.model = loadModelFile(cfg.rewardModel);  // value head initialised from the reward model
    } else {
        m_value.model = withScalarHead(models.policy);
    }
    m_value.optimizer = std::make_unique<torch::optim::AdamW>(m_value.model->parameters(),
                                                              torch::optim::AdamWOptions(cfg.lr).weight_decay(0.0));
    update.track(*m_value.optimizer);
}

StepOutcome PpoStep::run(const std::atomic_bool& cancel) {
    const auto t0 = Clock::now();
    const RunConfig& cfg = m_ctx.cfg;
    Transformer& policy = m_models.policy;
    Transformer& value = m_value.model;
    const int64_t B = cfg.batchSize;
    const PolicySamples rollout = samplePolicy(m_ctx, m_models, B, 20, cancel);
    const std::vector<TokenIds>& prompts = rollout.prompts;
    const std::vector<const TaskPrompt*>& taskPrompts = rollout.taskPrompts;
    const SampledSequences& s = rollout.sampled;
    if (s.cancelled) return StepOutcome::Cancelled;
    std::vector<std::string> promptTexts, texts;
    for (int64_t i = 0; i < B; ++i) {
        promptTexts.push_back(taskPrompts[static_cast<size_t>(i)]->text);
        texts.push_back(m_models.tokenizer->decode(s.tokens[static_cast<size_t>(i)]));
    }
    std::vector<double> scores = m_scorer ? m_scorer->score(promptTexts, texts) : std::vector<double>(static_cast<size_t>(B));
    double gold = 0, eos = 0;
    for (int64_t i = 0; i < B; ++i) {
        const size_t k = static_cast<size_t>(i);
        const double g = m_ctx.task.score(*taskPrompts[k], texts[k]).total();
        gold += g / static_cast<double>(B);
        if (!m_scorer) scores[k] = g;
        if (!s.endedWithEos[k]) scores[k] = cfg.ppoNoEosPenalty;
        else eos += 1.0 / static_cast<double>(B);
    }
    const double generationTime = secondsSince(t0);

    const SequenceBatch batch = packSequences(prompts, s.tokens, m_models.pad());
    const int64_t T = batch.ids.size(1);
    const at::Tensor mask = batch.responseMask.narrow(1, 1, T - 1).to(at::kFloat);
    at::Tensor oldLogp, refLogp, oldValues;
    {
        torch::NoGradGuard noGrad;
        oldLogp = responseTokenLogprobs(m_models.policyLogits(batch), batch);
        refLogp = responseTokenLogprobs(m_models.referenceLogits(batch), batch);
        value->eval();
        // The value of the state before token t+1 sits at position t.
        oldValues = value->scalarPerToken(batch.ids, batch.attention).to(at::kFloat).narrow(1, 0, T - 1) * mask;
    }
    const at::Tensor delta = (oldLogp - refLogp) * mask;
    const at::Tensor scoreTensor = at::tensor(std::vector<float>(scores.begin(), scores.end()));
    const at::Tensor rewards = shapedRewards(scoreTensor, delta, mask, cfg.ppoKlCoef);
    const at::Tensor advantages = generalizedAdvantages(rewards, oldValues, mask, cfg.ppoGamma, cfg.ppoLambda);
    const at::Tensor returns = advantages + oldValues;
    const at::Tensor whitened = whiten(advantages, mask);

    policy->train();
    value->train();
    m_models.optimizer->zero_grad();
    m_value.optimizer->zero_grad();
    const at::Tensor newLogp = responseTokenLogprobs(m_models.policyLogits(batch), batch);
    const at::Tensor newValues = value->scalarPerToken(batch.ids, batch.attention).to(at::kFloat).narrow(1, 0, T - 1);
    const PolicyLoss pl = clippedPolicyLoss(newLogp, oldLogp, whitened, mask, cfg.ppoClip);
    const ValueLoss vl = clippedValueLoss(newValues, oldValues, returns, mask, cfg.ppoValueClip);
    const at::Tensor loss = pl.loss + cfg.ppoValueCoef * vl.loss;
    const double lossValue = loss.item<double>();
    // The policy and the value model step together at the same warmed-up rate.
    const UpdateResult update = m_update.apply(
        loss, lossValue, {{&policy, m_models.optimizer.get()}, {&value, m_value.optimizer.get()}},
        HaltWording{"PPO loss", "; no update was applied"});
    if (!update.applied) return StepOutcome::Halted;
    ++m_ctx.step;
    const double nonScore = (-cfg.ppoKlCoef * delta.sum(1)).mean().item<double>();
    const double meanScore = scoreTensor.mean().item<double>();
    const double stepSeconds = secondsSince(t0);
    m_ctx.lastMetrics = {{"loss", lossValue},
                         {"loss/policy_avg", pl.loss.item<double>()},
                         {"loss/value_avg", vl.loss.item<double>()},
                         {"policy/approxkl_avg", pl.approxKl},
                         {"policy/clipfrac_avg", pl.clipFraction},
                         {"val/ratio", pl.meanRatio},
                         {"val/clipfrac_avg", vl.clipFraction},
                         {"objective/scores", meanScore},
                         {"objective/non_score_reward", nonScore},
                         {"objective/rlhf_reward", meanScore + nonScore},
                         {"gold/rollout_reward", gold},
                         {"eval/rollout_eos_rate", eos},
                         {"grad_norm", update.gradNorm},
                         {"learning_rate", update.learningRate},
                         {"time/step_seconds", stepSeconds},
                         {"time/generation_share", stepSeconds > 0 ? generationTime / stepSeconds : 0.0}};
    m_ctx.report(m_ctx.lastMetrics);
    return StepOutcome::Trained;
}

}  // namespace preflab
