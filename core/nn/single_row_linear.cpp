#include "core/nn/single_row_linear.h"

#include "core/nn/bf16_products.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/autocast_mode.h>

#include <cstdint>
#include <cstring>
#include <vector>

namespace preflab {
namespace {

// The loop below compiled three times (AVX-512F, AVX2, baseline x86-64), one
// picked when the program loads (GCC's target_clones; its AVX-512 copy uses
// 256-bit vectors, as GCC prefers by default). The result does not depend
// on how rows are split over threads: each output is one thread's sum.
#if defined(__x86_64__) && defined(__GNUC__)
#define PREFLAB_BF16_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define PREFLAB_BF16_CLONES
#endif

inline float widen(uint16_t v) {
    const uint32_t bits = static_cast<uint32_t>(v) << 16;  // bf16 is the top half of an fp32
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
}

// y[n] = sum_k weight[n,k] * x[k] for n in [begin, end), in fp32. Sixteen
// independent partial sums, so that the loop vectorises without
// reassociating one float sum.
PREFLAB_BF16_CLONES void bf16Rows(const uint16_t* weight, const float* x, int64_t K, int64_t begin, int64_t end,
                                  float* y) {
    for (int64_t n = begin; n < end; ++n) {
        const uint16_t* w = weight + n * K;
        float acc[16] = {};
        int64_t k = 0;
        for (; k + 16 <= K; k += 16) {
            for (int i = 0; i < 16; ++i) acc[i] += widen(w[k + i]) * x[k + i];
        }
        float s = 0;
        for (int i = 0; i < 16; ++i) s += acc[i];
        for (; k < K; ++k) s += widen(w[k]) * x[k];
        y[n] = s;
    }
}

at::Tensor bf16Row(const at::Tensor& row, const at::Tensor& weight, const at::Tensor& bias) {
    const int64_t N = weight.size(0), K = weight.size(1);
    const at::Tensor x = row.to(at::kFloat).contiguous();
    at::Tensor y = at::empty({N}, at::kFloat);
    const auto* w = reinterpret_cast<const uint16_t*>(weight.data_ptr<at::BFloat16>());
    const float* xp = x.data_ptr<float>();
    float* yp = y.data_ptr<float>();
    if (bf16ProductsAvailable()) {
        // Native bf16 dot products (the row is bf16 already, so nothing is
        // rounded that was not): the weights read at the memory's pace.
        thread_local std::vector<uint16_t> scratch;
        bf16Product(xp, w, yp, 1, N, K, 0.0f, scratch);
    } else {
        // Rows of the weight split over the intra-op threads; a grain of 64 rows
        // (64 x K weights, 96 KiB at K = 768) keeps each piece worth a thread.
        at::parallel_for(0, N, 64, [&](int64_t begin, int64_t end) { bf16Rows(w, xp, K, begin, end, yp); });
    }
    if (bias.defined()) y.add_(bias.to(at::kFloat));
    return y.to(row.scalar_type());
}

}  // namespace

at::Tensor linearForward(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias) {
    const bool oneRow = x.dim() >= 1 && x.numel() == x.size(-1) && x.numel() > 0;
    if (!oneRow || at::GradMode::is_enabled() || at::autocast::is_cpu_enabled() || !weight.is_contiguous() ||
        weight.dim() != 2 ||
        !weight.device().is_cpu() || x.scalar_type() != weight.scalar_type() ||
        (bias.defined() && bias.scalar_type() != weight.scalar_type())) {
        return at::linear(x, weight, bias);
    }
    const at::Tensor row = x.reshape({-1});
    at::Tensor y;
    if (weight.scalar_type() == at::kFloat) {
        y = bias.defined() ? at::addmv(bias, weight, row) : at::mv(weight, row);
    } else if (weight.scalar_type() == at::kBFloat16) {
        y = bf16Row(row, weight, bias);
    } else {
        return at::linear(x, weight, bias);
    }
    std::vector<int64_t> sizes = x.sizes().vec();
    sizes.back() = weight.size(0);
    return y.view(sizes);
}

}  // namespace preflab
