#include "core/loop/pairwise_step.h"
#include "core/values/metric_names.h"

#include "core/loop/sail_terms.h"
#include "core/values/seed_mix.h"

#include <algorithm>
#include <iterator>
#include <random>

namespace preflab {

PairwiseStep::PairwiseStep(LoopContext& ctx, LoopModels& models, ParameterUpdate& update, PairPipeline& pipeline)
    : m_ctx(ctx), m_models(models), m_update(update), m_pipeline(pipeline), m_dataset(ctx, models) {
    const RunConfig& cfg = ctx.cfg;
    m_lossOptions.method = pairwiseLossOf(ctx.method.id);
    m_lossOptions.beta = cfg.beta;
    m_lossOptions.labelSmoothing = cfg.labelSmoothing;
    m_lossOptions.ipoTokenMean = cfg.ipoTokenMean != 0;
    m_lossOptions.slicDelta = cfg.slicDelta;
    m_lossOptions.slicLambda = cfg.slicLambda;
    m_lossOptions.rpoAlpha = cfg.rpoAlpha;
    m_lossOptions.ktoDesirableWeight = cfg.ktoDesirableWeight;
    m_lossOptions.ktoUndesirableWeight = cfg.ktoUndesirableWeight;
    m_lossOptions.orpoLambda = cfg.orpoLambda;
    m_lossOptions.simpoGamma = cfg.simpoGamma;
}

void PairwiseStep::addKtoReference(const std::vector<TokenIds>& prompts, const std::vector<TokenIds>& responses,
                                   PairLogps& lp) {
    // TRL's KL dataset: each prompt with the batch's previous response (its
    // examples rotated by one), through the policy without gradient and the
    // reference; z_ref is their mean log-ratio, at least 0.
    std::vector<TokenIds> shifted(responses.size());
    for (size_t i = 0; i < responses.size(); ++i) shifted[i] = responses[(i + responses.size() - 1) % responses.size()];
    torch::NoGradGuard noGrad;
    const SequenceBatch mismatched = packSequences(prompts, shifted, m_models.pad());
    lp.klPolicy = sequenceLogprobs(m_models.policyLogits(mismatched), mismatched);
    lp.klRef = m_models.referenceLogprobs(prompts, shifted).to(lp.klPolicy.scalar_type());
}

bool PairwiseStep::mixesDatasetPairs() const {
    return m_ctx.method.data == MethodData::PolicyPairsMixable && !m_dataset.empty();
}

PairwiseStep::BatchSplit PairwiseStep::split() const {
    const RunConfig& cfg = m_ctx.cfg;
    const size_t world = static_cast<size_t>(m_ctx.worldSize), rank = static_cast<size_t>(m_ctx.rank);
    const size_t local = static_cast<size_t>(cfg.batchSize), whole = local * world;  // cfg.batchSize is this rank's share
    size_t online = m_dataset.empty() ? whole : 0;  // over the whole step
    if (mixesDatasetPairs()) {
        // Per example of the whole step: a policy pair with probability p (g),
        // else a dataset pair; every rank draws the same number.
        std::mt19937_64 rng(mixSeed(m_ctx.seed(), 0x5A12, static_cast<uint64_t>(m_ctx.step)));
        std::binomial_distribution<int64_t> routed(static_cast<int64_t>(whole), cfg.sailProb);
        online = static_cast<size_t>(routed(rng));
    }
    // Policy pairs spread as evenly as they go, the first ranks taking one more.
    auto onlineOf = [&](size_t r) { return online / world + (r < online % world ? 1 : 0); };
    BatchSplit s;
    s.online = onlineOf(rank);
    s.dataset = local - s.online;
    s.datasetTotal = whole - online;
    for (size_t r = 0; r < rank; ++r) s.datasetBegin += local - onlineOf(r);
    return s;
}

ReverseKlTerm PairwiseStep::reverseKl(const SequenceBatch& seqs, const at::Tensor& policyLogits, const at::Tensor& rows) {
    at::Tensor refTokens;
    {
        torch::NoGradGuard noGrad;
        refTokens = responseTokenLogprobs(m_models.sampledLogits(m_models.referenceLogits(seqs)), seqs);
    }
    const at::Tensor tokens = responseTokenLogprobs(m_models.sampledLogits(policyLogits), seqs);
    return reverseKlSurrogate(tokens - refTokens, tokens.sum(1), rows);
}

StepOutcome PairwiseStep::run(const std::atomic_bool& cancel) {
    if (m_ctx.method.id == Method::SailDp && m_ctx.cfg.sailKlCoef > 0) {
        // SAIL-DP trains on dataset pairs: its reverse-KL term needs samples of its own.
        m_fresh = samplePolicy(m_ctx, m_models, m_ctx.cfg.batchSize, 40, cancel);
        if (m_fresh->sampled.cancelled) return StepOutcome::Cancelled;
    }
    const BatchSplit split = this->split();
    const size_t online = split.online;
    std::vector<TrainablePair> batch;
    if (const auto waiting = m_pipeline.takePairs(online, batch, cancel)) return *waiting;
    if (cancel.load()) return StepOutcome::Cancelled;
    std::vector<TrainablePair> dataset = m_dataset.draw(split.datasetTotal, split.datasetBegin, split.dataset);
    // With several ranks every rank reports its count at every step, and rank
    // 0 sums them (a pair cut on two ranks counts twice).
    if (m_dataset.takeTruncationNews() || (m_ctx.ranks && m_dataset.truncatedPairs() > 0)) {
        // Logged when the count grows: dataset pairs cut to the model's context so far.
        m_ctx.report({{metricKey(Metric::DataTruncatedPairs), static_cast<double>(m_dataset.truncatedPairs())}});
    }
    batch.insert(batch.end(), std::make_move_iterator(dataset.begin()), std::make_move_iterator(dataset.end()));
    return train(std::move(batch));
}

StepOutcome PairwiseStep::train(std::vector<TrainablePair> batch) {
    const auto t0 = Clock::now();
    const size_t N = batch.size();
    const bool sailDp = m_ctx.method.id == Method::SailDp;

    std::vector<TokenIds> prompts, responses;
    std::vector<float> refC, refR;
    std::vector<int64_t> indices;
    double agree = 0, agreeCount = 0, staleness = 0;
    for (int pass = 0; pass < 2; ++pass) {
        for (const TrainablePair& p : batch) {
            prompts.push_back(pass == 1 && !p.rejectedPrompt.empty() ? p.rejectedPrompt : p.prompt);
            responses.push_back(pass == 0 ? p.chosen : p.rejected);
        }
    }
    for (const TrainablePair& p : batch) {
        refC.push_back(static_cast<float>(p.refChosen));
        refR.push_back(static_cast<float>(p.refRejected));
        if (p.online) indices.push_back(p.index);
        staleness += static_cast<double>(m_ctx.step - p.generatedAt);
        if (p.agreesWithGold) {
            agree += *p.agreesWithGold ? 1.0 : 0.0;
            agreeCount += 1.0;
        }
    }
    // Each pair's prompt computed once, both responses after it (the same
    // log-probabilities): for dataset pairs (stored or a file's: long shared
    // prompts, where it pays) where every pair has one prompt for both, and no
    // term needs the per-token log-probabilities of separate sequences
    // (SAIL-RevKL's reverse KL on the batch's own responses). Not for pairs
    // the policy just generated: their prompts are short, and rounding-level
    // differences change an online run's samples and so its whole trajectory
    // (the default demo, measured: with sharing gold +1.48 at exact KL 3.2 but
    // a mode-collapse warning at step 300; without, gold +1.35 at KL 3.9).
    const bool share = m_ctx.cfg.prefixSharing != 0 && m_ctx.cfg.sailKlCoef <= 0 &&
                       std::all_of(batch.begin(), batch.end(),
                                   [](const TrainablePair& p) { return p.rejectedPrompt.empty() && !p.online; });
    SequenceBatch seqs;
    SharedPairBatch shared;
    if (share) {
        std::vector<TokenIds> chosen, rejected;
        for (const TrainablePair& p : batch) {
            chosen.push_back(p.chosen);
            rejected.push_back(p.rejected);
        }
        shared = packSharedPairs(std::vector<TokenIds>(prompts.begin(), prompts.begin() + static_cast<long>(N)), chosen,
                                 rejected, m_models.pad());
    } else {
        seqs = packSequences(prompts, responses, m_models.pad());
    }
    auto sequenceLogps = [&](const at::Tensor& l) { return share ? sharedPairLogprobs(l, shared) : sequenceLogprobs(l, seqs); };
    m_models.policy->train();
    std::optional<DropoutOff> exact;
    if (pairwiseDifferentiatesSampling(m_ctx.cfg)) exact.emplace(m_models.policy);
    m_models.optimizer->zero_grad();
    const at::Tensor logits = m_models.policyLogits(share ? shared.seq : seqs);
    const at::Tensor logps = sequenceLogps(logits);
    // The score-function terms differentiate the distribution the pairs were sampled from.
    const at::Tensor sampledLogps = exact && m_models.sampling.temperature != 1.0
                                        ? sequenceLogps(m_models.sampledLogits(logits))
                                        : logps;
    const int64_t n = static_cast<int64_t>(N);
    std::vector<float> tokC, tokR;
    for (const TrainablePair& p : batch) {
        tokC.push_back(static_cast<float>(std::max<size_t>(1, p.chosen.size())));
        tokR.push_back(static_cast<float>(std::max<size_t>(1, p.rejected.size())));
    }
    PairLogps lp{logps.narrow(0, 0, n), logps.narrow(0, n, n), at::tensor(refC), at::tensor(refR),
                 at::tensor(tokC), at::tensor(tokR)};
    if (m_lossOptions.method == PairwiseMethod::Kto) addKtoReference(prompts, responses, lp);
    DatasetRedraw redraw;
    if (sailDp) redraw = redrawDatasetPreferences(m_ctx, lp);
    LossOutput out = pairwiseLoss(m_lossOptions, lp);
    addSailTerms(m_ctx, mixesDatasetPairs(), lp, sampledLogps.narrow(0, 0, n), sampledLogps.narrow(0, n, n), batch, out);
    if (sailDp) addRedrawSquare(m_ctx, lp, redraw, out);
    if (m_ctx.cfg.sailKlCoef > 0) {
        ReverseKlTerm kl;
        if (m_fresh) {
            const SequenceBatch fresh = packSequences(m_fresh->prompts, m_fresh->sampled.tokens, m_models.pad());
            kl = reverseKl(fresh, m_models.policyLogits(fresh), at::ones({fresh.ids.size(0)}));
            m_fresh.reset();
        } else {
            // Both responses of every policy pair are fresh samples (dataset pairs are not).
            std::vector<float> rows;
            for (int pass = 0; pass < 2; ++pass) {
                for (const TrainablePair& p : batch) rows.push_back(p.online ? 1.0f : 0.0f);
            }
            kl = reverseKl(seqs, logits, at::tensor(rows));
        }
        out.loss = out.loss + m_ctx.cfg.sailKlCoef * kl.surrogate;
        out.metrics.push_back({metricKey(Metric::SailKlK3), kl.meanK3});
    }
    // The reported loss (the pairwise loss without SAIL's terms) is the one checked.
    const UpdateResult update =
        m_update.apply(out.loss, out.metrics.front().second, {{&m_models.policy, m_models.optimizer.get()}});
    if (!update.applied) return StepOutcome::Halted;
    ++m_ctx.step;

    const double generationSeconds = m_pipeline.takeGenerationSeconds();
    const double stepSeconds = secondsSince(t0) + generationSeconds;
    out.metrics.push_back({metricKey(Metric::GradNorm), update.gradNorm});
    out.metrics.push_back({metricKey(Metric::LearningRate), update.learningRate});
    if (m_ctx.ranks) out.metrics.push_back({metricKey(Metric::TimeExchangeSeconds), update.exchangeSeconds});
    if (agreeCount > 0) out.metrics.push_back({metricKey(Metric::GoldLabelAgreement), agree / agreeCount});
    out.metrics.push_back({metricKey(Metric::BufferStaleness), staleness / static_cast<double>(N)});
    if (sailDp) {
        out.metrics.push_back({metricKey(Metric::SailRouted), redraw.routed});
        out.metrics.push_back({metricKey(Metric::SailSwapped), redraw.swapped});
    }
    m_pipeline.appendUntrainableShare(out.metrics);
    out.metrics.push_back({metricKey(Metric::TimeStepSeconds), stepSeconds});
    out.metrics.push_back({metricKey(Metric::TimeGenerationShare), stepSeconds > 0 ? generationSeconds / stepSeconds : 0.0});
    // Dataset pairs are not this run's pairs: only generated ones are marked.
    if (m_ctx.observer && !indices.empty()) m_ctx.observer->pairsTrained(m_ctx.step, indices);
    m_ctx.report(out.metrics);
    m_ctx.lastMetrics = out.metrics;
    return StepOutcome::Trained;
}

}  // namespace preflab
