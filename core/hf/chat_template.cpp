#include "core/hf/chat_template.h"

#include "core/hf/json_file.h"

#include <QJsonArray>
#include <QJsonDocument>

#include <cctype>
#include <filesystem>

namespace preflab {

std::string ChatTemplate::describe() const {
    switch (format) {
    case ChatFormat::ChatMl: return "ChatML";
    case ChatFormat::Llama3: return "Llama 3";
    case ChatFormat::Llama2: return "Llama 2";
    case ChatFormat::Mistral: return "Mistral";
    case ChatFormat::Zephyr: return "Zephyr";
    case ChatFormat::Plain: break;
    }
    return recognised ? "plain" : "plain (the model's chat template was not recognised)";
}

namespace {

// Llama 3's template writes each message's content | trim.
std::string trimmed(const std::string& s) {
    const size_t b = s.find_first_not_of(" \t\n\r");
    return b == std::string::npos ? std::string() : s.substr(b, s.find_last_not_of(" \t\n\r") - b + 1);
}

}  // namespace

std::string ChatTemplate::apply(const std::string& m) const {
    switch (format) {
    case ChatFormat::ChatMl: return "<|im_start|>user\n" + m + "<|im_end|>\n<|im_start|>assistant\n";
    case ChatFormat::Llama3:
        return "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n" + trimmed(m) +
               "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n";
    case ChatFormat::Llama2:
    case ChatFormat::Mistral: return bos + "[INST] " + m + " [/INST]";
    case ChatFormat::Zephyr: return "<|user|>\n" + m + eos + "\n<|assistant|>\n";
    case ChatFormat::Plain: break;
    }
    return m + "\n";
}

std::string ChatTemplate::applyConversation(const std::vector<ChatMessage>& messages) const {
    if (messages.size() == 1 && messages[0].role == "user") return apply(messages[0].content);
    std::string out;
    switch (format) {
    case ChatFormat::ChatMl:
        for (const ChatMessage& m : messages) out += "<|im_start|>" + m.role + "\n" + m.content + "<|im_end|>\n";
        return out + "<|im_start|>assistant\n";
    case ChatFormat::Llama3:
        out = "<|begin_of_text|>";
        for (const ChatMessage& m : messages) {
            out += "<|start_header_id|>" + (m.role == "tool" ? std::string("ipython") : m.role) + "<|end_header_id|>\n\n" +
                   trimmed(m.content) + "<|eot_id|>";
        }
        return out + "<|start_header_id|>assistant<|end_header_id|>\n\n";
    case ChatFormat::Llama2: {
        // Meta's format: the system prompt inside the first [INST] block, each
        // exchange "<s>[INST] user [/INST] answer </s>".
        std::string system;
        for (const ChatMessage& m : messages) {
            if (m.role == "system") {
                system = "<<SYS>>\n" + m.content + "\n<</SYS>>\n\n";
            } else if (m.role == "assistant") {
                out += " " + m.content + " " + eos;
            } else {
                out += bos + "[INST] " + system + m.content + " [/INST]";
                system.clear();
            }
        }
        return out;
    }
    case ChatFormat::Mistral: {
        // Mistral's format: one BOS, "[INST] user [/INST]answer</s>", no
        // system block (its v0.1 template refuses a system message; here it
        // goes before the first user message, as later versions do).
        std::string system;
        out = bos;
        for (const ChatMessage& m : messages) {
            if (m.role == "system") system = m.content + "\n\n";
            else if (m.role == "assistant") out += m.content + eos;
            else out += "[INST] " + system + m.content + " [/INST]", system.clear();
        }
        return out;
    }
    case ChatFormat::Zephyr:
        for (const ChatMessage& m : messages) {
            if (m.role != "tool") out += "<|" + m.role + "|>\n" + m.content + eos + "\n";  // its template has no tool turn
        }
        return out + "<|assistant|>\n";
    case ChatFormat::Plain: break;
    }
    for (const ChatMessage& m : messages) {
        std::string role = m.role;
        if (!role.empty()) role[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(role[0])));
        out += (out.empty() ? "" : "\n\n") + role + ": " + m.content;
    }
    return out + "\n";
}

std::string ChatTemplate::applyExchange(const std::string& userMessage, const std::string& answer) const {
    switch (format) {
    case ChatFormat::ChatMl: return apply(userMessage) + answer + "<|im_end|>\n";
    case ChatFormat::Llama3: return apply(userMessage) + trimmed(answer) + "<|eot_id|>";
    case ChatFormat::Llama2: return apply(userMessage) + " " + answer + " " + eos;
    case ChatFormat::Mistral: return apply(userMessage) + answer + eos;
    case ChatFormat::Zephyr: return apply(userMessage) + answer + eos + "\n";
    case ChatFormat::Plain: break;
    }
    return userMessage + answer;
}

std::vector<ChatMessage> chatMessagesFromJson(const std::string& json) {
    std::vector<ChatMessage> out;
    if (json.empty()) return out;
    const QJsonArray list = QJsonDocument::fromJson(QByteArray::fromStdString(json)).array();
    for (const QJsonValue& v : list) {
        const QJsonObject m = v.toObject();
        out.push_back({m.value(QStringLiteral("role")).toString().toStdString(),
                       m.value(QStringLiteral("content")).toString().toStdString()});
    }
    return out;
}

ChatTemplate detectChatTemplate(const std::string& jinja, const std::string& bos, const std::string& eos) {
    ChatTemplate t;
    if (!bos.empty()) t.bos = bos;
    if (!eos.empty()) t.eos = eos;
    auto has = [&](const char* marker) { return jinja.find(marker) != std::string::npos; };
    t.recognised = true;
    if (has("<|im_start|>")) t.format = ChatFormat::ChatMl;
    else if (has("<|start_header_id|>")) t.format = ChatFormat::Llama3;
    else if (has("[INST]")) t.format = has("<<SYS>>") ? ChatFormat::Llama2 : ChatFormat::Mistral;
    else if (has("<|user|>") && has("<|assistant|>")) t.format = ChatFormat::Zephyr;
    else t.recognised = jinja.empty();
    return t;
}

ChatTemplate readFolderChatTemplate(const std::string& folder) {
    const std::filesystem::path path = std::filesystem::path(folder) / "tokenizer_config.json";
    if (!std::filesystem::exists(path)) return detectChatTemplate({}, {}, {});
    const QJsonObject o = readJsonObjectFile(path.string());
    return detectChatTemplate(tokenContent(o.value(QStringLiteral("chat_template"))), tokenContent(o.value(QStringLiteral("bos_token"))),
                              tokenContent(o.value(QStringLiteral("eos_token"))));
}

}  // namespace preflab
