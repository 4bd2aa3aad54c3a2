// The weighted terms are differentiable through log P^f (sum w_i = n is
// constant, so subtracting the batch mean of the outcomes changes no gradient
// and gives clipping an advantage to act on); the term over fresh samples X'
// has the score-function gradient mean_j (g(X'_j) - b) grad log P^f(X'_j)
// with b the batch mean of g.
#include "core/loop/causal_step.h"

#include "core/algo/causal_preference.h"
#include "core/loop/policy_samples.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <stdexcept>

namespace preflab {

namespace {

std::vector<RatedItem> tokeniseRatedResponses(LoopContext& ctx, LoopModels& models) {
    std::vector<RatedItem> items;
    const std::vector<RatedResponse>& rated = ctx.setup.ratedResponses;
    for (size_t i = 0; i < rated.size(); ++i) {
        const RatedResponse& r = rated[i];
        RatedItem item;
        item.prompt = models.promptIds(r.prompt);
        item.response = models.tokenizer->encode(r.response);
        if (r.endedWithEos) item.response.push_back(models.eos());
        if (item.prompt.size() + item.response.size() > static_cast<size_t>(models.policy->config().maxSeqLen) ||
            !std::isfinite(r.outcome) || !std::isfinite(r.behaviourLogprob)) {
            throw std::runtime_error("rated response " + std::to_string(i + 1) +
                                     (std::isfinite(r.outcome) && std::isfinite(r.behaviourLogprob)
                                          ? " is longer than the model's context"
                                          : " has a non-finite rating or sampling log-probability") +
                                     ": it cannot be weighted against the policy that sampled it");
        }
        item.outcome = r.outcome;
        item.behaviourLogprob = r.behaviourLogprob;
        item.sentences = ctx.task.score(ctx.task.parsePrompt(r.prompt), r.response).sentences;
        items.push_back(std::move(item));
    }
    return items;
}

}  // namespace

CausalStep::CausalStep(LoopContext& ctx, LoopModels& models, ParameterUpdate& update, PairPipeline& pipeline)
    : m_ctx(ctx), m_models(models), m_update(update), m_pipeline(pipeline) {
    if (ctx.method.outcomeModel) m_outcome = std::make_unique<OutcomeModel>(ctx, models, update);
    m_stored = tokeniseRatedResponses(ctx, models);
}

at::Tensor CausalStep::temperedLogprobs(const SequenceBatch& batch) {
    at::Tensor logits = m_models.policyLogits(batch);
    if (m_ctx.cfg.temperature != 1.0) logits = logits / m_ctx.cfg.temperature;
    return sequenceLogprobs(logits, batch);
}

std::optional<StepOutcome> CausalStep::collectBatch(std::vector<RatedItem>& batch, const std::atomic_bool& cancel) {
    const size_t n = static_cast<size_t>(m_ctx.cfg.batchSize);
    if (m_stored.empty()) return m_pipeline.takeRated(n, batch, cancel);
    while (batch.size() < n) batch.push_back(m_stored[m_storedCycle.next(m_stored.size(), m_ctx.seed(), 0xC0F1)]);
    return std::nullopt;
}

StepOutcome CausalStep::run(const std::atomic_bool& cancel) {
    const auto t0 = Clock::now();
    const RunConfig& cfg = m_ctx.cfg;
    const Method method = m_ctx.method.id;
    if (m_outcome && !m_outcome->fitted()) m_outcome->warmUp(m_stored, cancel);
    std::vector<RatedItem> batch;
    if (const auto waiting = collectBatch(batch, cancel)) return *waiting;
    const int64_t n = static_cast<int64_t>(batch.size());

    std::vector<TokenIds> prompts, responses;
    std::vector<float> outcomes, behaviour;
    double staleness = 0;
    for (const RatedItem& r : batch) {
        prompts.push_back(r.prompt);
        responses.push_back(r.response);
        outcomes.push_back(static_cast<float>(r.outcome));
        behaviour.push_back(static_cast<float>(r.behaviourLogprob));
        staleness += static_cast<double>(m_ctx.step - r.generatedAt);
    }
    const SequenceBatch seqs = packSequences(prompts, responses, m_models.pad());
    const at::Tensor Y = at::tensor(outcomes);

    // The outcome model at the data and on fresh samples from the policy.
    at::Tensor gData = at::zeros({n});
    at::Tensor freshTerm = at::zeros({});
    double gFreshMean = 0, freshGold = 0;
    double generationTime = 0;
    if (m_outcome) {
        const auto tg = Clock::now();
        const PolicySamples fresh = samplePolicy(m_ctx, m_models, n, 30, cancel);
        const SampledSequences& s = fresh.sampled;
        if (s.cancelled) return StepOutcome::Cancelled;
        for (int64_t i = 0; i < n; ++i) {
            const size_t k = static_cast<size_t>(i);
            freshGold += m_ctx.task.score(*fresh.taskPrompts[k], m_models.tokenizer->decode(s.tokens[k])).total() /
                         static_cast<double>(n);
        }
        generationTime = secondsSince(tg);
        const SequenceBatch freshBatch = packSequences(fresh.prompts, s.tokens, m_models.pad());
        gData = m_outcome->predict(seqs);
        const at::Tensor gFresh = m_outcome->predict(freshBatch);
        gFreshMean = gFresh.mean().item<double>();
        m_models.policy->train();
        m_models.optimizer->zero_grad();
        freshTerm = ((gFresh - gFresh.mean()) * temperedLogprobs(freshBatch)).mean();
    } else {
        m_models.policy->train();
        m_models.optimizer->zero_grad();
    }

    const at::Tensor weights = selfNormalizedWeights(temperedLogprobs(seqs), at::tensor(behaviour));
    const WeightDiagnostics diag = weightDiagnostics(weights);
    at::Tensor objective;
    double valueEstimate = 0;
    if (method == Method::Cpo) {
        objective = cpoObjective(weights, Y - Y.mean(), cfg.cpoClip);
        valueEstimate = (weights.detach() * Y).mean().item<double>();
    } else if (method == Method::DrCpo) {
        const at::Tensor residual = Y - gData;
        objective = freshTerm + cpoObjective(weights, residual - residual.mean(), cfg.cpoClip);
        valueEstimate = gFreshMean + (weights.detach() * residual).mean().item<double>();
    } else {  // oo-rlhf
        objective = freshTerm;
        valueEstimate = gFreshMean;
    }
    const at::Tensor loss = -objective;
    const double lossValue = loss.item<double>();
    const UpdateResult update =
        m_update.apply(loss, lossValue, {{&m_models.policy, m_models.optimizer.get()}},
                       HaltWording{std::string(m_ctx.method.name) + " loss", "; no update was applied"});
    if (!update.applied) return StepOutcome::Halted;
    ++m_ctx.step;
    // The outcome model learns from the batch after the policy's step.
    const double outcomeMse = m_outcome ? m_outcome->fit(batch) : 0.0;

    const double generationSeconds = m_pipeline.takeGenerationSeconds();
    const double stepSeconds = secondsSince(t0) + generationSeconds;
    generationTime += generationSeconds;
    Metrics metrics = {{"loss", lossValue},
                       {"cpo/ess", diag.effectiveSampleSize},
                       {"cpo/max_weight", diag.maxWeight},
                       {"cpo/value_estimate", valueEstimate},
                       {"cpo/mean_outcome", Y.mean().item<double>()},
                       {"grad_norm", update.gradNorm},
                       {"learning_rate", update.learningRate},
                       {"buffer/staleness", staleness / static_cast<double>(n)},
                       {"time/step_seconds", stepSeconds},
                       {"time/generation_share", stepSeconds > 0 ? generationTime / stepSeconds : 0.0}};
    if (m_outcome) {
        metrics.push_back({"outcome/mse", outcomeMse});
        metrics.push_back({"outcome/fresh_mean", gFreshMean});
        metrics.push_back({"gold/rollout_reward", freshGold});
    }
    m_pipeline.appendUntrainableShare(metrics);
    m_ctx.lastMetrics = metrics;
    std::vector<int64_t> indices;
    for (const RatedItem& r : batch) {
        if (r.pairIndex >= 0 && std::find(indices.begin(), indices.end(), r.pairIndex) == indices.end()) indices.push_back(r.pairIndex);
    }
    if (m_ctx.observer && !indices.empty()) m_ctx.observer->pairsTrained(m_ctx.step, indices);
    m_ctx.report(m_ctx.lastMetrics);
    return StepOutcome::Trained;
}

}  // namespace preflab
