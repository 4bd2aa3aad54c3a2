#include "core/hf/chat_template.h"

#include "core/hf/json_file.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>

#include <cctype>
#include <filesystem>

namespace preflab {

std::string ChatTemplate::describe() const {
    if (plain()) return "plain (no chat template)";
    return family.empty() ? "the model's chat template" : family + " (the model's chat template)";
}

std::string ChatTemplate::apply(const std::string& m) const {
    if (jinja) return jinja->render({{"user", m}}, true);
    return m + "\n";
}

std::string ChatTemplate::applyConversation(const std::vector<ChatMessage>& messages) const {
    if (jinja) return jinja->render(messages, true);
    if (messages.size() == 1 && messages[0].role == "user") return apply(messages[0].content);
    std::string out;
    for (const ChatMessage& m : messages) {
        std::string role = m.role;
        if (!role.empty()) role[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(role[0])));
        out += (out.empty() ? "" : "\n\n") + role + ": " + m.content;
    }
    return out + "\n";
}

std::string ChatTemplate::applyExchange(const std::string& userMessage, const std::string& answer) const {
    if (jinja) return jinja->render({{"user", userMessage}, {"assistant", answer}}, false);
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

namespace {

// A name for the user to recognise, from markers of the common families.
std::string familyOf(const std::string& jinja) {
    auto has = [&](const char* marker) { return jinja.find(marker) != std::string::npos; };
    if (has("<|im_start|>")) return has("<think>") ? "ChatML with thinking (Qwen3)" : "ChatML";
    if (has("<|start_header_id|>")) return "Llama 3";
    if (has("<start_of_turn>")) return "Gemma";
    if (has("<\xEF\xBD\x9C" "User\xEF\xBD\x9C>")) return "DeepSeek";  // <｜User｜>, full-width bars
    if (has("[INST]")) return has("<<SYS>>") ? "Llama 2" : "Mistral";
    if (has("<|user|>") && has("<|assistant|>")) return "Zephyr";
    return {};
}

}  // namespace

ChatTemplate makeChatTemplate(const std::string& jinja, const std::string& bos, const std::string& eos,
                              const std::string& where) {
    ChatTemplate t;
    if (jinja.empty()) return t;
    t.jinja.emplace(jinja, bos, eos, where);
    t.family = familyOf(jinja);
    return t;
}

ChatTemplate readFolderChatTemplate(const std::string& folder) {
    const std::filesystem::path dir(folder);
    const std::filesystem::path config = dir / "tokenizer_config.json";
    QJsonObject o;
    if (std::filesystem::exists(config)) o = readJsonObjectFile(config.string());
    const std::string bos = tokenContent(o.value(QStringLiteral("bos_token")));
    const std::string eos = tokenContent(o.value(QStringLiteral("eos_token")));
    // transformers saves the template in its own file since 4.43; it wins.
    const std::filesystem::path file = dir / "chat_template.jinja";
    if (std::filesystem::exists(file)) {
        QFile f(QString::fromStdString(file.string()));
        if (!f.open(QIODevice::ReadOnly))
            throw ChatTemplateError(file.string() + ": cannot be read: " + f.errorString().toStdString());
        return makeChatTemplate(f.readAll().toStdString(), bos, eos, file.string());
    }
    const QJsonValue t = o.value(QStringLiteral("chat_template"));
    if (t.isArray()) {
        // Named templates ("default", "tool_use", ...): transformers uses "default".
        for (const QJsonValue& named : t.toArray()) {
            if (named.toObject().value(QStringLiteral("name")).toString() == QLatin1String("default"))
                return makeChatTemplate(named.toObject().value(QStringLiteral("template")).toString().toStdString(), bos,
                                        eos, config.string());
        }
        throw ChatTemplateError(config.string() + ": chat_template is a list of named templates without one named \"default\"");
    }
    if (!t.isUndefined() && !t.isNull() && !t.isString())
        throw ChatTemplateError(config.string() + ": chat_template is neither a text nor a list of named templates");
    return makeChatTemplate(t.toString().toStdString(), bos, eos, config.string());
}

}  // namespace preflab
