#pragma once
// AdamW with its update fused into one pass over each parameter. LibTorch
// 1.13's AdamW::step runs eight separate element-wise operations per
// parameter (two of them allocating a temporary the parameter's size): about
// 21 passes over memory. One pass reads the parameter, its gradient and the
// two moments and writes three of them back (7 passes). For 10.8 M
// parameters on 2 cores, with nothing else running: 33-40 ms a step against
// 18-20 ms fused, about 2 % of that model's 1 s DPO step.
//
// It is a torch::optim::AdamW: the same options, the same per-parameter
// state (AdamWParamState, so checkpoints save and load as before), the same
// update (Loshchilov and Hutter's decoupled weight decay, as LibTorch's):
//   p <- p (1 - lr wd);  m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2
//   p <- p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
// in fp32, rounded per operation (agrees with LibTorch's to float rounding,
// tests/tst_fused_adamw). Anything but contiguous fp32 parameters and dense
// gradients, and amsgrad, takes LibTorch's own operations.
//
// Written by hand because LibTorch 1.13 has no fused or multi-tensor AdamW
// on the CPU (its Python side's `fused` is CUDA-only, and C++ has neither).
// Core-private (torch).
#include <torch/optim/adamw.h>

namespace preflab {

class FusedAdamW : public torch::optim::AdamW {
public:
    using torch::optim::AdamW::AdamW;
    at::Tensor step(LossClosure closure = nullptr) override;
};

}  // namespace preflab
