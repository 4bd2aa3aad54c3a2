#include "core/nn/kernel_report.h"

#include "core/nn/bf16_products.h"

#include "core/runtime/compute_threads.h"
#include "core/runtime/cpu_features.h"

#include <dlfcn.h>

namespace preflab {

std::string vectorLoopVariant(bool hasAvx512Copy) {
#if defined(__x86_64__) && defined(__GNUC__)
    // The order GCC's resolver prefers: the widest unit the CPU supports.
    if (hasAvx512Copy && __builtin_cpu_supports("avx512f")) return "avx512f";
    if (__builtin_cpu_supports("avx2")) return "avx2";
#else
    (void)hasAvx512Copy;
#endif
    return "baseline";
}

std::vector<std::string> kernelReport() {
    using Config = const char* (*)();
    const auto config = reinterpret_cast<Config>(dlsym(RTLD_DEFAULT, "openblas_get_config"));
    const auto corename = reinterpret_cast<Config>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
    std::vector<std::string> out;
    out.push_back(std::string("BLAS: ") + (config ? config() : "not OpenBLAS (no openblas_get_config)") +
                  (corename ? std::string(", core ") + corename() : std::string()));
    out.push_back(std::string("one-row products: fp32 BLAS sgemv; bf16 ") +
                  (bf16ProductsAvailable() ? "PrefLab's AVX512-BF16 kernel (also the fused decode step's bf16 products)"
                                           : "PrefLab's widening loop, " + vectorLoopVariant(true) + " copy"));
    out.push_back("fused decode step's attention loops: " + vectorLoopVariant(false) + " copy");
    out.push_back(std::string("bf16 compute: ") +
                  (cpuFeatures().fastBf16() ? "native (used for models >= 5 M parameters)" : "not native (fp32 only)"));
    out.push_back("models <= " + std::to_string(kOneThreadModelParameters / 1'000'000) + " M parameters: 1 intra-op thread, " +
                  std::to_string(kSmallModelRowGroups) + " row groups on up to " + std::to_string(availableCores()) +
                  " cores");
    return out;
}

}  // namespace preflab
