#pragma once
// The online alignment loop: generate pairs from the current policy -> judge ->
// buffer -> gradient step when a batch is ready -> periodic evaluation on fresh
// samples -> checkpoint. A plain class: the caller's thread runs step(); the
// CLI and the GUI's worker both drive it. Reports only through LoopObserver.
// No torch in this header (pimpl).
#include "core/distributed/rank_options.h"
#include "core/values/judge.h"
#include "core/values/loop_types.h"
#include "core/values/run_config.h"

#include <atomic>
#include <functional>
#include <memory>
#include <string>

namespace preflab {

struct LoopSetup {
    RunConfig config;
    std::string modelPath;      // the model to align; the reference is a snapshot of it
    std::string checkpointDir;  // where checkpoints go
    std::string resumeFrom;     // a checkpoint to continue from (empty: start fresh)
    int64_t firstPairIndex = 0; // next pair index (continue numbering after a resume)
    // When not empty, training cycles through these (reshuffled each epoch)
    // instead of generating pairs; evaluation still samples fresh responses.
    std::vector<OfflinePair> offlinePairs;
    // A resumed run with a person judging: the A/B labels it held back from
    // training before (oldest first), to rebuild its held-out set.
    std::vector<OfflinePair> heldBackPairs;
    // CPO / DR-CPO / OO-RLHF: when not empty, training cycles through these
    // rated responses (a fixed dataset from a presenting policy) instead of
    // rating fresh ones.
    std::vector<RatedResponse> ratedResponses;
    // Loading a Hugging Face folder: progress(tensors done, total), and a
    // raised flag stops the load (the constructor throws "cancelled").
    std::function<void(int64_t, int64_t)> loadProgress;
    const std::atomic_bool* cancel = nullptr;
    // Data-parallel training (core/distributed): this process's rank among
    // worldSize processes. config.batchSize and config.generationBatch are
    // the whole step's; each rank takes an equal share. Rank 0 evaluates,
    // checkpoints and reports every rank's events; the other ranks get the
    // resume point from rank 0 and need no checkpointDir.
    RankOptions ranks;
};

enum class StepOutcome {
    Trained,           // one gradient step done
    WaitingForLabels,  // a person has pairs to label; call again later
    Finished,          // config.steps reached
    Cancelled,         // the cancel flag was raised
    Halted,            // non-finite loss or gradient: nothing applied; see lastError()
};

class OnlineLoop {
public:
    // Throws std::runtime_error (bad model file, bad config) before any work.
    OnlineLoop(LoopSetup setup, std::unique_ptr<Judge> judge, LoopObserver* observer);
    ~OnlineLoop();
    OnlineLoop(const OnlineLoop&) = delete;
    OnlineLoop& operator=(const OnlineLoop&) = delete;

    StepOutcome step(const std::atomic_bool& cancel);
    // Evaluates on fresh samples and reports the metrics (also done every eval_every steps).
    void evaluate(const std::atomic_bool& cancel);
    // Writes a checkpoint of the current step (policy, optimizer, counters) and reports it.
    std::string checkpoint();
    // Takes judgements the judge still holds (labels given while the run was
    // ending) so they are reported and stored, not lost.
    void collectJudgements();

    // In a data-parallel run the ranks stop together: step() never stops on
    // its own for `cancel` but exchanges it with the next step's gradients
    // and returns Cancelled on every rank after that step.
    bool stopsWithOtherRanks() const;
    int64_t currentStep() const;
    int64_t totalSteps() const;
    const std::string& lastError() const;
    Judge& judge();
    // Parameter count of the policy, for display.
    int64_t parameterCount() const;

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

}  // namespace preflab
