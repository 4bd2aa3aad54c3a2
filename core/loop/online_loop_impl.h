#pragma once
// The online loop's private state and steps, shared by its source files:
// online_loop.cpp (generation, judging, DPO-family steps, evaluation,
// checkpoints), online_loop_offline.cpp (offline pairs, SAIL terms) and
// online_loop_ppo.cpp (PPO). Core-private (torch); include nowhere else.
#include "core/loop/online_loop.h"
#include "core/loop/seed_mix.h"
#include "core/algo/kl_estimators.h"
#include "core/algo/pairwise_loss.h"
#include "core/algo/ppo_terms.h"
#include "core/loop/reward_model.h"
#include "core/nn/autocast_scope.h"
#include "core/nn/model_file.h"
#include "core/nn/sampler.h"
#include "core/nn/sequence_batch.h"
#include "core/runtime/compute_threads.h"
#include "core/task/toy_world_task.h"
#include "core/text/byte_tokenizer.h"
#include <torch/nn/utils/clip_grad.h>
#include <torch/optim/adamw.h>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <limits>
#include <map>
#include <numeric>
#include <random>
#include <algorithm>
#include <stdexcept>

namespace preflab {

// Helpers of the loop (this header is private to its source files).

using Clock = std::chrono::steady_clock;

inline double secondsSince(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
}

struct Candidate {  // a generated pair waiting for its judgement
    TokenIds prompt, a, b;
    double refA = 0, refB = 0, goldA = 0, goldB = 0;
    int64_t generatedAt = 0;
};

struct TrainablePair {
    int64_t index = 0;
    TokenIds prompt, chosen, rejected;
    double refChosen = 0, refRejected = 0;
    int64_t generatedAt = 0;
    std::optional<bool> agreesWithGold;
};

inline constexpr int kMaxBarrenRounds = 50;


struct OnlineLoop::Impl {
    LoopSetup setup;
    const RunConfig& cfg = setup.config;
    ByteTokenizer tokenizer;
    ToyWorldTask task;
    std::vector<TaskPrompt> trainPrompts;
    std::vector<TaskPrompt> evalPrompts;
    Transformer policy{nullptr};
    Transformer reference{nullptr};
    std::unique_ptr<torch::optim::AdamW> optimizer;
    std::unique_ptr<Judge> judge;
    LoopObserver* observer = nullptr;
    ModelFileInfo modelInfo;
    bool bf16 = false;

    int64_t step = 0;
    int64_t nextPairIndex = 0;
    bool evaluatedAtStart = false;
    std::map<int64_t, Candidate> awaiting;
    std::deque<TrainablePair> ready;
    std::string lastError;
    std::vector<std::pair<std::string, double>> lastMetrics;
    double generationSeconds = 0;  // since the last training step
    int barrenRounds = 0;
    int64_t judgedSinceStep = 0, untrainableSinceStep = 0;
    double lastDpRouted = 0, lastDpSwapped = 0;  // SAIL-DP, for the step's metrics
    PairwiseOptions lossOptions;
    // PPO: the value model (a scalar head, from the reward model when there is
    // one) and the reward model scoring rollouts (none: the task's true reward).
    Transformer value{nullptr};
    std::unique_ptr<torch::optim::AdamW> valueOptimizer;
    std::unique_ptr<RewardModelJudge> ppoScorer;
    std::vector<size_t> offlineOrder;  // a shuffled pass over setup.offlinePairs
    size_t offlineCursor = 0;
    int64_t offlineEpoch = 0;

    Impl(LoopSetup s, std::unique_ptr<Judge> j, LoopObserver* o);
    const TaskPrompt& trainPrompt(int64_t pairIndex) const;
    SamplingParams samplingParams() const;
    at::Tensor referenceLogprobs(const std::vector<TokenIds>& prompts, const std::vector<TokenIds>& responses);
    bool generateRound(const std::atomic_bool& cancel);
    // Moves judged pairs into the training buffer; returns how many are trainable.
    int absorbJudgements();
    void report(const std::vector<std::pair<std::string, double>>& metrics);
    // Non-finite loss or gradient: drop the gradients, keep the weights, pause.
    StepOutcome halt(const std::string& message);
    // Clips `model`'s gradients to max_grad_norm; returns the norm before clipping.
    double clipGradients(Transformer& model) const;
    // Steps `opt` with this step's warmed-up learning rate; returns the rate.
    double optimizerStep(torch::optim::AdamW& opt) const;
    StepOutcome trainStep(const std::atomic_bool& cancel);
    // PPO (spec §4): one response per prompt, scored at its end; per-token KL
    // penalty; GAE; whitened advantages; clipped policy and value losses; one
    // optimisation pass over the rollout batch.
    StepOutcome ppoStep(const std::atomic_bool& cancel);
    // SAIL-DP (spec §2): each dataset pair is routed with probability r; a
    // routed pair's preference is re-drawn from the policy, swapped with
    // probability 1 - s(beta h). Returns the routing mask [N].
    at::Tensor redrawDatasetPreferences(PairLogps& lp);
    // SAIL (spec §2): each pair is routed to the SAIL terms with probability
    // sail_prob; with no pair routed the loss is exactly the DPO loss.
    void addSailTerms(const PairLogps& lp, LossOutput& out);
    // Offline methods on stored pairs: the next batch, reference log-probs
    // computed as the pairs are drawn.
    void drawOfflineBatch();
    StepOutcome runStep(const std::atomic_bool& cancel);
    void evaluate(const std::atomic_bool& cancel);
    std::string checkpoint();
};

}  // namespace preflab
