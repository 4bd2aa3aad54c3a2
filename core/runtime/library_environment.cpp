#include "core/runtime/library_environment.h"

#include "core/runtime/cpu_features.h"

#include <malloc.h>
#include <unistd.h>

#include <cctype>
#include <climits>
#include <cstdlib>
#include <string>

namespace preflab {
namespace {

const char* const kGuard = "PREFLAB_ENV_APPLIED";

std::string env(const char* name) {
    const char* v = std::getenv(name);
    return v ? std::string(v) : std::string();
}

bool namesAvx512(const std::string& v) {
    std::string l;
    for (char c : v) l += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return l.find("avx512") != std::string::npos || l == "skylakex" || l == "cooperlake" ||
           l == "sapphirerapids";
}

// Returns true when the environment was changed.
bool adjustEnvironment() {
    bool changed = false;
    auto set = [&](const char* name, const std::string& value) {
        if (env(name) != value) {
            setenv(name, value.c_str(), 1);
            changed = true;
        }
    };
    auto unset = [&](const char* name) {
        if (std::getenv(name)) {
            unsetenv(name);
            changed = true;
        }
    };
    const CpuFeatures& cpu = cpuFeatures();
    if (env("OMP_WAIT_POLICY").empty()) set("OMP_WAIT_POLICY", "PASSIVE");
    // c10d logs its socket errors through glog (with a "Logging before
    // InitGoogleLogging" preamble) before PrefLab turns them into one message
    // that names the rank: keep only glog's fatal lines.
    if (env("GLOG_minloglevel").empty()) set("GLOG_minloglevel", "3");

    const std::string coretype = env("OPENBLAS_CORETYPE");
    if (cpu.avx512Usable()) {
        if (coretype.empty() || coretype == "Haswell" || coretype == "HASWELL") set("OPENBLAS_CORETYPE", "SkylakeX");
        if (env("ATEN_CPU_CAPABILITY").empty()) set("ATEN_CPU_CAPABILITY", "avx512");
    } else {
        // Never force AVX-512 kernels on a CPU without them.
        if (namesAvx512(coretype)) unset("OPENBLAS_CORETYPE");
        if (namesAvx512(env("ATEN_CPU_CAPABILITY"))) unset("ATEN_CPU_CAPABILITY");
    }
    return changed;
}

}  // namespace

void applyLibraryEnvironment(int argc, char** argv) {
    (void)argc;
    tuneAllocator();
    if (!env(kGuard).empty() || env("PREFLAB_KEEP_ENV") == "1") return;
    const bool changed = adjustEnvironment();
    setenv(kGuard, "1", 1);
    if (!changed) return;
    // The libraries already loaded with the old values: start again so they
    // read the new ones. If exec fails we simply continue, slower but correct.
    execv("/proc/self/exe", argv);
}

void tuneAllocator() {
    mallopt(M_MMAP_MAX, 0);
    mallopt(M_TRIM_THRESHOLD, INT_MAX);
}

std::vector<std::string> runtimeSettingsReport() {
    std::vector<std::string> lines;
    lines.push_back("cpu: " + cpuFeatures().summary());
    for (const char* name : {"OMP_WAIT_POLICY", "OPENBLAS_CORETYPE", "ATEN_CPU_CAPABILITY", "PREFLAB_THREADS"}) {
        const std::string v = env(name);
        lines.push_back(std::string(name) + "=" + (v.empty() ? "(unset)" : v));
    }
    return lines;
}

}  // namespace preflab
