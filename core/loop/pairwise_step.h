#pragma once
// The pairwise family's step (algorithms.md §1, §2): a pairwise loss (DPO,
// IPO, SLiC, cDPO, rDPO) on judged policy pairs, stored pairs or a mix of
// both, with SAIL's terms for sail-pr, sail-pp and sail-dp and SAIL-RevKL's
// reverse-KL term (sail_kl_coef) for them and online-dpo. While a term that
// differentiates the sampling distribution is on, the step's forward pass runs
// with dropout off and those terms use the tempered log-probabilities of the
// distribution sampled (algorithms.md 5b). Core-private (torch).
#include "core/algo/kl_estimators.h"
#include "core/algo/pairwise_loss.h"
#include "core/loop/dataset_pairs.h"
#include "core/loop/family_step.h"
#include "core/loop/loop_context.h"
#include "core/loop/loop_models.h"
#include "core/loop/pair_pipeline.h"
#include "core/loop/parameter_update.h"
#include "core/loop/policy_samples.h"

#include <optional>

namespace preflab {

class PairwiseStep : public FamilyStep {
public:
    PairwiseStep(LoopContext& ctx, LoopModels& models, ParameterUpdate& update, PairPipeline& pipeline);
    StepOutcome run(const std::atomic_bool& cancel) override;

private:
    // SAIL-PP / SAIL-PR with a dataset (spec §2): each example is a policy
    // pair with probability p (g), else a dataset pair trained with DPO alone.
    bool mixesDatasetPairs() const;
    // How this rank's share of the step splits into policy pairs and dataset
    // pairs, and where its dataset pairs sit among the whole step's (ranks
    // take consecutive slices of one walk through the dataset).
    struct BatchSplit {
        size_t online = 0;        // this rank's policy pairs
        size_t dataset = 0;       // this rank's dataset pairs
        size_t datasetTotal = 0;  // the whole step's dataset pairs, over all ranks
        size_t datasetBegin = 0;  // this rank's first among them
    };
    BatchSplit split() const;
    StepOutcome train(std::vector<TrainablePair> batch);
    // SAIL-RevKL on the rows `rows` of `seqs` (fresh samples), from the
    // policy's logits of them (with gradient).
    ReverseKlTerm reverseKl(const SequenceBatch& seqs, const at::Tensor& policyLogits, const at::Tensor& rows);
    // KTO's reference point from mismatched pairs of the batch (lp.klPolicy, lp.klRef).
    void addKtoReference(const std::vector<TokenIds>& prompts, const std::vector<TokenIds>& responses, PairLogps& lp);

    LoopContext& m_ctx;
    LoopModels& m_models;
    ParameterUpdate& m_update;
    PairPipeline& m_pipeline;
    DatasetPairs m_dataset;
    PairwiseOptions m_lossOptions;
    std::optional<PolicySamples> m_fresh;  // sail-dp with sail_kl_coef: this step's fresh samples
};

}  // namespace preflab
