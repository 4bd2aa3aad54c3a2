#pragma once
// Runs a model body in bf16 autocast on the CPU when asked; head and
// log-softmax stay fp32 (see performance.md). Core-private (torch).
#include "core/nn/transformer.h"

namespace preflab {

// Logits [B,T,V] in fp32; the transformer body in bf16 autocast when bf16 is true.
at::Tensor computeLogits(Transformer& model, const at::Tensor& ids, const at::Tensor& mask, bool bf16);

// Whether to compute in bf16: "bf16" forces it, "fp32" never, "auto" only on a
// CPU with native bf16 dot products and a model of >= 5 M parameters (smaller
// models lose: each bf16 op has a fixed cost of ~0.1 ms in LibTorch 1.13).
bool useBf16(const std::string& computeDtype, int64_t parameterCount);

}  // namespace preflab
