#pragma once
// The state every part of the online loop shares: the run's setup and
// config, its method's registry entry, the task and its prompt sets, the step
// and pair counters, the observer and the last step's metrics and error.
// Core-private; no torch. The training thread owns it.
#include "core/values/label.h"
#include "core/loop/online_loop.h"
#include "core/values/method_registry.h"
#include "core/task/toy_world_task.h"

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace preflab {

using Clock = std::chrono::steady_clock;

inline double secondsSince(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
}

// Named metric values of one step or evaluation, in the order they are logged.
using Metrics = std::vector<std::pair<std::string, double>>;

class RankGroup;

struct LoopContext {
    // Checks the config (throws std::runtime_error before any work), sets the
    // compute threads and draws the training and evaluation prompts.
    LoopContext(LoopSetup setup, LoopObserver* observer);
    LoopContext(const LoopContext&) = delete;
    LoopContext& operator=(const LoopContext&) = delete;

    LoopSetup setup;
    const RunConfig& cfg = setup.config;
    const MethodInfo& method;  // cfg.algorithm's registry entry
    LoopObserver* observer = nullptr;
    ToyWorldTask task;
    std::vector<TaskPrompt> trainPrompts;
    std::vector<TaskPrompt> evalPrompts;

    int64_t step = 0;           // gradient steps done
    int64_t nextPairIndex = 0;  // this rank's count of generated pairs (or samples): see pairIndexAt
    // Data-parallel (null, rank 0 of 1: one process): the other ranks, this
    // rank's own stop request (exchanged with the gradients) and whether a
    // rank asked to stop in the last exchange.
    RankGroup* ranks = nullptr;
    int rank = 0;
    int worldSize = 1;
    const std::atomic_bool* localStop = nullptr;
    bool stopAgreed = false;
    std::string lastError;      // why the last step halted
    Metrics lastMetrics;        // the last step's metrics, stored with its checkpoint

    uint64_t seed() const { return static_cast<uint64_t>(cfg.seed); }
    bool leader() const { return rank == 0; }
    // The run-wide index of this rank's k-th pair: ranks interleave (k *
    // worldSize + rank), so every pair of the run has its own index, prompt
    // and sampling seed; with one process it is k.
    int64_t pairIndexAt(int64_t k) const { return k * worldSize + rank; }
    // The training prompt of a pair index: a fixed pseudo-random walk over the
    // prompt set, reproducible after a resume.
    const TaskPrompt& trainPrompt(int64_t pairIndex) const;
    // Logs `metrics` at the current step.
    void report(const Metrics& metrics) const;
};

}  // namespace preflab
