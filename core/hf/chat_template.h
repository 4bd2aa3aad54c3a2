#pragma once
// A model's prompt format. With a chat template (tokenizer_config.json's
// "chat_template", or a chat_template.jinja file beside it) the prompt is what
// the template renders, as transformers renders it (core/hf/jinja_chat_template.h):
// one user turn with the generation prompt, a whole conversation, or an
// exchange without it (what a reward model scores). Without one, the plain
// format: the prompt and a newline. A template that does not parse or raises
// is an error naming its file, never a silent fallback; describe() says which
// format is in use and, by its markers, which family a template looks like.
// Plain C++.
#include "core/hf/jinja_chat_template.h"
#include "core/values/chat_message.h"

#include <optional>
#include <string>
#include <vector>

namespace preflab {

struct ChatTemplate {
    std::optional<JinjaChatTemplate> jinja;  // none: the plain format
    std::string family;                      // "ChatML", "Llama 3", ... by the template's markers; "" unknown

    bool plain() const { return !jinja.has_value(); }
    // "ChatML (the model's chat template)", "the model's chat template", or "plain (no chat template)".
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

// From a template's text ("" for none), the tokenizer's BOS and EOS texts, and
// the file it came from (for errors). Throws ChatTemplateError when it does not parse.
ChatTemplate makeChatTemplate(const std::string& jinja, const std::string& bos, const std::string& eos,
                              const std::string& where);

// From a model folder: chat_template.jinja when present, else
// tokenizer_config.json's chat_template (a list of named templates: the one
// named "default"); plain when neither. Throws ChatTemplateError naming the file.
ChatTemplate readFolderChatTemplate(const std::string& folder);

}  // namespace preflab
