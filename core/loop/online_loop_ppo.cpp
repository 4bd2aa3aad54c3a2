// PPO steps of the online loop (algorithms.md §4).
#include "core/loop/online_loop_impl.h"

namespace preflab {

// PPO (spec §4): one response per prompt, scored at its end; per-token KL
// penalty; GAE; whitened advantages; clipped policy and value losses; one
// optimisation pass over the rollout batch.
StepOutcome OnlineLoop::Impl::ppoStep(const std::atomic_bool& cancel) {
    const auto t0 = Clock::now();
    const int64_t B = cfg.batchSize;
    const PolicySamples rollout = samplePolicy(B, 20, cancel);
    const std::vector<TokenIds>& prompts = rollout.prompts;
    const std::vector<const TaskPrompt*>& taskPrompts = rollout.taskPrompts;
    const SampledSequences& s = rollout.sampled;
    if (s.cancelled) return StepOutcome::Cancelled;
    std::vector<std::string> promptTexts, texts;
    for (int64_t i = 0; i < B; ++i) {
        promptTexts.push_back(taskPrompts[static_cast<size_t>(i)]->text);
        texts.push_back(tokenizer->decode(s.tokens[static_cast<size_t>(i)]));
    }
    std::vector<double> scores = ppoScorer ? ppoScorer->score(promptTexts, texts) : std::vector<double>(static_cast<size_t>(B));
    double gold = 0, eos = 0;
    for (int64_t i = 0; i < B; ++i) {
        const size_t k = static_cast<size_t>(i);
        const double g = task.score(*taskPrompts[k], texts[k]).total();
        gold += g / static_cast<double>(B);
        if (!ppoScorer) scores[k] = g;
        if (!s.endedWithEos[k]) scores[k] = cfg.ppoNoEosPenalty;
        else eos += 1.0 / static_cast<double>(B);
    }
    const double generationTime = secondsSince(t0);

    const SequenceBatch batch = packSequences(prompts, s.tokens, tokenizer->special().pad);
    const int64_t T = batch.ids.size(1);
    const at::Tensor mask = batch.responseMask.narrow(1, 1, T - 1).to(at::kFloat);
    at::Tensor oldLogp, refLogp, oldValues;
    {
        torch::NoGradGuard noGrad;
        oldLogp = responseTokenLogprobs(computeLogits(policy, batch.ids, batch.attention, bf16).to(at::kFloat), batch);
        refLogp = responseTokenLogprobs(referenceLogits(batch), batch);
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
    optimizer->zero_grad();
    valueOptimizer->zero_grad();
    const at::Tensor newLogp =
        responseTokenLogprobs(computeLogits(policy, batch.ids, batch.attention, bf16).to(at::kFloat), batch);
    const at::Tensor newValues = value->scalarPerToken(batch.ids, batch.attention).to(at::kFloat).narrow(1, 0, T - 1);
    const PolicyLoss pl = clippedPolicyLoss(newLogp, oldLogp, whitened, mask, cfg.ppoClip);
    const ValueLoss vl = clippedValueLoss(newValues, oldValues, returns, mask, cfg.ppoValueClip);
    const at::Tensor loss = pl.loss + cfg.ppoValueCoef * vl.loss;
    const double lossValue = loss.item<double>();
    if (!std::isfinite(lossValue)) {
        return halt("non-finite PPO loss (" + std::to_string(lossValue) + ") at step " + std::to_string(step + 1) +
                    "; no update was applied and the last checkpoint is kept");
    }
    loss.backward();
    const double gradNorm = clipGradients(policy);
    clipGradients(value);
    if (!std::isfinite(gradNorm)) {
        return halt("non-finite gradient norm at step " + std::to_string(step + 1) + "; no update was applied");
    }
    const double lr = optimizerStep(*optimizer);
    optimizerStep(*valueOptimizer);
    ++step;
    const double nonScore = (-cfg.ppoKlCoef * delta.sum(1)).mean().item<double>();
    const double meanScore = scoreTensor.mean().item<double>();
    const double stepSeconds = secondsSince(t0);
    lastMetrics = {{"loss", lossValue},
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
                   {"grad_norm", gradNorm},
                   {"learning_rate", lr},
                   {"time/step_seconds", stepSeconds},
                   {"time/generation_share", stepSeconds > 0 ? generationTime / stepSeconds : 0.0}};
    report(lastMetrics);
    if (cfg.evalEvery > 0 && step % cfg.evalEvery == 0) evaluate(cancel);
    if ((cfg.checkpointEvery > 0 && step % cfg.checkpointEvery == 0) || step == cfg.steps) checkpoint();
    return StepOutcome::Trained;
}

}  // namespace preflab
