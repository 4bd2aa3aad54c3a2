// The loop itself: its parts, the dispatch by method family, and the order of
// a step (evaluate at the start, the family's step, evaluation and checkpoint
// when due).
#include "core/loop/online_loop.h"

#include "core/loop/causal_step.h"
#include "core/loop/checkpoints.h"
#include "core/loop/evaluator.h"
#include "core/loop/family_step.h"
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
    }
    throw std::logic_error("unknown method family");
}

}  // namespace

struct OnlineLoop::Impl {
    // Declaration order is construction order, and it matters: the models
    // reseed torch, then the family's side model draws its initial weights.
    LoopContext ctx;
    LoopModels models;
    ParameterUpdate update;
    PairPipeline pipeline;
    Evaluator evaluator;
    Checkpoints checkpoints;
    std::unique_ptr<FamilyStep> family;
    bool evaluatedAtStart = false;

    Impl(LoopSetup setup, std::unique_ptr<Judge> judge, LoopObserver* observer)
        : ctx(std::move(setup), observer),
          models(ctx),
          update(ctx, *models.optimizer),
          pipeline(ctx, models, update, std::move(judge)),
          evaluator(ctx, models),
          checkpoints(ctx, models),
          family(makeFamilyStep(ctx, models, update, pipeline)) {
        // A resumed run was evaluated at the step it resumes from.
        evaluatedAtStart = checkpoints.resume(family->sideModels());
    }

    StepOutcome step(const std::atomic_bool& cancel) {
        const RunConfig& cfg = ctx.cfg;
        if (ctx.step >= cfg.steps) return StepOutcome::Finished;
        if (!evaluatedAtStart) {
            evaluatedAtStart = true;
            if (cfg.evalEvery > 0) evaluator.run(cancel);
        }
        const StepOutcome outcome = family->run(cancel);
        if (outcome != StepOutcome::Trained) return outcome;
        if (cfg.evalEvery > 0 && ctx.step % cfg.evalEvery == 0) evaluator.run(cancel);
        if ((cfg.checkpointEvery > 0 && ctx.step % cfg.checkpointEvery == 0) || ctx.step == cfg.steps) {
            checkpoints.save(family->sideModels());
        }
        return outcome;
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
    return d->checkpoints.save(d->family->sideModels());
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
