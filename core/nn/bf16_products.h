#pragma once
// Matrix products of fp32 activations with bf16 weights for decoding a few
// rows at a time (the fused decode step, core/nn/fused_decoder), on CPUs with
// native bf16 dot products (AVX512-BF16's vdpbf16ps).
//
// Why by hand: at batch 1 a decode step is a matrix-vector product per layer,
// bound by reading the weights once. LibTorch 1.13 sends a bf16 Linear on
// one row to oneDNN's general matrix product, which packs the weights first
// (reading and writing them again) and adds its dispatch per call: a 124 M
// GPT-2 in bf16 decoded at 33-50 % of the memory-bandwidth bound and no
// faster than fp32 (docs/performance notes). OpenBLAS 0.3.21 (Debian 12) has
// a bf16 sbgemm but no bf16 matrix-vector product. Here each weight row is
// streamed once and dotted with every input row while it is in L1.
//
// The inputs are rounded to bf16 for the dot products, as a bf16 model's
// activations are in LibTorch; the sums are fp32. Plain C++ (no torch in
// this header); the products are split over LibTorch's intra-op threads by
// output columns (each output is one thread's sum, so the split does not
// change the result).
#include <cstdint>
#include <vector>

namespace preflab {

// Whether this CPU and build have the kernel (AVX-512 F/BW and AVX512-BF16).
bool bf16ProductsAvailable();

// Row-major out[M,N] = beta * out + in[M,K] * weight[N,K]^T, weight in bf16
// (the upper 16 bits of an IEEE float). `scratch` holds the inputs rounded to
// bf16 between calls (resized as needed). beta is 0 or 1; with 0, out is
// overwritten, not scaled (a NaN in it does not survive).
// Throws std::logic_error when !bf16ProductsAvailable().
void bf16Product(const float* in, const uint16_t* weight, float* out, int64_t M, int64_t N, int64_t K, float beta,
                 std::vector<uint16_t>& scratch);

// bf16 (as stored) to float, exactly.
inline float bf16ToFloat(uint16_t v) {
    const uint32_t bits = static_cast<uint32_t>(v) << 16;
    float f;
    static_assert(sizeof f == sizeof bits);
    __builtin_memcpy(&f, &bits, sizeof f);
    return f;
}

// float to bf16, rounded to nearest even (NaN kept a NaN), as LibTorch rounds.
uint16_t floatToBf16(float f);

}  // namespace preflab
