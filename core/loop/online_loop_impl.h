#pragma once
// The online loop's private state and steps, shared by its source files:
// online_loop.cpp (generation, judging, DPO-family steps, evaluation,
// checkpoints), online_loop_offline.cpp (offline pairs, SAIL terms) and
// online_loop_ppo.cpp (PPO). Core-private (torch); include nowhere else.
#include "core/loop/online_loop.h"
#include "core/loop/seed_mix.h"
#include "core/loop/checkpoint_paths.h"
#include "core/method/method_registry.h"
#include "core/algo/causal_preference.h"
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
#include "core/hf/bpe_tokenizer.h"
#include "core/hf/chat_template.h"
#include "core/hf/hf_cache.h"
#include "core/hf/hf_model.h"
#include "core/text/byte_tokenizer.h"
#include <torch/nn/utils/clip_grad.h>
#include <torch/optim/adamw.h>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <functional>
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
    const TaskPrompt* taskPrompt = nullptr;  // in trainPrompts
    TokenIds prompt, a, b;
    double refA = 0, refB = 0, goldA = 0, goldB = 0;
    double samplingA = 0, samplingB = 0;  // log-probability under the distribution sampled
    int64_t generatedAt = 0;
};

struct PolicySamples {  // one response per prompt, sampled from the policy
    std::vector<const TaskPrompt*> taskPrompts;
    std::vector<TokenIds> prompts;
    SampledSequences sampled;
};

struct RatedItem {  // one response with its outcome: the CPO family's unit
    TokenIds prompt, response;
    double outcome = 0;
    double behaviourLogprob = 0;  // log P^R: the presenting policy's sampling probability
    double sentences = 0;         // for the confounded outcome model of the bench
    int64_t generatedAt = 0;
    int64_t pairIndex = -1;       // the generated pair it came from (-1: stored data)
};

// A pass over n items in a shuffled order, reshuffled every epoch from the
// seed: the offline methods draw their batches from it.
struct ShuffledCycle {
    std::vector<size_t> order;
    size_t cursor = 0;
    uint64_t epoch = 0;
    size_t next(size_t n, uint64_t seed, uint64_t salt) {
        if (cursor >= order.size()) {
            order.resize(n);
            for (size_t i = 0; i < n; ++i) order[i] = i;
            std::mt19937_64 rng(mixSeed(seed, salt, epoch++));
            std::shuffle(order.begin(), order.end(), rng);
            cursor = 0;
        }
        return order[cursor++];
    }
};

struct TrainablePair {
    int64_t index = 0;
    TokenIds prompt, chosen, rejected;
    double refChosen = 0, refRejected = 0;
    int64_t generatedAt = 0;
    std::optional<bool> agreesWithGold;
    bool online = true;  // false: a dataset pair (offline methods, SAIL's mixed-in share)
};

inline constexpr int kMaxBarrenRounds = 50;


struct OnlineLoop::Impl {
    LoopSetup setup;
    const RunConfig& cfg = setup.config;
    const MethodInfo& method;  // cfg.algorithm's registry entry
    std::shared_ptr<const Tokenizer> tokenizer;  // the byte tokenizer, or a Hugging Face folder's
    std::optional<ChatTemplate> chat;            // a Hugging Face model's prompt format
    ToyWorldTask task;
    std::vector<TaskPrompt> trainPrompts;
    std::vector<TaskPrompt> evalPrompts;
    Transformer policy{nullptr};
    Transformer reference{nullptr};  // null with LoRA: the base is the policy without adapters
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
    std::deque<RatedItem> ratedReady;   // CPO family, online: rated fresh responses
    std::vector<RatedItem> ratedData;   // CPO family, offline: setup.ratedResponses tokenised
    ShuffledCycle ratedCycle;
    bool causal = false;                // cpo, dr-cpo, oo-rlhf
    bool outcomeFitted = false;
    std::string lastError;
    std::vector<std::pair<std::string, double>> lastMetrics;
    double generationSeconds = 0;  // since the last training step
    int barrenRounds = 0;
    int64_t judgedSinceStep = 0, untrainableSinceStep = 0;
    double lastDpRouted = 0, lastDpSwapped = 0;  // SAIL-DP, for the step's metrics
    PairwiseOptions lossOptions;
    // A scalar-head model trained beside the policy: PPO's value model (from
    // the reward model when there is one), or DR-CPO's and OO-RLHF's outcome
    // model. PPO's reward model scores rollouts (none: the task's true reward).
    Transformer value{nullptr};
    std::unique_ptr<torch::optim::AdamW> valueOptimizer;
    std::unique_ptr<RewardModelJudge> ppoScorer;
    ShuffledCycle offlineCycle;  // over setup.offlinePairs

