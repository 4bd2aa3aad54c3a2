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

// Preference pairs packed with each prompt once (prefix sharing, issue 33):
// row i is prompt i, then chosen i, then rejected i, right-padded; the mask
// codes (transformer.h) position the rejected response right after the
// prompt and keep it from attending to the chosen one, so every token's
// log-probability is the one its own sequence would give.
struct SharedPairBatch {
    SequenceBatch seq;  // ids and the mask codes in `attention`; responseMask unused
    at::Tensor sources, targets;         // [N,L] int64: the logit row and the token of each response token
    at::Tensor chosenMask, rejectedMask; // [N,L] float: which response each entry belongs to (0: padding)
};

SharedPairBatch packSharedPairs(const std::vector<TokenIds>& prompts, const std::vector<TokenIds>& chosen,
                                const std::vector<TokenIds>& rejected, int32_t pad);
// [2N]: the chosen responses' c(x,y), then the rejected ones': what
// sequenceLogprobs gives for packSequences(prompts twice, chosen then rejected).
at::Tensor sharedPairLogprobs(const at::Tensor& logits, const SharedPairBatch& batch);

}  // namespace preflab
