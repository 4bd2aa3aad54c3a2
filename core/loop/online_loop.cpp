// The loop itself: its parts, the dispatch by method family, and the order of
// a step (evaluate at the start, the family's step, evaluation and checkpoint
// when due).
#include "core/loop/online_loop.h"

#include "core/distributed/rank_group.h"
#include "core/distributed/rank_relay.h"
#include "core/loop/run_handshake.h"
#include "core/loop/causal_step.h"
#include "core/loop/checkpoints.h"
#include "core/loop/evaluator.h"
#include "core/loop/family_step.h"
#include "core/loop/group_step.h"
#include "core/loop/loop_context.h"
#include "core/loop/loop_models.h"
#include "core/loop/pair_pipeline.h"
#include "core/loop/pairwise_step.h"
#include "core/loop/parameter_update.h"
#include "core/loop/ppo_step.h"

namespace preflab {

namespace {

std::unique_ptr<FamilyStep> makeFamilyStep(LoopContext& ctx, LoopModels& models, ParameterUpdate& update,
                                           PairPipeline& pipeline) {
    switch (ctx.method.family) {
    case MethodFamily::Pairwise: return std::make_unique<PairwiseStep>(ctx, models, update, pipeline);
    case MethodFamily::Ppo: return std::make_unique<PpoStep>(ctx, models, update);
    case MethodFamily::Causal: return std::make_unique<CausalStep>(ctx, models, update, pipeline);
    case MethodFamily::Group: return std::make_unique<GroupStep>(ctx, models, update);
    }
    throw std::logic_error("unknown method family");
}

// Data-parallel: meets the other ranks and agrees on the setup (rank 0's
// resume point is taken here); null for one process.
std::unique_ptr<RankGroup> joinRanks(LoopSetup& setup) {
    if (!setup.ranks.distributed()) return nullptr;
    const std::string problem = dataParallelProblem(setup.config, setup.ranks.worldSize);
    if (!problem.empty()) throw std::runtime_error(problem);
    auto group = std::make_unique<RankGroup>(setup.ranks);
    agreeOnSetup(*group, setup);
    group->connect();
    return group;
}

// Each rank's share of a step: the batch and the generation round split evenly.
LoopSetup shardedSetup(LoopSetup setup) {
    const int64_t world = std::max(1, setup.ranks.worldSize);
    setup.config.batchSize /= world;
    setup.config.generationBatch = (setup.config.generationBatch + world - 1) / world;
    return setup;
}

}  // namespace

struct OnlineLoop::Impl {
    // Declaration order is construction order, and it matters: the ranks
    // agree on the setup before any work, the models reseed torch, then the
    // family's side model draws its initial weights.
    std::unique_ptr<RankGroup> ranks;
    std::unique_ptr<StepMerger> merger;    // rank 0 of several: every rank's events, merged per step
    std::unique_ptr<RelayRecorder> relay;  // other ranks: their events, sent to rank 0 per step
    LoopContext ctx;
    LoopModels models;
    ParameterUpdate update;
    HeldOutPreferences heldOut;
    PairPipeline pipeline;
    Evaluator evaluator;
    Checkpoints checkpoints;
    std::unique_ptr<FamilyStep> family;
    bool evaluatedAtStart = false;
    bool ranksEnded = false;  // data-parallel: halted or stopped together; the other ranks have ended
    int64_t relaySequence = 0;  // data-parallel: steps whose events were gathered

    Impl(LoopSetup setup, std::unique_ptr<Judge> judge, LoopObserver* observer)
        : ranks(joinRanks(setup)),
          merger(ranks && ranks->options().leader() ? std::make_unique<StepMerger>(observer) : nullptr),
          relay(ranks && !ranks->options().leader() ? std::make_unique<RelayRecorder>() : nullptr),
          ctx(shardedSetup(std::move(setup)), merger ? static_cast<LoopObserver*>(merger.get())
                                              : relay ? static_cast<LoopObserver*>(relay.get())
                                                      : observer),
          models(ctx),
          update(ctx, *models.optimizer),
          heldOut(ctx, models),
          pipeline(ctx, models, update, std::move(judge), heldOut),
          evaluator(ctx, models, heldOut),
          checkpoints(ctx, models),
          family(makeFamilyStep(ctx, models, update, pipeline)) {
        // A resumed run was evaluated at the step it resumes from.
        evaluatedAtStart = checkpoints.resume(family->sideModels());
        if (ranks) {
            ctx.ranks = ranks.get();
            startFromLeadersWeights();
        }
    }

    // Every rank starts from rank 0's weights, whatever it loaded.
    void startFromLeadersWeights() {
        torch::NoGradGuard noGrad;
        std::vector<at::Tensor> params;
        for (const at::Tensor& p : models.policy->parameters()) params.push_back(p.detach());
        ranks->broadcastFromLeader(params);
    }

