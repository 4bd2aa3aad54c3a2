#include "core/hf/prompt_ids.h"

namespace preflab {

TokenIds promptTokenIds(const Tokenizer& tokenizer, const std::optional<ChatTemplate>& chat, const std::string& prompt,
                        const std::vector<ChatMessage>& messages) {
    if (!chat) return tokenizer.promptIds(prompt);
    TokenIds ids;
    // Templates that name their BOS carry it as text; the plain format gets the tokenizer's.
    if (chat->plain() && tokenizer.special().bos >= 0) ids.push_back(tokenizer.special().bos);
    const bool conversation = !messages.empty() && !chat->plain();
    const TokenIds body = tokenizer.encode(conversation ? chat->applyConversation(messages) : chat->apply(prompt));
    ids.insert(ids.end(), body.begin(), body.end());
    return ids;
}

}  // namespace preflab
