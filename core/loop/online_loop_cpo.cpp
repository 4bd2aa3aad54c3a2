// CPO, DR-CPO and OO-RLHF steps of the online loop (algorithms.md §3).
//
// Data are responses X_i with outcomes Y_i, sampled by a presenting policy P^R
// whose log-probability of X_i was stored at generation time. The policy f's
// value V(f) = E_{X~P^f}[E[Y|X]] is estimated by
//   CPO     (1/n) sum_i w_i Y_i,  w = n softmax(log P^f - log P^R) (self-normalised)
//   DR-CPO  E_{X'~P^f}[g(X')] + (1/n) sum_i w_i (Y_i - g(X_i))
//   OO-RLHF E_{X'~P^f}[g(X')]
// with g the outcome model (a scalar head fitted to the ratings). The policy
// ascends the estimate: the weighted terms are differentiable through log P^f
// (sum w_i = n is constant, so subtracting the batch mean of the outcomes
// changes no gradient and gives clipping an advantage to act on); the term over
// fresh samples X' has the score-function gradient mean_j (g(X'_j) - b) grad log P^f(X'_j)
// with b the batch mean of g.
#include "core/loop/online_loop_impl.h"

namespace preflab {

at::Tensor OnlineLoop::Impl::temperedLogprobs(const SequenceBatch& batch) {
    at::Tensor logits = computeLogits(policy, batch.ids, batch.attention, bf16).to(at::kFloat);
    if (cfg.temperature != 1.0) logits = logits / cfg.temperature;
    return sequenceLogprobs(logits, batch);
}

std::optional<StepOutcome> OnlineLoop::Impl::collectRatedBatch(std::vector<RatedItem>& batch,
                                                               const std::atomic_bool& cancel) {
    const size_t n = static_cast<size_t>(cfg.batchSize);
    if (!ratedData.empty()) {
        while (batch.size() < n) batch.push_back(ratedData[ratedCycle.next(ratedData.size(), static_cast<uint64_t>(cfg.seed), 0xC0F1)]);
        return std::nullopt;
    }
    if (const auto waiting = generateUntil([this] { return ratedReady.size(); }, n, cancel,
                                           "no rated response in " + std::to_string(kMaxBarrenRounds) +
                                               " rounds: cpo, dr-cpo and oo-rlhf need numeric ratings (rating mode) or the task judge")) {
        return waiting;
    }
    batch.assign(std::make_move_iterator(ratedReady.begin()), std::make_move_iterator(ratedReady.begin() + static_cast<long>(n)));
    ratedReady.erase(ratedReady.begin(), ratedReady.begin() + static_cast<long>(n));
    return std::nullopt;
}

double OnlineLoop::Impl::fitOutcomeModel(const std::vector<RatedItem>& items) {
    std::vector<TokenIds> prompts, responses;
    std::vector<float> targets;
    for (const RatedItem& r : items) {
        prompts.push_back(r.prompt);
        responses.push_back(r.response);
        targets.push_back(static_cast<float>(r.outcome + cfg.outcomeLengthBias * r.sentences));
    }
    const SequenceBatch seqs = packSequences(prompts, responses, tokenizer->special().pad);
    value->train();
    valueOptimizer->zero_grad();
    const at::Tensor mse = (value->scalar(seqs.ids, seqs.attention).to(at::kFloat) - at::tensor(targets)).pow(2).mean();
    const double v = mse.item<double>();
    if (!std::isfinite(v)) return v;
    mse.backward();
    clipGradients(value);
    valueOptimizer->step();
    return v;
}

void OnlineLoop::Impl::warmUpOutcomeModel(const std::atomic_bool& cancel) {
    outcomeFitted = true;
    if (ratedData.empty() || cfg.outcomeWarmupSteps == 0) return;
    ShuffledCycle cycle;
    const size_t n = std::max<size_t>(16, static_cast<size_t>(cfg.batchSize));
    double recent = 0;
    int64_t count = 0;
    for (int64_t i = 0; i < cfg.outcomeWarmupSteps; ++i) {
        if (cancel.load()) return;
        std::vector<RatedItem> batch;
        while (batch.size() < n) batch.push_back(ratedData[cycle.next(ratedData.size(), static_cast<uint64_t>(cfg.seed), 0x0C7E)]);
        const double mse = fitOutcomeModel(batch);
        if (i >= cfg.outcomeWarmupSteps - 10) {
            recent += mse;
            ++count;
        }
    }
    report({{"outcome/warmup_mse", recent / static_cast<double>(std::max<int64_t>(1, count))}});
}

StepOutcome OnlineLoop::Impl::causalStep(const std::atomic_bool& cancel) {
    const auto t0 = Clock::now();
    const bool withOutcome = method.outcomeModel;
    if (withOutcome && !outcomeFitted) warmUpOutcomeModel(cancel);
    std::vector<RatedItem> batch;
    if (const auto waiting = collectRatedBatch(batch, cancel)) return *waiting;
    const int64_t n = static_cast<int64_t>(batch.size());

    std::vector<TokenIds> prompts, responses;
    std::vector<float> outcomes, behaviour;
    double staleness = 0;
    for (const RatedItem& r : batch) {
        prompts.push_back(r.prompt);
        responses.push_back(r.response);
        outcomes.push_back(static_cast<float>(r.outcome));
        behaviour.push_back(static_cast<float>(r.behaviourLogprob));
        staleness += static_cast<double>(step - r.generatedAt);
    }
    const SequenceBatch seqs = packSequences(prompts, responses, tokenizer->special().pad);
    const at::Tensor Y = at::tensor(outcomes);

    // The outcome model at the data and on fresh samples from the policy.
    at::Tensor gData = at::zeros({n});
    at::Tensor freshTerm = at::zeros({});
    double gFreshMean = 0, freshGold = 0;
    double generationTime = 0;
    if (withOutcome) {
        const auto tg = Clock::now();
        const PolicySamples freshSamples = samplePolicy(n, 30, cancel);
        const std::vector<TokenIds>& freshPrompts = freshSamples.prompts;
        const std::vector<const TaskPrompt*>& taskPrompts = freshSamples.taskPrompts;
        const SampledSequences& s = freshSamples.sampled;
        if (s.cancelled) return StepOutcome::Cancelled;
        for (int64_t i = 0; i < n; ++i) {
            freshGold += task.score(*taskPrompts[static_cast<size_t>(i)], tokenizer->decode(s.tokens[static_cast<size_t>(i)])).total() /
                         static_cast<double>(n);
        }
        generationTime = secondsSince(tg);
        const SequenceBatch fresh = packSequences(freshPrompts, s.tokens, tokenizer->special().pad);
        at::Tensor gFresh;
        {
            torch::NoGradGuard noGrad;
            value->eval();
            gData = value->scalar(seqs.ids, seqs.attention).to(at::kFloat);
            gFresh = value->scalar(fresh.ids, fresh.attention).to(at::kFloat);
        }
        gFreshMean = gFresh.mean().item<double>();
        policy->train();
        optimizer->zero_grad();
        freshTerm = ((gFresh - gFresh.mean()) * temperedLogprobs(fresh)).mean();
    } else {
        policy->train();
        optimizer->zero_grad();
    }

    const at::Tensor weights = selfNormalizedWeights(temperedLogprobs(seqs), at::tensor(behaviour));
    const WeightDiagnostics diag = weightDiagnostics(weights);
    at::Tensor objective;
    double valueEstimate = 0;
    if (method.id == Method::Cpo) {
        objective = cpoObjective(weights, Y - Y.mean(), cfg.cpoClip);
        valueEstimate = (weights.detach() * Y).mean().item<double>();
    } else if (method.id == Method::DrCpo) {
        const at::Tensor residual = Y - gData;
        objective = freshTerm + cpoObjective(weights, residual - residual.mean(), cfg.cpoClip);
        valueEstimate = gFreshMean + (weights.detach() * residual).mean().item<double>();
    } else {  // oo-rlhf
        objective = freshTerm;
        valueEstimate = gFreshMean;
    }
    const at::Tensor loss = -objective;
    const double lossValue = loss.item<double>();
    if (!std::isfinite(lossValue)) {
        return halt("non-finite " + cfg.algorithm + " loss (" + std::to_string(lossValue) + ") at step " +
                    std::to_string(step + 1) + "; no update was applied and the last checkpoint is kept");
    }
    loss.backward();
    const double gradNorm = clipGradients(policy);
    if (!std::isfinite(gradNorm)) {
        return halt("non-finite gradient norm at step " + std::to_string(step + 1) + "; no update was applied");
    }
    const double lr = optimizerStep(*optimizer);
    ++step;
    double outcomeMse = 0;
    if (withOutcome) outcomeMse = fitOutcomeModel(batch);

    const double stepSeconds = secondsSince(t0) + generationSeconds;
    generationTime += generationSeconds;
    generationSeconds = 0;
    lastMetrics = {{"loss", lossValue},
                   {"cpo/ess", diag.effectiveSampleSize},
                   {"cpo/max_weight", diag.maxWeight},
                   {"cpo/value_estimate", valueEstimate},
                   {"cpo/mean_outcome", Y.mean().item<double>()},
                   {"grad_norm", gradNorm},
                   {"learning_rate", lr},
                   {"buffer/staleness", staleness / static_cast<double>(n)},
                   {"time/step_seconds", stepSeconds},
                   {"time/generation_share", stepSeconds > 0 ? generationTime / stepSeconds : 0.0}};
    if (withOutcome) {
        lastMetrics.push_back({"outcome/mse", outcomeMse});
        lastMetrics.push_back({"outcome/fresh_mean", gFreshMean});
        lastMetrics.push_back({"gold/rollout_reward", freshGold});
    }
    if (judgedSinceStep > 0) {
        lastMetrics.push_back({"judge/untrainable_share",
                               static_cast<double>(untrainableSinceStep) / static_cast<double>(judgedSinceStep)});
    }
    judgedSinceStep = untrainableSinceStep = 0;
    std::vector<int64_t> indices;
    for (const RatedItem& r : batch) {
        if (r.pairIndex >= 0 && std::find(indices.begin(), indices.end(), r.pairIndex) == indices.end()) indices.push_back(r.pairIndex);
    }
    if (observer && !indices.empty()) observer->pairsTrained(step, indices);
    report(lastMetrics);
    if (cfg.evalEvery > 0 && step % cfg.evalEvery == 0) evaluate(cancel);
    if ((cfg.checkpointEvery > 0 && step % cfg.checkpointEvery == 0) || step == cfg.steps) checkpoint();
    return StepOutcome::Trained;
}

}  // namespace preflab
