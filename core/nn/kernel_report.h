#pragma once
// Which kernels this process runs on this CPU, in words, for the benchmarks
// and `preflab version`: the BLAS build and the core type it chose, the copy
// of PrefLab's own vector loops the program loader picked (target_clones),
// whether bf16 compute is native, and how small models use the cores.
// Core-private (torch-side: it asks the loaded BLAS).
#include <string>
#include <vector>

namespace preflab {

// The copy of a target_clones loop the loader picks on this CPU: "avx512f"
// (offered only where the loop has one), "avx2" or "baseline".
std::string vectorLoopVariant(bool hasAvx512Copy);

std::vector<std::string> kernelReport();

}  // namespace preflab
