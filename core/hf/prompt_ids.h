#pragma once
// The token ids a model sees before its response, one rule for training,
// sampling and the import's context check: the built-in model's BOS + prompt +
// SEP, or a Hugging Face model's chat template (with the tokenizer's BOS in
// front for the plain format). Plain C++.
#include "core/hf/chat_template.h"
#include "core/text/tokenizer.h"

#include <optional>
#include <string>
#include <vector>

namespace preflab {

TokenIds promptTokenIds(const Tokenizer& tokenizer, const std::optional<ChatTemplate>& chat, const std::string& prompt,
                        const std::vector<ChatMessage>& messages = {});

}  // namespace preflab
