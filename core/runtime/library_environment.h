#pragma once
// Environment variables that OpenMP, OpenBLAS and ATen read once, when they are
// loaded. Setting them inside main() is too late, so PrefLab's executables call
// applyLibraryEnvironment() first thing: it sets what this CPU benefits from and
// re-executes the program once (guarded by PREFLAB_ENV_APPLIED).
//
// Settings (see ../shared/docs/performance.md and README "Speed" for the measurements):
//   LD_LIBRARY_PATH             OpenBLAS's OpenMP build first, when it is installed
//                               (libopenblas0-openmp) and another BLAS was loaded:
//                               ATen and OpenBLAS then share one pool of threads
//                               (blas_library.h). PREFLAB_OPENMP_BLAS=0 keeps the
//                               BLAS Debian's alternatives chose.
//   OMP_WAIT_POLICY=PASSIVE     with any other BLAS: spinning OpenMP threads
//                               fight OpenBLAS's own. With the OpenMP build,
//                               libgomp's default (spin briefly, then sleep).
//   OPENBLAS_CORETYPE=SkylakeX  only on CPUs with usable AVX-512; an inherited
//                               value naming AVX-512 kernels is removed elsewhere.
//   ATEN_CPU_CAPABILITY=avx512  likewise.
//   GLOG_minloglevel=3          c10d's own socket-error lines (PrefLab reports them).
// A value the user set is kept unless it would select kernels the CPU lacks or
// is the slower Haswell kernel on an AVX-512 CPU. PREFLAB_KEEP_ENV=1 keeps all.
#include "core/runtime/blas_library.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace preflab {

// What the plan depends on, gathered by applyLibraryEnvironment (separate so
// that a test can give every case).
struct EnvironmentInputs {
    std::map<std::string, std::string> variables;  // the set ones among those the plan reads
    bool avx512 = false;                           // CpuFeatures::avx512Usable()
    BlasThreading blas = BlasThreading::NotOpenBlas;  // the loaded BLAS
    std::string openMpBlasFolder;                  // openMpBlasFolderBeside(the loaded BLAS)
};

struct EnvironmentPlan {
    std::map<std::string, std::optional<std::string>> changes;  // value to set; nullopt: unset
    BlasThreading blasAfter = BlasThreading::NotOpenBlas;        // the BLAS the re-executed process loads
};

EnvironmentPlan planLibraryEnvironment(const EnvironmentInputs& in);

void applyLibraryEnvironment(int argc, char** argv);

// Also tunes glibc malloc (no mmap for large buffers, no trimming): measured
// −17..−21 % on large-model steps at the price of retained memory.
void tuneAllocator();

// Human-readable lines describing the settings in force, for `--version`/bench.
std::vector<std::string> runtimeSettingsReport();

}  // namespace preflab
