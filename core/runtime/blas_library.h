#pragma once
// Which BLAS this process loaded, and the OpenMP build of OpenBLAS beside it.
// LibTorch reaches its BLAS through libblas.so.3, which Debian's alternatives
// point at one of OpenBLAS's builds (pthread, OpenMP, serial) or at the
// reference BLAS. The build matters: ATen's own parallel loops run on
// libgomp's OpenMP threads, and OpenBLAS's pthread build keeps a second pool
// of its own, so on a 2-core machine two pools take turns, each waiting for
// the other (measured: 17 % of the fp32 DPO step in the scheduler and
// sched_yield). Its OpenMP build runs the matrix products on the same
// threads as ATen: the 10.8 M step took 0.87–1.13 s (mean 0.98) against
// 0.94–1.21 s (mean 1.08) in four interleaved rounds, and bf16 decoding at
// batch 1 ran 1.2–1.8x faster (README, "PrefLab beside its Python peer").
#include <string>

namespace preflab {

enum class BlasThreading { NotOpenBlas, Sequential, Pthreads, OpenMp };

struct LoadedBlas {
    std::string path;       // the library file that holds sgemm_, symbolic links resolved; empty if unknown
    BlasThreading threading = BlasThreading::NotOpenBlas;
};

// From dladdr on sgemm_ and OpenBLAS's openblas_get_parallel().
LoadedBlas loadedBlas();

// The folder of OpenBLAS's OpenMP build (libopenblas0-openmp) beside the
// folder of the loaded BLAS — Debian installs each build in its own folder
// under the multiarch library folder (.../openblas-pthread/, .../openblas-openmp/,
// .../blas/ for the reference) — when it holds libblas.so.3; else empty.
std::string openMpBlasFolderBeside(const std::string& loadedPath);
inline constexpr char kOpenMpBlasFolderName[] = "openblas-openmp";  // that folder's name

// "OpenBLAS, OpenMP build", "OpenBLAS, pthread build", ...
std::string blasThreadingName(BlasThreading t);

}  // namespace preflab
