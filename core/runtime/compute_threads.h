#pragma once
// Intra-op thread count for LibTorch and OpenBLAS. It starts at 1 on this
// platform, so every executable sets it explicitly: PREFLAB_THREADS, else the
// cores this process may use (availableCores); a run then sets it again for its model's size
// (computeThreadsForModel: one thread for small models).
#include <cstdint>

namespace preflab {

// The CPUs this process may run on (its affinity mask: taskset, a cpuset).
int availableCores();
// PREFLAB_THREADS when set, else availableCores().
int defaultComputeThreads();

// Models up to this many parameters (8 MB of fp32 weights) run on one
// thread unless a count is asked for. Their weights stay in one core's cache
// and their products are too small to split without the hand-over costing
// more. Measured on the built-in model (0.49 M) in the online loop at batch
// 8: 0.149 s a step on one thread, 0.178 s on two; its sampling (16 x (24 +
// 80) tokens through the fused decode step) 25,900-26,500 tok/s on one,
// 19,600-22,600 on two; a DPO step alone is the same on one or two (0.111
// and 0.115 s). A 10.8 M model (43 MB of weights) is faster on two: 511 vs
// 427 tok/s sampling at batch 1, 1,556 vs 1,195 at batch 8.
// Such a model's batches use a second core by rows instead (rowGroupsForModel):
// the built-in model's demo step at the old defaults (lr 2e-4, beta 0.1, first 50
// steps) took 0.184 s with one thread and 0.104 s with two row groups for sampling,
// reference and training (2026-12-04).
// The count is set once per run (LoopModels), not per call: LibTorch clears
// caches on each change, and OpenBLAS's count is process-wide.
constexpr int64_t kOneThreadModelParameters = 2'000'000;
// The thread count for work on a model of `parameters`: `requested` when
// positive, else PREFLAB_THREADS when set, else 1 for a small model, else
// availableCores().
int computeThreadsForModel(int64_t parameters, int requested);
// How many row groups a small model's batches are split into (SamplingParams::
// rowGroups, rowParallelLogits), each computed on one intra-op thread, the
// groups side by side on up to availableCores() threads. The count is fixed,
// not the number of cores: the split changes float rounding, and with it a
// run's trajectory, so with a fixed count a small model's run does not depend
// on the core count (on one core the groups run one after the other), given
// the same starter file and the same CPU kernels. 1 for larger models, and when
// a thread count is asked for (`requested` or PREFLAB_THREADS: intra-op
// threads, as before).
constexpr int kSmallModelRowGroups = 2;
int rowGroupsForModel(int64_t parameters, int requested);
// Sets the intra-op thread count (n <= 0: the default). Returns the count set.
int configureComputeThreads(int n = 0);

// Sets the thread count (LibTorch's and OpenBLAS's) for its lifetime and then
// restores both previous ones. OpenBLAS's count is process-wide: another
// thread running matrix products meanwhile gets the same count. For
// benchmarks and tests; runs set their count once.
class ComputeThreadsScope {
public:
    explicit ComputeThreadsScope(int n);
    ~ComputeThreadsScope();
    ComputeThreadsScope(const ComputeThreadsScope&) = delete;
    ComputeThreadsScope& operator=(const ComputeThreadsScope&) = delete;

private:
    int m_previous, m_previousBlas;
};

}  // namespace preflab
