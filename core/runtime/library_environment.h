#pragma once
// Environment variables that OpenMP, OpenBLAS and ATen read once, when they are
// loaded. Setting them inside main() is too late, so PrefLab's executables call
// applyLibraryEnvironment() first thing: it sets what this CPU benefits from and
// re-executes the program once (guarded by PREFLAB_ENV_APPLIED).
//
// Settings (see ../shared/docs/performance.md for the measurements):
//   OMP_WAIT_POLICY=PASSIVE     always; spinning OpenMP threads fight OpenBLAS's.
//   OPENBLAS_CORETYPE=SkylakeX  only on CPUs with usable AVX-512; an inherited
//                               value naming AVX-512 kernels is removed elsewhere.
//   ATEN_CPU_CAPABILITY=avx512  likewise.
//   GLOG_minloglevel=3          c10d's own socket-error lines (PrefLab reports them).
// A value the user set is kept unless it would select kernels the CPU lacks or
// is the slower Haswell kernel on an AVX-512 CPU. PREFLAB_KEEP_ENV=1 keeps all.
#include <string>
#include <vector>

namespace preflab {

void applyLibraryEnvironment(int argc, char** argv);

// Also tunes glibc malloc (no mmap for large buffers, no trimming): measured
// −17..−21 % on large-model steps at the price of retained memory.
void tuneAllocator();

// Human-readable lines describing the settings in force, for `--version`/bench.
std::vector<std::string> runtimeSettingsReport();

}  // namespace preflab
