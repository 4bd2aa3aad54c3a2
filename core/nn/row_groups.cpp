#include "core/nn/row_groups.h"

#include "core/runtime/compute_threads.h"

#include <ATen/Parallel.h>
#include <ATen/ThreadLocalState.h>

#include <algorithm>
#include <exception>
#include <optional>
#include <thread>

namespace preflab {

std::vector<std::pair<int64_t, int64_t>> splitRows(int64_t rows, int groups) {
    std::vector<std::pair<int64_t, int64_t>> out;
    const int64_t n = std::min<int64_t>(std::max(groups, 1), rows);
    int64_t begin = 0;
    for (int64_t g = 0; g < n; ++g) {
        const int64_t size = rows / n + (g < rows % n ? 1 : 0);
        out.emplace_back(begin, begin + size);
        begin += size;
    }
    return out;
}

void runRowGroups(int groups, const std::function<void(int group)>& work) {
    if (groups <= 0) return;
    std::vector<std::exception_ptr> errors(static_cast<size_t>(groups));
    const at::ThreadLocalState state;  // the caller's grad mode and dispatch state
    // onWorker: set the worker thread up first (inside the try, so that a
    // failure there is the group's error, not std::terminate).
    auto guarded = [&](int g, bool onWorker) {
        try {
            std::optional<at::ThreadLocalStateGuard> restore;
            if (onWorker) {
                restore.emplace(state);
                // This thread's OpenMP count from LibTorch's setting (a new
                // thread would otherwise start from the hardware count).
                at::init_num_threads();
            }
            work(g);
        } catch (...) {
            errors[static_cast<size_t>(g)] = std::current_exception();
        }
    };
    const int threadCount = std::min(groups, availableCores());
    // Plain threads for a handful of groups per call: one call decodes a
    // whole round or trains a whole batch (milliseconds and more), so
    // starting a thread (tens of microseconds) does not need a pool.
    std::vector<std::thread> threads;
    threads.reserve(static_cast<size_t>(threadCount > 0 ? threadCount - 1 : 0));
    try {
        for (int g = 1; g < threadCount; ++g) {
            threads.emplace_back([&, g] { guarded(g, true); });
        }
    } catch (...) {
        for (auto& t : threads) t.join();  // a thread that could not start: end the others first
        throw;
    }
    guarded(0, false);
    for (int g = threadCount; g < groups; ++g) guarded(g, false);  // more groups than cores: in turn, here
    for (auto& t : threads) t.join();
    for (const auto& e : errors) {
        if (e) std::rethrow_exception(e);
    }
}

}  // namespace preflab
