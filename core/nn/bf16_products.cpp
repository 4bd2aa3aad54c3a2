#include "core/nn/bf16_products.h"

#include "core/runtime/cpu_features.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

#if defined(__x86_64__) && defined(__GNUC__) && __GNUC__ >= 10
#include <immintrin.h>
#define PREFLAB_BF16_KERNEL 1
// The kernel's functions are compiled for AVX-512 with bf16 dot products
// whatever the build's baseline, and only called when the CPU has them.
#define PREFLAB_BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512bf16")))
#endif

namespace preflab {

uint16_t floatToBf16(float f) {
    uint32_t bits;
    std::memcpy(&bits, &f, sizeof bits);
    if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x40u);  // a quiet NaN
    return static_cast<uint16_t>((bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16);
}

#ifdef PREFLAB_BF16_KERNEL
namespace {

constexpr int64_t kLanes = 32;  // bf16 values in one 512-bit vector

// Each input row rounded to bf16 (nearest even, as vcvtne2ps2bf16 does),
// zero-padded to `padded` (a multiple of kLanes).
PREFLAB_BF16_TARGET void roundRows(const float* in, uint16_t* out, int64_t M, int64_t K, int64_t padded) {
    for (int64_t m = 0; m < M; ++m) {
        const float* x = in + m * K;
        uint16_t* y = out + m * padded;
        for (int64_t k = 0; k < padded; k += kLanes) {
            const int64_t left = std::max<int64_t>(0, K - k);
            const __mmask16 lo = left >= 16 ? 0xffff : static_cast<__mmask16>((1u << left) - 1);
            const __mmask16 hi = left >= 32 ? 0xffff : left <= 16 ? 0 : static_cast<__mmask16>((1u << (left - 16)) - 1);
            const __m512bh v = _mm512_cvtne2ps_pbh(_mm512_maskz_loadu_ps(hi, x + k + 16), _mm512_maskz_loadu_ps(lo, x + k));
            _mm512_storeu_si512(y + k, reinterpret_cast<const __m512i&>(v));
        }
    }
}

// kLanes bf16 values from p (unaligned).
PREFLAB_BF16_TARGET inline __m512bh bf16At(const uint16_t* p) {
    const __m512i v = _mm512_loadu_si512(p);
    return reinterpret_cast<const __m512bh&>(v);
}

// The sum of a vector's lanes. GCC 12's AVX-512 header fills unused lanes
// with _mm256_undefined_pd(), which its own -Wmaybe-uninitialized flags.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
PREFLAB_BF16_TARGET inline float laneSum(__m512 v) { return _mm512_reduce_add_ps(v); }
#pragma GCC diagnostic pop

PREFLAB_BF16_TARGET inline void store(float* o, __m512 sum, float beta) {
    const float s = laneSum(sum);
    *o = beta == 0.0f ? s : *o + s;
}

// Output columns [n0, n1) of every row. One weight row at a time, dotted
// with every input row while it is in L1, so that the weights are read as
// one sequential stream. (Four rows side by side, or software prefetching,
// read a 50257 x 768 bf16 matrix at 10-12 and 12-17 GB/s on this machine's
// class; one row at a time at 22-23 GB/s, above at::sum's 16 GB/s.) Four
// accumulators per row hide the dot products' latency.
PREFLAB_BF16_TARGET void productColumns(const uint16_t* x, const uint16_t* w, float* out, int64_t M, int64_t N,
                                        int64_t K, int64_t padded, float beta, int64_t n0, int64_t n1) {
    const int64_t full = K / kLanes;  // whole vectors in a weight row
    const int64_t rest = K - full * kLanes;
    const __mmask32 restMask = static_cast<__mmask32>((uint64_t{1} << rest) - 1);
    for (int64_t n = n0; n < n1; ++n) {
        const uint16_t* row = w + n * K;
        for (int64_t m = 0; m < M; ++m) {
            const uint16_t* xm = x + m * padded;
            __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps(), a2 = _mm512_setzero_ps(), a3 = _mm512_setzero_ps();
            int64_t v = 0;
            for (; v + 4 <= full; v += 4) {
                const int64_t k = v * kLanes;
                a0 = _mm512_dpbf16_ps(a0, bf16At(row + k), bf16At(xm + k));
                a1 = _mm512_dpbf16_ps(a1, bf16At(row + k + kLanes), bf16At(xm + k + kLanes));
                a2 = _mm512_dpbf16_ps(a2, bf16At(row + k + 2 * kLanes), bf16At(xm + k + 2 * kLanes));
                a3 = _mm512_dpbf16_ps(a3, bf16At(row + k + 3 * kLanes), bf16At(xm + k + 3 * kLanes));
            }
            for (; v < full; ++v) a0 = _mm512_dpbf16_ps(a0, bf16At(row + v * kLanes), bf16At(xm + v * kLanes));
            if (rest) {
                // The row's last partial vector, masked (the input is zero-padded).
                const __m512i tail = _mm512_maskz_loadu_epi16(restMask, row + full * kLanes);
                a1 = _mm512_dpbf16_ps(a1, reinterpret_cast<const __m512bh&>(tail), bf16At(xm + full * kLanes));
            }
            store(out + m * N + n, _mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)), beta);
        }
    }
}

}  // namespace
#endif

bool bf16ProductsAvailable() {
#ifdef PREFLAB_BF16_KERNEL
    const CpuFeatures& c = cpuFeatures();
    return c.avx512f && c.avx512bw && c.avx512bf16;
#else
    return false;
#endif
}

void bf16Product(const float* in, const uint16_t* weight, float* out, int64_t M, int64_t N, int64_t K, float beta,
                 std::vector<uint16_t>& scratch) {
    if (!bf16ProductsAvailable()) throw std::logic_error("bf16Product: this CPU has no AVX512-BF16 dot products");
#ifdef PREFLAB_BF16_KERNEL
    if (M <= 0 || N <= 0 || K <= 0) return;
    const int64_t padded = (K + kLanes - 1) / kLanes * kLanes;
    scratch.resize(static_cast<size_t>(M * padded));
    roundRows(in, scratch.data(), M, K, padded);
    // Output columns split over LibTorch's intra-op threads, at least ~64 K
    // weights (128 KB) each: a 50257 x 768 product read 27-30 GB/s on two
    // threads against 19-20 on one; small products stay on one thread.
    const int64_t grain = std::max<int64_t>(64, (int64_t{1} << 16) / K);
    const uint16_t* x = scratch.data();
    at::parallel_for(0, N, grain, [&](int64_t n0, int64_t n1) { productColumns(x, weight, out, M, N, K, padded, beta, n0, n1); });
#endif
}

}  // namespace preflab
