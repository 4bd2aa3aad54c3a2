#pragma once
// Chat templates of the common model families, recognised in
// tokenizer_config.json's Jinja chat_template by their markers and applied by
// hand (PrefLab has no Jinja engine; these formats are fixed strings):
//   ChatML  (Qwen2, SmolLM-Instruct):  <|im_start|>user\n…<|im_end|>\n<|im_start|>assistant\n
//   Llama 3:  <|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n…<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n
//   Llama 2:  <s>[INST] … [/INST]            (its template has a <<SYS>> block)
//   Mistral:  <s>[INST] … [/INST]            (no <<SYS>>; answers follow [/INST] directly)
//   Zephyr  (TinyLlama-Chat):  <|user|>\n…</s>\n<|assistant|>\n
// Anything else (or no template) falls back to the plain format "…\n", and
// describe() says so, so the user sees which format was used. Plain C++.
#include "core/values/chat_message.h"

#include <string>
#include <vector>

namespace preflab {

enum class ChatFormat { Plain, ChatMl, Llama3, Llama2, Mistral, Zephyr };

struct ChatTemplate {
    ChatFormat format = ChatFormat::Plain;
    std::string bos = "<s>", eos = "</s>";  // the tokenizer's token texts (Llama 2 and Zephyr use them)
    bool recognised = false;                // false: a template was present but not recognised
    // "ChatML", "Llama 3", ..., or "plain (template not recognised)".
    std::string describe() const;
    // The prompt text for one user message, ending where the model's answer begins.
    std::string apply(const std::string& userMessage) const;
    // The prompt text for a conversation (system, user, assistant and tool
    // turns), ending where the model's next answer begins. Plain format: one
    // user message as apply(); otherwise "Role: content" turns separated by a
    // blank line, then "\n" (as PrefLab's import stores the text).
    std::string applyConversation(const std::vector<ChatMessage>& messages) const;
    // One user turn and its answer, the whole exchange with no generation
    // prompt after it (what a reward model scores); the plain format is the
    // prompt and response concatenated.
    std::string applyExchange(const std::string& userMessage, const std::string& answer) const;
};

// Messages from a JSON list of {"role", "content"} objects (as PrefLab stores
// an imported conversation's prompt); empty for anything else.
std::vector<ChatMessage> chatMessagesFromJson(const std::string& json);

// From the chat_template text ("" when the model has none).
ChatTemplate detectChatTemplate(const std::string& jinja, const std::string& bos, const std::string& eos);

// From a model folder's tokenizer_config.json (plain when absent).
ChatTemplate readFolderChatTemplate(const std::string& folder);

}  // namespace preflab
