#include "core/runtime/compute_threads.h"

#include <ATen/Parallel.h>

#include <cstdlib>
#include <dlfcn.h>
#include <sched.h>
#include <thread>

namespace preflab {

int availableCores() {
    // The CPUs this process may run on (taskset, a container's cpuset), not
    // every CPU of the machine as std::thread::hardware_concurrency counts.
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        const int n = CPU_COUNT(&set);
        if (n > 0) return n;
    }
    const unsigned hw = std::thread::hardware_concurrency();
    return hw > 0 ? static_cast<int>(hw) : 1;
}

int defaultComputeThreads() {
    if (const char* v = std::getenv("PREFLAB_THREADS")) {
        const int n = std::atoi(v);
        if (n > 0) return n;
    }
    return availableCores();
}

int computeThreadsForModel(int64_t parameters, int requested) {
    if (requested > 0) return requested;
    if (const char* v = std::getenv("PREFLAB_THREADS"); v && std::atoi(v) > 0) return std::atoi(v);
    return parameters <= kOneThreadModelParameters ? 1 : defaultComputeThreads();
}

int rowGroupsForModel(int64_t parameters, int requested) {
    if (requested > 0 || parameters > kOneThreadModelParameters) return 1;
    if (const char* v = std::getenv("PREFLAB_THREADS"); v && std::atoi(v) > 0) return 1;
    return kSmallModelRowGroups;
}

namespace {

// OpenBLAS's own count (0 when the BLAS is not OpenBLAS).
int blasThreads() {
    using GetThreads = int (*)();
    auto get = reinterpret_cast<GetThreads>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
    return get ? get() : 0;
}

void setBlasThreads(int n) {
    using SetThreads = void (*)(int);
    if (auto set = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) set(n);
}

void setThreads(int n) {
    at::set_num_threads(n);
    // at::set_num_threads sizes ATen's OpenMP pool only; OpenBLAS (Debian's
    // BLAS provider, reached through libblas.so.3) keeps one thread per core,
    // and its idle workers spin. Measured: `--threads 1` still kept both
    // cores of the 2-core machine busy (a BLAS worker at 100 %, half of it in
    // sched_yield). Looked up at run time because the provider is chosen by
    // Debian's alternatives, not at link time; absent for other BLAS builds.
    setBlasThreads(n);
}

}  // namespace

int configureComputeThreads(int n) {
    if (n <= 0) n = defaultComputeThreads();
    setThreads(n);
    return n;
}

ComputeThreadsScope::ComputeThreadsScope(int n) : m_previous(at::get_num_threads()), m_previousBlas(blasThreads()) {
    setThreads(n);
}

ComputeThreadsScope::~ComputeThreadsScope() {
    at::set_num_threads(m_previous);
    if (m_previousBlas > 0) setBlasThreads(m_previousBlas);
}

}  // namespace preflab
