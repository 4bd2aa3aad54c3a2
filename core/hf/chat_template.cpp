#include "core/hf/chat_template.h"

#include "core/hf/json_file.h"

#include <filesystem>

namespace preflab {

std::string ChatTemplate::describe() const {
    switch (format) {
    case ChatFormat::ChatMl: return "ChatML";
    case ChatFormat::Llama3: return "Llama 3";
    case ChatFormat::Llama2: return "Llama 2";
    case ChatFormat::Zephyr: return "Zephyr";
    case ChatFormat::Plain: break;
    }
    return recognised ? "plain" : "plain (the model's chat template was not recognised)";
}

std::string ChatTemplate::apply(const std::string& m) const {
    switch (format) {
    case ChatFormat::ChatMl: return "<|im_start|>user\n" + m + "<|im_end|>\n<|im_start|>assistant\n";
    case ChatFormat::Llama3:
        return "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n" + m +
               "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n";
    case ChatFormat::Llama2: return bos + "[INST] " + m + " [/INST]";
    case ChatFormat::Zephyr: return "<|user|>\n" + m + eos + "\n<|assistant|>\n";
    case ChatFormat::Plain: break;
    }
    return m + "\n";
}

ChatTemplate detectChatTemplate(const std::string& jinja, const std::string& bos, const std::string& eos) {
    ChatTemplate t;
    if (!bos.empty()) t.bos = bos;
    if (!eos.empty()) t.eos = eos;
    auto has = [&](const char* marker) { return jinja.find(marker) != std::string::npos; };
    t.recognised = true;
    if (has("<|im_start|>")) t.format = ChatFormat::ChatMl;
    else if (has("<|start_header_id|>")) t.format = ChatFormat::Llama3;
    else if (has("[INST]")) t.format = ChatFormat::Llama2;
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
