#pragma once
// CPU feature detection (cpuid + XGETBV), so kernel choices follow the machine
// rather than an assumption. Plain C++; safe to call from any thread.
#include <string>

namespace preflab {

struct CpuFeatures {
    bool avx2 = false;
    bool fma = false;
    bool avx512f = false;
    bool avx512dq = false;
    bool avx512bw = false;
    bool avx512vl = false;
    bool avx512bf16 = false;
    bool amxBf16 = false;
    std::string vendor;

    // AVX-512 usable by ATen's avx512 kernels and OpenBLAS's SkylakeX kernels:
    // F+DQ+BW+VL, and the OS saves the ZMM state.
    bool avx512Usable() const { return avx512f && avx512dq && avx512bw && avx512vl; }
    // bf16 matrix products are fast only with native bf16 dot products. Without
    // them (measured on an AVX2-only EPYC: 4.6 GFLOP/s bf16 vs 140 fp32) bf16 is a loss.
    bool fastBf16() const { return avx512bf16 || amxBf16; }
    std::string summary() const;
};

const CpuFeatures& cpuFeatures();

}  // namespace preflab
