// Why the passes run with dropout off: the ratio pi/pi_old must compare one
// distribution, the one sampled, before and after updates. With (LoRA)
// dropout on, two passes over the same tokens differ by their masks and the
// ratio leaves 1 before any update (TRL's PPO disables dropout for the same
// reason). Log-probabilities are those of the tempered distribution the
// rollout was drawn from (LoopModels::sampledLogits), for the ratio and for
// the KL penalty alike.
//
// The value coefficient: the policy and the value model keep two AdamW
// optimizers with the same settings, which is one AdamW over both parameter
// sets (AdamW's update is per parameter), and their gradients are clipped
// jointly, as TRL's one optimizer over its policy-and-value wrapper does. So
// ppo_value_coef scales the value gradient inside the joint clip, as in TRL;
// with Adam's per-parameter normalisation it matters through that clip (and
// epsilon), not as a plain step-size ratio.
#include "core/loop/ppo_step.h"
#include "core/values/metric_names.h"

#include "core/algo/ppo_terms.h"
#include "core/judges/reward_model.h"
#include "core/loop/policy_samples.h"
#include "core/nn/fused_adamw.h"
#include "core/values/seed_mix.h"

#include <algorithm>
#include <filesystem>
#include <numeric>
#include <random>

namespace preflab {

struct PpoStep::Rollout {
    SequenceBatch batch;
    at::Tensor mask;        // [B,T-1] response targets
    at::Tensor oldLogp;     // [B,T-1] log pi_old(y_t), tempered
    at::Tensor oldValues;   // [B,T-1]
    at::Tensor advantages;  // [B,T-1] whitened over the batch
    at::Tensor returns;     // [B,T-1]
};

struct PpoStep::Passes {
    double policyLoss = 0, valueLoss = 0, loss = 0, ratio = 0, clipFraction = 0, approxKl = 0, valueClipFraction = 0;
    double gradNorm = 0, learningRate = 0;
    int64_t updates = 0;
};

PpoStep::PpoStep(LoopContext& ctx, LoopModels& models, ParameterUpdate& update)
    : m_ctx(ctx), m_models(models), m_update(update) {
    const RunConfig& cfg = ctx.cfg;
    m_scorer = makeRewardScorer(cfg);  // the reward server or the reward model, when the config names one
    if (!cfg.rewardModel.empty()) {
        // The value head starts as the reward model where it is PrefLab's own
        // (same tokenizer and shape as the policy); a Hugging Face reward
        // model's body need not match the policy's, so the value model is
        // then the policy with a fresh head, as without a reward model.
        m_value.model = std::filesystem::is_regular_file(cfg.rewardModel) ? loadModelFile(cfg.rewardModel)
                                                                            : withScalarHead(models.policy);
    } else {
        m_value.model = withScalarHead(models.policy);
    }
    m_value.optimizer = std::make_unique<FusedAdamW>(m_value.model->parameters(),
                                                              torch::optim::AdamWOptions(cfg.lr).weight_decay(0.0));
    update.track(*m_value.optimizer);
}

std::optional<PpoStep::Passes> PpoStep::optimise(const Rollout& r) {
    const RunConfig& cfg = m_ctx.cfg;
    Transformer& policy = m_models.policy;
    Transformer& value = m_value.model;
    const DropoutOff policyOff(policy);
    const DropoutOff valueOff(value);
    const int64_t B = r.batch.ids.size(0);
    const int64_t T = r.batch.ids.size(1);
    const int64_t M = std::clamp<int64_t>(cfg.ppoMinibatches, 1, B);
    std::vector<int64_t> order(static_cast<size_t>(B));
    std::mt19937_64 rng(mixSeed(m_ctx.seed(), 0x9905, static_cast<uint64_t>(m_ctx.step)));
    Passes out;
    for (int64_t epoch = 0; epoch < cfg.ppoEpochs; ++epoch) {
        std::iota(order.begin(), order.end(), 0);
        // The first pass keeps the rollout's order; later ones reshuffle (TRL).
        if (epoch > 0) std::shuffle(order.begin(), order.end(), rng);
        for (int64_t mb = 0; mb < M; ++mb) {
            // Minibatch sizes differ by at most one when M does not divide B.
            const int64_t begin = mb * B / M, end = (mb + 1) * B / M;
            const at::Tensor rows =
                at::tensor(std::vector<int64_t>(order.begin() + begin, order.begin() + end), at::kLong);
            // Rows of the padded rollout batch, so every pass sees the same
            // tensors as the rollout did (same length, same padding).
            SequenceBatch part{r.batch.ids.index_select(0, rows), r.batch.attention.index_select(0, rows),
                               r.batch.responseMask.index_select(0, rows)};
            const at::Tensor mask = r.mask.index_select(0, rows);
            m_models.optimizer->zero_grad();
            m_value.optimizer->zero_grad();
            const at::Tensor newLogp =
                responseTokenLogprobs(m_models.sampledLogits(m_models.policyLogits(part)), part);
            const at::Tensor newValues =
                value->scalarPerToken(part.ids, part.attention).to(at::kFloat).narrow(1, 0, T - 1);
            const PolicyLoss pl = clippedPolicyLoss(newLogp, r.oldLogp.index_select(0, rows),
                                                    r.advantages.index_select(0, rows), mask, cfg.ppoClip);
            const ValueLoss vl = clippedValueLoss(newValues, r.oldValues.index_select(0, rows),
                                                  r.returns.index_select(0, rows), mask, cfg.ppoValueClip);
            const at::Tensor loss = pl.loss + cfg.ppoValueCoef * vl.loss;
            const double lossValue = loss.item<double>();
            const std::string pass = "PPO loss (epoch " + std::to_string(epoch + 1) + "/" +
                                     std::to_string(cfg.ppoEpochs) + ", minibatch " + std::to_string(mb + 1) + "/" +
                                     std::to_string(M) + ")";
            const UpdateResult u =
                m_update.apply(loss, lossValue, {{&policy, m_models.optimizer.get()}, {&value, m_value.optimizer.get()}},
                               HaltWording{pass, "; no update was applied"}, GradientClip::Jointly);
            if (!u.applied) return std::nullopt;
            out.policyLoss += pl.loss.item<double>();
            out.valueLoss += vl.loss.item<double>();
            out.loss += lossValue;
            out.ratio += pl.meanRatio;
            out.clipFraction += pl.clipFraction;
            out.approxKl += pl.approxKl;
            out.valueClipFraction += vl.clipFraction;
            out.gradNorm += u.gradNorm;
            out.learningRate = u.learningRate;
            ++out.updates;
        }
    }
    // Averages over the passes (TRL's *_avg).
    const double n = static_cast<double>(std::max<int64_t>(1, out.updates));
    for (double* v : {&out.policyLoss, &out.valueLoss, &out.loss, &out.ratio, &out.clipFraction, &out.approxKl,
                      &out.valueClipFraction, &out.gradNorm}) {
        *v /= n;
    }
    return out;
}

StepOutcome PpoStep::run(const std::atomic_bool& cancel) {
    const auto t0 = Clock::now();
    const RunConfig& cfg = m_ctx.cfg;
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
    const ScorerCancelScope stoppable(m_scorer.get(), cancel);
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

    Rollout r;
    r.batch = packSequences(prompts, s.tokens, m_models.pad());
    const int64_t T = r.batch.ids.size(1);
    r.mask = r.batch.responseMask.narrow(1, 1, T - 1).to(at::kFloat);
    at::Tensor refLogp;
    {
        torch::NoGradGuard noGrad;
        const DropoutOff policyOff(m_models.policy);
        const DropoutOff valueOff(value);
        r.oldLogp = responseTokenLogprobs(m_models.sampledLogits(m_models.policyLogits(r.batch)), r.batch);
        refLogp = responseTokenLogprobs(m_models.sampledLogits(m_models.referenceLogits(r.batch)), r.batch);
        // The value of the state before token t+1 sits at position t.
        r.oldValues = value->scalarPerToken(r.batch.ids, r.batch.attention).to(at::kFloat).narrow(1, 0, T - 1) * r.mask;
    }
    const at::Tensor delta = (r.oldLogp - refLogp) * r.mask;
    const at::Tensor scoreTensor = at::tensor(std::vector<float>(scores.begin(), scores.end()));
    const at::Tensor rewards = shapedRewards(scoreTensor, delta, r.mask, cfg.ppoKlCoef);
    const at::Tensor advantages = generalizedAdvantages(rewards, r.oldValues, r.mask, cfg.ppoGamma, cfg.ppoLambda);
    r.returns = advantages + r.oldValues;
    r.advantages = whiten(advantages, r.mask);

    const std::optional<Passes> p = optimise(r);
    if (!p) return StepOutcome::Halted;
    ++m_ctx.step;
    const double nonScore = (-cfg.ppoKlCoef * delta.sum(1)).mean().item<double>();
    const double meanScore = scoreTensor.mean().item<double>();
    const double stepSeconds = secondsSince(t0);
    m_ctx.lastMetrics = {{metricKey(Metric::Loss), p->loss},
                         {metricKey(Metric::LossPolicy), p->policyLoss},
                         {metricKey(Metric::LossValue), p->valueLoss},
                         {metricKey(Metric::PolicyApproxKl), p->approxKl},
                         {metricKey(Metric::PolicyClipFraction), p->clipFraction},
                         {metricKey(Metric::ValueRatio), p->ratio},
                         {metricKey(Metric::ValueClipFraction), p->valueClipFraction},
                         {metricKey(Metric::PpoUpdates), static_cast<double>(p->updates)},
                         {metricKey(Metric::ObjectiveScores), meanScore},
                         {metricKey(Metric::ObjectiveNonScoreReward), nonScore},
                         {metricKey(Metric::ObjectiveRlhfReward), meanScore + nonScore},
                         {metricKey(Metric::GoldRolloutReward), gold},
                         {metricKey(Metric::EvalRolloutEosRate), eos},
                         {metricKey(Metric::GradNorm), p->gradNorm},
                         {metricKey(Metric::LearningRate), p->learningRate},
                         {metricKey(Metric::TimeStepSeconds), stepSeconds},
                         {metricKey(Metric::TimeGenerationShare), stepSeconds > 0 ? generationTime / stepSeconds : 0.0}};
    m_ctx.report(m_ctx.lastMetrics);
    return StepOutcome::Trained;
}

}  // namespace preflab
