#pragma once
// The pairwise family's step (algorithms.md §1, §2): a pairwise loss (DPO,
// IPO, SLiC, cDPO, rDPO) on judged policy pairs, stored pairs or a mix of
// both, with SAIL's terms for sail-pr, sail-pp and sail-dp. Core-private (torch).
#include "core/algo/pairwise_loss.h"
#include "core/loop/dataset_pairs.h"
#include "core/loop/family_step.h"
#include "core/loop/loop_context.h"
#include "core/loop/loop_models.h"
#include "core/loop/pair_pipeline.h"
#include "core/loop/parameter_update.h"

namespace preflab {

class PairwiseStep : public FamilyStep {
public:
    PairwiseStep(LoopContext& ctx, LoopModels& models, ParameterUpdate& update, PairPipeline& pipeline);
    StepOutcome run(const std::atomic_bool& cancel) override;

private:
    // SAIL-PP / SAIL-PR with a dataset (spec §2): each example is a policy
    // pair with probability p (g), else a dataset pair trained with DPO alone.
    bool mixesDatasetPairs() const;
    // How many of this step's pairs come from the policy (the rest: dataset pairs).
    size_t onlineShare() const;
    StepOutcome train(std::vector<TrainablePair> batch);

    LoopContext& m_ctx;
    LoopModels& m_models;
    ParameterUpdate& m_update;
    PairPipeline& m_pipeline;
    DatasetPairs m_dataset;
    PairwiseOptions m_lossOptions;
};

}  // namespace preflab
