#pragma once
// Runs the row groups of one batch side by side, each on a thread of its own
// (the caller's thread takes group 0), on at most availableCores() threads:
// with fewer cores than groups, the caller runs the rest one after the
// other. For a small model, whose products are too small to split inside one
// operation, rows are the parallelism that pays; each group's work runs on
// one intra-op thread (the run sets that count: computeThreadsForModel).
// The groups' results do not depend on which thread ran them.
//
// Core-private (torch). Every worker runs with the caller's LibTorch
// thread-local state (grad mode, whether autocast is on; 1.13 does not carry
// the autocast dtype, which computeLogits sets itself). An exception in any
// group is rethrown in the caller once all groups have ended.
#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

namespace preflab {

// [begin, end) of each of `groups` contiguous, near-equal groups of `rows`;
// fewer groups when there are fewer rows, none when there are no rows.
std::vector<std::pair<int64_t, int64_t>> splitRows(int64_t rows, int groups);

// Calls work(g) for g in [0, groups), group 0 on the calling thread.
void runRowGroups(int groups, const std::function<void(int group)>& work);

}  // namespace preflab
