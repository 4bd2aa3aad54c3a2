#include "core/loop/pair_pipeline.h"
#include "core/judges/reward_scorer.h"
#include "core/values/metric_names.h"

#include "core/values/seed_mix.h"

#include <iterator>

namespace preflab {

PairPipeline::PairPipeline(LoopContext& ctx, LoopModels& models, ParameterUpdate& update, std::unique_ptr<Judge> judge,
                           HeldOutPreferences& heldOut)
    : m_ctx(ctx), m_models(models), m_update(update), m_judge(std::move(judge)), m_heldOut(heldOut),
      m_rated(ctx.method.family == MethodFamily::Causal) {}

bool PairPipeline::generateRound(const std::atomic_bool& cancel) {
    const auto t0 = Clock::now();
    const int64_t G = m_ctx.cfg.generationBatch;
    const int64_t step = m_ctx.step;
    std::vector<TokenIds> prompts;
    std::vector<uint64_t> seeds;
    std::vector<const TaskPrompt*> taskPrompts;
    for (int64_t i = 0; i < G; ++i) {
        const int64_t index = m_ctx.pairIndexAt(m_ctx.nextPairIndex + i);
        const TaskPrompt& p = m_ctx.trainPrompt(index);
        taskPrompts.push_back(&p);
        const TokenIds ids = m_models.promptIds(p.text);
        for (uint64_t slot = 0; slot < 2; ++slot) {
            prompts.push_back(ids);
            seeds.push_back(mixSeed(m_ctx.seed(), static_cast<uint64_t>(index), slot + 10));
        }
    }
    const SampledSequences s =
        sampleBatch(m_models.policy, prompts, m_models.sampling, seeds, m_models.eos(), m_models.pad(), &cancel);
    if (s.cancelled) return false;
    const at::Tensor ref = m_models.referenceLogprobs(prompts, s.tokens);
    const auto refA = ref.accessor<float, 1>();

    std::vector<PairRecord> records;
    std::vector<PairForJudging> forJudge;
    for (int64_t i = 0; i < G; ++i) {
        const int64_t index = m_ctx.pairIndexAt(m_ctx.nextPairIndex + i);
        PairRecord rec;
        rec.pairIndex = index;
        rec.generatedAtStep = step;
        rec.prompt = taskPrompts[i]->text;
        Candidate cand;
        cand.taskPrompt = taskPrompts[i];
        cand.prompt = prompts[2 * i];
        cand.generatedAt = step;
        for (int slot = 0; slot < 2; ++slot) {
            const size_t k = static_cast<size_t>(2 * i + slot);
            GeneratedResponse& r = slot == 0 ? rec.a : rec.b;
            r.text = m_models.tokenizer->decode(s.tokens[k]);
            r.tokenCount = static_cast<int64_t>(s.tokens[k].size());
            r.endedWithEos = s.endedWithEos[k];
            r.policyLogprob = s.policyLogprob[k];
            r.samplingLogprob = s.samplingLogprob[k];
            r.refLogprob = refA[static_cast<int64_t>(k)];
            r.goldReward = m_ctx.task.score(*taskPrompts[i], r.text).total();
            (slot == 0 ? cand.a : cand.b) = s.tokens[k];
            (slot == 0 ? cand.refA : cand.refB) = r.refLogprob;
            (slot == 0 ? cand.goldA : cand.goldB) = *r.goldReward;
            (slot == 0 ? cand.samplingA : cand.samplingB) = r.samplingLogprob;
        }
        forJudge.push_back({index, rec.prompt, rec.a.text, rec.b.text, rec.a.policyLogprob, rec.b.policyLogprob,
                            rec.a.refLogprob, rec.b.refLogprob, step, rec.a.goldReward, rec.b.goldReward});
        m_awaiting.emplace(index, std::move(cand));
        records.push_back(std::move(rec));
    }
    m_ctx.nextPairIndex += G;
    if (m_ctx.observer) m_ctx.observer->pairsGenerated(records);
    {
        // A judge that waits on a server stops waiting when the run is stopped.
        const ScorerCancelScope stoppable(dynamic_cast<RewardScorer*>(m_judge.get()), cancel);
        m_judge->submit(forJudge);
    }
    m_generationSeconds += secondsSince(t0);
    return true;
}

int PairPipeline::absorbJudgements() {
    std::vector<Judgement> judged = m_judge->collect();
    const OrderChecks order = m_judge->takeOrderChecks();
    m_orderChecksSinceStep.asked += order.asked;
    m_orderChecksSinceStep.flipped += order.flipped;
    if (judged.empty()) return 0;
    if (m_ctx.observer) m_ctx.observer->pairsJudged(judged);
    int trainable = 0;
    for (const Judgement& j : judged) {
        auto it = m_awaiting.find(j.pairIndex);
        if (it == m_awaiting.end()) continue;
        Candidate c = std::move(it->second);
        m_awaiting.erase(it);
        ++m_judgedSinceStep;
        if (c.a == c.b) ++m_identicalSinceStep;
        if (m_rated) {
            // A person's ratings, or the task's true reward as the outcome.
            const bool byTask = j.source == LabelSource::Task;
            if (!(j.ratingA && j.ratingB) && !byTask) {
                ++m_untrainableSinceStep;
                continue;  // a choice without ratings: stored, no outcome to train on
            }
            for (int slot = 0; slot < 2; ++slot) {
                RatedItem r;
                r.prompt = c.prompt;
                r.response = slot == 0 ? c.a : c.b;
                r.outcome = slot == 0 ? (j.ratingA ? *j.ratingA : c.goldA) : (j.ratingB ? *j.ratingB : c.goldB);
                r.behaviourLogprob = slot == 0 ? c.samplingA : c.samplingB;
                r.sentences = m_ctx.task.score(*c.taskPrompt, m_models.tokenizer->decode(r.response)).sentences;
                r.generatedAt = c.generatedAt;
                r.pairIndex = j.pairIndex;
                // Both responses of a pair share a fold (they share a prompt).
                r.fold = static_cast<int>(mixSeed(m_ctx.seed(), 0xF01D, static_cast<uint64_t>(j.pairIndex)) & 1u);
                m_ratedReady.push_back(std::move(r));
            }
            trainable += 2;
            continue;
        }
        if (j.choice != Choice::A && j.choice != Choice::B) {
            ++m_untrainableSinceStep;
            continue;  // stored, not trained
        }
        const bool aWins = j.choice == Choice::A;
        // Held back for the held-out set: stored with its label, never trained on.
        if (j.source == LabelSource::Human &&
            m_heldOut.holdBack(j.pairIndex, c.prompt, aWins ? c.a : c.b, aWins ? c.b : c.a, aWins ? c.refA : c.refB,
                               aWins ? c.refB : c.refA)) {
            continue;
        }
        TrainablePair t;
        t.index = j.pairIndex;
        t.prompt = std::move(c.prompt);
        t.chosen = aWins ? std::move(c.a) : std::move(c.b);
        t.rejected = aWins ? std::move(c.b) : std::move(c.a);
        t.refChosen = aWins ? c.refA : c.refB;
        t.refRejected = aWins ? c.refB : c.refA;
        t.generatedAt = c.generatedAt;
        if (c.goldA != c.goldB) t.agreesWithGold = aWins == (c.goldA > c.goldB);
        m_ready.push_back(std::move(t));
        ++trainable;
    }
    return trainable;
}

std::optional<StepOutcome> PairPipeline::generateUntil(const std::function<size_t()>& readyCount, size_t count,
                                                       const std::atomic_bool& cancel, const std::string& barrenMessage) {
    const size_t maxOutstanding = static_cast<size_t>(2 * m_ctx.cfg.generationBatch);
    for (;;) {
        if (cancel.load()) return StepOutcome::Cancelled;
        const int usable = absorbJudgements();
        if (readyCount() >= count) return std::nullopt;
        if (m_judge->outstanding() >= maxOutstanding) return StepOutcome::WaitingForLabels;
        if (!generateRound(cancel)) return StepOutcome::Cancelled;
        const int after = absorbJudgements();
        m_barrenRounds = (usable + after > 0 || m_judge->outstanding() > 0) ? 0 : m_barrenRounds + 1;
        if (m_barrenRounds >= kMaxBarrenRounds) {
            m_barrenRounds = 0;
            return m_update.haltTogether(barrenMessage);
        }
        if (readyCount() >= count) return std::nullopt;
    }
}

namespace {

// Moves the first `count` items of `from` into `to`.
template <typename T>
void moveFront(std::deque<T>& from, size_t count, std::vector<T>& to) {
    to.assign(std::make_move_iterator(from.begin()), std::make_move_iterator(from.begin() + static_cast<long>(count)));
    from.erase(from.begin(), from.begin() + static_cast<long>(count));
}

}  // namespace

std::optional<StepOutcome> PairPipeline::takePairs(size_t count, std::vector<TrainablePair>& batch,
                                                   const std::atomic_bool& cancel) {
    if (count == 0) return std::nullopt;
    if (const auto waiting = generateUntil([this] { return m_ready.size(); }, count, cancel,
                                           "the judge preferred neither response in " + std::to_string(kMaxBarrenRounds) +
                                               " rounds (identical or equally scored responses); try a higher temperature")) {
        return waiting;
    }
    moveFront(m_ready, count, batch);
    return std::nullopt;
}

std::optional<StepOutcome> PairPipeline::takeRated(size_t count, std::vector<RatedItem>& batch,
                                                   const std::atomic_bool& cancel) {
    if (const auto waiting = generateUntil([this] { return m_ratedReady.size(); }, count, cancel,
                                           "no rated response in " + std::to_string(kMaxBarrenRounds) +
                                               " rounds: cpo, dr-cpo and oo-rlhf need numeric ratings (rating mode) or the task judge")) {
        return waiting;
    }
    moveFront(m_ratedReady, count, batch);
    return std::nullopt;
}

void PairPipeline::appendUntrainableShare(Metrics& metrics) {
    // Ties, "both bad" and skips are stored but not trained on: when the
    // policy's two samples become equally good (or identical), this share
    // rises and each step needs more generation.
    if (m_judgedSinceStep > 0) {
        metrics.push_back({metricKey(Metric::JudgeUntrainableShare),
                           static_cast<double>(m_untrainableSinceStep) / static_cast<double>(m_judgedSinceStep)});
        // Two identical samples: the clearest sign of a collapsing policy.
        metrics.push_back({metricKey(Metric::JudgeIdenticalShare),
                           static_cast<double>(m_identicalSinceStep) / static_cast<double>(m_judgedSinceStep)});
    }
    m_judgedSinceStep = m_untrainableSinceStep = m_identicalSinceStep = 0;
    // Position bias on the pairs trained on (each flip became a tie, so it is in the untrainable share too).
    if (m_orderChecksSinceStep.asked > 0) {
        metrics.push_back({metricKey(Metric::JudgeTrainFlipRate), static_cast<double>(m_orderChecksSinceStep.flipped) /
                                                                      static_cast<double>(m_orderChecksSinceStep.asked)});
    }
    m_orderChecksSinceStep = {};
}

double PairPipeline::takeGenerationSeconds() {
    const double s = m_generationSeconds;
    m_generationSeconds = 0;
    return s;
}

}  // namespace preflab
