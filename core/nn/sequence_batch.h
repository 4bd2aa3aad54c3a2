#pragma once
// Packs prompt+response sequences into a right-padded batch and computes
// log-probabilities over response tokens only (prompt and padding masked out).
// Core-private (torch).
#include "core/text/tokenizer.h"

#include <ATen/ATen.h>

#include <vector>

namespace preflab {

struct SequenceBatch {
    at::Tensor ids;           // [B,T] int64
    at::Tensor attention;     // [B,T] int64, 1 = real token
    at::Tensor responseMask;  // [B,T] float, 1 at response tokens
};

SequenceBatch packSequences(const std::vector<TokenIds>& prompts, const std::vector<TokenIds>& responses, int32_t pad);

// log pi(y_t | y_<t) for every target position 1..T-1, zero outside responses: [B,T-1].
at::Tensor responseTokenLogprobs(const at::Tensor& logits, const SequenceBatch& batch);
// Sum over response tokens: c(x,y), [B].
at::Tensor sequenceLogprobs(const at::Tensor& logits, const SequenceBatch& batch);

}  // namespace preflab
