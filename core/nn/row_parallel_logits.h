#pragma once
// computeLogits over groups of a batch's rows, each group's forward and
// backward pass on a thread of its own. For a small model (one intra-op
// thread: its products are too small to split inside an operation) the rows
// are what two cores can share; a batch's rows do not depend on each other.
//
// With autograd on, the groups run inside one autograd Function: its forward
// keeps each group's graph, its backward back-propagates each group on its own
// thread (torch::autograd::grad) and adds the groups' parameter gradients in
// group order, so the result does not depend on which thread finishes first.
// Models whose forward draws random numbers (LoRA dropout in training) or
// recomputes blocks (gradient checkpointing) run as one group: their random
// draws would depend on thread timing. Each group's graph is back-propagated
// once: no second backward pass through it (retain_graph) and no double
// backward (create_graph). Core-private (torch).
#include "core/nn/transformer.h"

namespace preflab {

// Logits [B,T,V] in fp32, as computeLogits(model, ids, mask, bf16), from
// `groups` groups of rows (1: computeLogits itself). The graph keeps the
// parameters themselves, not the model.
at::Tensor rowParallelLogits(Transformer& model, const at::Tensor& ids, const at::Tensor& mask, bool bf16, int groups);

}  // namespace preflab
