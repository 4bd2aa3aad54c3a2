// The estimates and their surrogates are causal_preference.h's (tested there);
// this step gathers their inputs. Log-probabilities are those of the tempered
// distribution the responses were sampled from, with dropout off, so that a
// response sampled by the current policy has weight exactly 1.
#include "core/loop/causal_step.h"
#include "core/values/metric_names.h"

#include "core/algo/causal_preference.h"
#include "core/loop/policy_samples.h"
#include "core/values/seed_mix.h"

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
        item.fold = static_cast<int>(mixSeed(ctx.seed(), 0xF01D ^ 0x5EED, i) & 1u);
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
    const DropoutOff off(m_models.policy);
    return sequenceLogprobs(m_models.sampledLogits(m_models.policyLogits(batch)), batch);
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

    // The outcome model at the data (out of fold) and on fresh samples from the policy.
    at::Tensor gData, gFresh, freshLogp;
    double freshGold = 0;
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
        gData = m_outcome->predictHeldOut(batch, seqs);
        gFresh = m_outcome->predictFresh(freshBatch);
        m_models.optimizer->zero_grad();
        freshLogp = temperedLogprobs(freshBatch);
    } else {
        m_models.optimizer->zero_grad();
    }

    const at::Tensor weights = selfNormalizedWeights(temperedLogprobs(seqs), at::tensor(behaviour));
    const WeightDiagnostics diag = weightDiagnostics(weights);
    const CausalObjective objective = method == Method::Cpo     ? cpoEstimate(weights, Y, cfg.cpoClip)
                                      : method == Method::DrCpo ? drCpoObjective(weights, Y, gData, gFresh, freshLogp, cfg.cpoClip)
                                                                : ooRlhfObjective(gFresh, freshLogp);
    const double valueEstimate = objective.value;
    const double gFreshMean = m_outcome ? gFresh.mean().item<double>() : 0.0;
    const at::Tensor loss = -objective.surrogate;
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
    Metrics metrics = {{metricKey(Metric::Loss), lossValue},
                       {metricKey(Metric::CpoEss), diag.effectiveSampleSize},
                       {metricKey(Metric::CpoMaxWeight), diag.maxWeight},
                       {metricKey(Metric::CpoValueEstimate), valueEstimate},
                       {metricKey(Metric::CpoMeanOutcome), Y.mean().item<double>()},
                       {metricKey(Metric::GradNorm), update.gradNorm},
                       {metricKey(Metric::LearningRate), update.learningRate},
                       {metricKey(Metric::BufferStaleness), staleness / static_cast<double>(n)},
                       {metricKey(Metric::TimeStepSeconds), stepSeconds},
                       {metricKey(Metric::TimeGenerationShare), stepSeconds > 0 ? generationTime / stepSeconds : 0.0}};
    if (m_outcome) {
        metrics.push_back({metricKey(Metric::OutcomeMse), outcomeMse});
        metrics.push_back({metricKey(Metric::OutcomeFreshMean), gFreshMean});
        metrics.push_back({metricKey(Metric::GoldRolloutReward), freshGold});
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