    Impl(LoopSetup s, std::unique_ptr<Judge> j, LoopObserver* o);
    const TaskPrompt& trainPrompt(int64_t pairIndex) const;
    // The ids the model sees before its response: the built-in model's
    // BOS + prompt + SEP, or a Hugging Face model's chat template.
    TokenIds promptIds(const std::string& prompt) const;
    SamplingParams samplingParams() const;
    // The next `count` training prompts, one policy sample each (seed salt
    // `salt`); advances the pair index. sampled.cancelled when cancelled.
    PolicySamples samplePolicy(int64_t count, uint64_t salt, const std::atomic_bool& cancel);
    // The reference policy's logits [B,T,V] (fp32, no gradient): the frozen
    // copy, or with LoRA the policy with its adapters off.
    at::Tensor referenceLogits(const SequenceBatch& batch);
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
    StepOutcome trainStep(std::vector<TrainablePair> batch, const std::atomic_bool& cancel);
    // Generates and judges rounds until readyCount() reaches count; returns
    // why it stopped early (a person is behind, cancel, nothing usable).
    std::optional<StepOutcome> generateUntil(const std::function<size_t()>& readyCount, size_t count,
                                             const std::atomic_bool& cancel, const std::string& barrenMessage);
    // Generates and judges until `count` trainable pairs are ready (or a
    // person is behind, or cancel); then moves them into `batch`.
    std::optional<StepOutcome> collectOnlinePairs(size_t count, std::vector<TrainablePair>& batch,
                                                  const std::atomic_bool& cancel);
    // SAIL-PP / SAIL-PR with a dataset (spec §2): each example is a policy
    // pair with probability p (g), else a dataset pair trained with DPO alone.
    bool mixesDatasetPairs() const;
    // PPO (spec §4): one response per prompt, scored at its end; per-token KL
    // penalty; GAE; whitened advantages; clipped policy and value losses; one
    // optimisation pass over the rollout batch.
    StepOutcome ppoStep(const std::atomic_bool& cancel);
    // SAIL-DP (spec §2): each dataset pair is routed with probability r; a
    // routed pair's preference is re-drawn from the policy, swapped with
    // probability 1 - s(beta h). Returns the routing mask [N].
    at::Tensor redrawDatasetPreferences(PairLogps& lp);
    // SAIL (spec §2): the SAIL terms apply to the policy pairs of a mixed
    // batch, or (no dataset) to each pair with probability sail_prob; with no
    // pair routed the loss is exactly the DPO loss.
    void addSailTerms(const PairLogps& lp, const std::vector<TrainablePair>& batch, LossOutput& out);
    // CPO / DR-CPO / OO-RLHF (spec §3): self-normalised importance weights of
    // rated responses; the outcome model's policy-gradient term on fresh samples.
    StepOutcome causalStep(const std::atomic_bool& cancel);
    // The CPO family's next batch: stored ratings in a shuffled cycle, or rated
    // fresh responses (generating until enough are judged).
    std::optional<StepOutcome> collectRatedBatch(std::vector<RatedItem>& batch, const std::atomic_bool& cancel);
    // One regression step of the outcome model on `items`; returns its MSE.
    double fitOutcomeModel(const std::vector<RatedItem>& items);
    // Outcome-model fits on the stored ratings before the first policy step.
    void warmUpOutcomeModel(const std::atomic_bool& cancel);
    // Policy log-probabilities of responses under the tempered sampling distribution.
    at::Tensor temperedLogprobs(const SequenceBatch& batch);
    // Offline methods on stored pairs: the next batch, reference log-probs
    // computed as the pairs are drawn.
    std::vector<TrainablePair> drawOfflineBatch(size_t count);
    StepOutcome runStep(const std::atomic_bool& cancel);
    void evaluate(const std::atomic_bool& cancel);
    std::string checkpoint();
};

}  // namespace preflab
