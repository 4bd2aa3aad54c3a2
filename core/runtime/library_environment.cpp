#include "core/runtime/library_environment.h"

#include "core/runtime/blas_library.h"
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
// The variables the plan reads.
const char* const kPlannedVariables[] = {"OMP_WAIT_POLICY", "GLOG_minloglevel", "OPENBLAS_CORETYPE", "ATEN_CPU_CAPABILITY",
                                         "LD_LIBRARY_PATH", "PREFLAB_OPENMP_BLAS"};

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

}  // namespace

EnvironmentPlan planLibraryEnvironment(const EnvironmentInputs& in) {
    EnvironmentPlan plan;
    auto get = [&](const char* name) {
        const auto it = in.variables.find(name);
        return it == in.variables.end() ? std::string() : it->second;
    };
    auto set = [&](const char* name, const std::string& value) {
        if (get(name) != value) plan.changes[name] = value;
    };
    auto unset = [&](const char* name) {
        if (in.variables.count(name)) plan.changes[name] = std::nullopt;
    };
    // OpenBLAS's OpenMP build when it is installed and another BLAS was
    // loaded (blas_library.h): the re-executed process finds it first.
    plan.blasAfter = in.blas;
    if (in.blas != BlasThreading::OpenMp && !in.openMpBlasFolder.empty() && get("PREFLAB_OPENMP_BLAS") != "0") {
        const std::string path = get("LD_LIBRARY_PATH");
        set("LD_LIBRARY_PATH", path.empty() ? in.openMpBlasFolder : in.openMpBlasFolder + ":" + path);
        plan.blasAfter = BlasThreading::OpenMp;
    }
    // Two thread pools (ATen's OpenMP threads, OpenBLAS's pthreads) must not
    // spin while the other works; one shared pool may, briefly: libgomp's
    // default spins about 300,000 times, then sleeps, so idle threads do not
    // hold a core while the window waits.
    if (get("OMP_WAIT_POLICY").empty() && plan.blasAfter != BlasThreading::OpenMp) set("OMP_WAIT_POLICY", "PASSIVE");
    // c10d logs its socket errors through glog (with a "Logging before
    // InitGoogleLogging" preamble) before PrefLab turns them into one message
    // that names the rank: keep only glog's fatal lines.
    if (get("GLOG_minloglevel").empty()) set("GLOG_minloglevel", "3");

    const std::string coretype = get("OPENBLAS_CORETYPE");
    if (in.avx512) {
        if (coretype.empty() || coretype == "Haswell" || coretype == "HASWELL") set("OPENBLAS_CORETYPE", "SkylakeX");
        if (get("ATEN_CPU_CAPABILITY").empty()) set("ATEN_CPU_CAPABILITY", "avx512");
    } else {
        // Never force AVX-512 kernels on a CPU without them.
        if (namesAvx512(coretype)) unset("OPENBLAS_CORETYPE");
        if (namesAvx512(get("ATEN_CPU_CAPABILITY"))) unset("ATEN_CPU_CAPABILITY");
    }
    return plan;
}

void applyLibraryEnvironment(int argc, char** argv) {
    (void)argc;
    tuneAllocator();
    if (!env(kGuard).empty() || env("PREFLAB_KEEP_ENV") == "1") return;
    EnvironmentInputs in;
    for (const char* name : kPlannedVariables) {
        if (const char* v = std::getenv(name)) in.variables[name] = v;
    }
    in.avx512 = cpuFeatures().avx512Usable();
    const LoadedBlas blas = loadedBlas();
    in.blas = blas.threading;
    in.openMpBlasFolder = openMpBlasFolderBeside(blas.path);
    const EnvironmentPlan plan = planLibraryEnvironment(in);
    for (const auto& [name, value] : plan.changes) {
        if (value) {
            setenv(name.c_str(), value->c_str(), 1);
        } else {
            unsetenv(name.c_str());
        }
    }
    setenv(kGuard, "1", 1);
    if (plan.changes.empty()) return;
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
    const LoadedBlas blas = loadedBlas();
    lines.push_back("blas: " + blasThreadingName(blas.threading) + (blas.path.empty() ? std::string() : " (" + blas.path + ")"));
    for (const char* name : {"OMP_WAIT_POLICY", "OPENBLAS_CORETYPE", "ATEN_CPU_CAPABILITY", "PREFLAB_THREADS"}) {
        const std::string v = env(name);
        lines.push_back(std::string(name) + "=" + (v.empty() ? "(unset)" : v));
    }
    return lines;
}

}  // namespace preflab
