#include "core/runtime/compute_threads.h"

#include <ATen/Parallel.h>

#include <cstdlib>
#include <thread>

namespace preflab {

int defaultComputeThreads() {
    if (const char* v = std::getenv("PREFLAB_THREADS")) {
        const int n = std::atoi(v);
        if (n > 0) return n;
    }
    const unsigned hw = std::thread::hardware_concurrency();
    return hw > 0 ? static_cast<int>(hw) : 1;
}

int configureComputeThreads(int n) {
    if (n <= 0) n = defaultComputeThreads();
    at::set_num_threads(n);
    return n;
}

}  // namespace preflab
