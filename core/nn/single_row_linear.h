#pragma once
// x * weight^T (+ bias) as a Linear layer computes it, with a faster path for
// the case batch-1 decoding hits: one row, autograd off. LibTorch sends
// [1,K] x [K,N] to a general matrix product; for fp32, sgemm first packs the
// whole weight matrix (for weights larger than the caches: read twice,
// written once), and for bf16 the product goes through oneDNN's matmul set-up
// for each call. One row needs each weight read once, nothing more:
//   fp32: at::addmv (BLAS sgemv);
//   bf16: with AVX512-BF16, core/nn/bf16_products' kernel; otherwise a
//         hand-written loop that widens each bf16 weight to fp32 (a shift)
//         and accumulates in fp32, split over the intra-op threads. LibTorch
//         1.13 has no fast bf16 matrix-vector product on the CPU (its gemv
//         for bf16 is a scalar reference loop).
// Anything else (several rows, autograd on, CPU autocast on, other dtypes,
// non-contiguous weights) goes to at::linear. Core-private (torch).
#include <ATen/core/Tensor.h>

namespace preflab {

at::Tensor linearForward(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias);

}  // namespace preflab
