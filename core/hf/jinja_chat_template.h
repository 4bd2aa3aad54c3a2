#pragma once
// A model's chat template (tokenizer_config.json's "chat_template", Jinja)
// rendered as transformers renders it: trim_blocks and lstrip_blocks on,
// with messages, add_generation_prompt, the tokenizer's bos_token and
// eos_token, raise_exception() and strftime_now(). The engine is Google's
// minja (core/hf/vendor/README.md says why and which version), kept out of
// this header: parsing and rendering are a .cpp's. A template that does not
// parse, or raises, is an error with its own message: never a fallback to
// another format. Immutable after construction; any thread.
#include "core/values/chat_message.h"

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace preflab {

class ChatTemplateError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class JinjaChatTemplate {
public:
    // Parses `source`; throws ChatTemplateError naming `where` (the file it
    // came from) with the parser's message and position.
    JinjaChatTemplate(const std::string& source, std::string bosToken, std::string eosToken, std::string where);

    // What the template renders for the messages; addGenerationPrompt asks
    // for the opening of the assistant's next turn. Throws ChatTemplateError
    // naming the file with the template's own message (raise_exception).
    std::string render(const std::vector<ChatMessage>& messages, bool addGenerationPrompt) const;
    // The same for a JSON list of message objects, passed to the template as
    // given (every key, content lists and tool calls included); `extraJson`,
    // an object or empty, adds variables (e.g. date_string).
    std::string renderJson(const std::string& messagesJson, bool addGenerationPrompt,
                           const std::string& extraJson = {}) const;

    const std::string& source() const;
    const std::string& where() const;

private:
    struct Parsed;
    std::shared_ptr<const Parsed> m_parsed;
};

}  // namespace preflab
