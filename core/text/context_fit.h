#pragma once
// Fitting a preference pair into a model's context, by one stated rule
// (TRL's DPO tokenisation with truncation_mode "keep_end"): when the prompt
// and the longer response do not fit, the prompt keeps its *end* (the
// question and, with a chat template, the assistant header right before the
// response) within half the context, plus a leading BOS; then each response
// keeps its *start* within what is left. A pair that fits is unchanged.
// Plain C++ on token ids.
#include "core/text/tokenizer.h"

#include <cstddef>

namespace preflab {

// Returns true when anything was cut. `bos` < 0: the tokenizer has no BOS.
// Every part keeps at least one token (a response at least its first).
bool fitPairToContext(TokenIds& prompt, TokenIds& chosen, TokenIds& rejected, size_t context, int32_t bos);

}  // namespace preflab