    StepOutcome step(const std::atomic_bool& cancel) {
        const RunConfig& cfg = ctx.cfg;
        if (ctx.step >= cfg.steps) return StepOutcome::Finished;
        // After the ranks halted or stopped together, the others are gone:
        // no further step may reach a collective.
        if (ranksEnded) return cancel.load() ? StepOutcome::Cancelled : StepOutcome::Halted;
        if (!evaluatedAtStart) {
            evaluatedAtStart = true;
            if (cfg.evalEvery > 0 && ctx.leader()) evaluator.run(cancel);
        }
        StepOutcome outcome;
        if (ranks) {
            // The ranks stop together: `cancel` goes out with the gradients,
            // and the step itself runs to its end.
            static const std::atomic_bool kRunsToItsEnd{false};
            ctx.localStop = &cancel;
            if (merger) merger->beginStep();
            outcome = family->run(kRunsToItsEnd);
            gatherStepEvents(outcome);
            ranksEnded = outcome == StepOutcome::Halted || (outcome == StepOutcome::Trained && ctx.stopAgreed && ctx.step < cfg.steps);
        } else {
            outcome = family->run(cancel);
        }
        if (outcome != StepOutcome::Trained) return outcome;
        if (cfg.evalEvery > 0 && ctx.step % cfg.evalEvery == 0 && ctx.leader()) evaluator.run(cancel);
        if (((cfg.checkpointEvery > 0 && ctx.step % cfg.checkpointEvery == 0) || ctx.step == cfg.steps) &&
            ctx.leader()) {
            checkpoints.save(family->sideModels());
        }
        if (ctx.stopAgreed && ctx.step < cfg.steps) return StepOutcome::Cancelled;
        return outcome;
    }

    // Data-parallel, after a step: the other ranks send their events to rank
    // 0, which stores and reports them with its own, metrics averaged.
    void gatherStepEvents(StepOutcome outcome) {
        // Every rank ends a step the same way (the exchange decides): trained,
        // or halted together, whose pairs are kept as well.
        const bool joint = outcome == StepOutcome::Trained || outcome == StepOutcome::Halted;
        const bool trained = outcome == StepOutcome::Trained;
        // Keyed by the exchange's sequence number, the same on every rank.
        const std::string key = "relay/" + std::to_string(relaySequence) + "/";
        if (joint) ++relaySequence;
        if (relay) {
            std::string events = relay->take();
            if (joint) ranks->publish(key + std::to_string(ctx.rank), events);
            return;
        }
        std::vector<std::string> relayed;
        for (int r = 1; joint && r < ctx.worldSize; ++r) {
            relayed.push_back(ranks->fetch(key + std::to_string(r),
                                           "rank " + std::to_string(r) + "'s pairs and metrics of step " +
                                               std::to_string(ctx.step)));
            ranks->remove(key + std::to_string(r));
        }
        merger->finishStep(relayed);
        // The checkpoint keeps the whole step's metrics, not rank 0's share.
        if (trained) {
            ctx.lastMetrics.clear();
            for (const MetricSample& s : merger->lastMerged()) {
                if (s.step == ctx.step) ctx.lastMetrics.emplace_back(s.name, s.value);
            }
        }
    }
};

OnlineLoop::OnlineLoop(LoopSetup setup, std::unique_ptr<Judge> judge, LoopObserver* observer)
    : d(std::make_unique<Impl>(std::move(setup), std::move(judge), observer)) {}

OnlineLoop::~OnlineLoop() = default;

StepOutcome OnlineLoop::step(const std::atomic_bool& cancel) {
    return d->step(cancel);
}

void OnlineLoop::evaluate(const std::atomic_bool& cancel) {
    d->evaluator.run(cancel);
}

void OnlineLoop::collectJudgements() {
    d->pipeline.absorbJudgements();
}

std::string OnlineLoop::checkpoint() {
    if (!d->ctx.leader()) return {};  // rank 0 alone writes checkpoints
    return d->checkpoints.save(d->family->sideModels());
}

bool OnlineLoop::stopsWithOtherRanks() const {
    return d->ranks != nullptr;
}

int64_t OnlineLoop::currentStep() const {
    return d->ctx.step;
}

int64_t OnlineLoop::totalSteps() const {
    return d->ctx.cfg.steps;
}

const std::string& OnlineLoop::lastError() const {
    return d->ctx.lastError;
}

Judge& OnlineLoop::judge() {
    return d->pipeline.judge();
}

int64_t OnlineLoop::parameterCount() const {
    return d->models.policy->config().parameterCount();
}

}  // namespace preflab
