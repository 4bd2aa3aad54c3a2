#pragma once
// Gradient checkpointing for one transformer block: the forward pass keeps
// only the block's input; the backward pass runs the block again (same random
// state, same autocast setting) and back-propagates through that recomputation.
// LibTorch 1.13 has no C++ torch.utils.checkpoint, hence this autograd Function.
// Unlike PyTorch's reentrant form, the block's trainable parameters are inputs
// of the Function, so LoRA adapters get gradients even when the block's input
// (the frozen embedding's output) needs none. Core-private (torch).
#include "core/nn/transformer.h"

namespace preflab {

// block->forward(x, bias, rope), activations recomputed in the backward pass.
at::Tensor checkpointedBlock(TransformerBlock& block, const at::Tensor& x, const at::Tensor& bias, const Rotary& rope);

}  // namespace preflab
