// preflab render-chat: exactly what a model's chat template renders for a JSON
// list of messages (core/hf/chat_template.h), for checking a prompt format
// before training on it. A folder holding tokenizer_config.json (or
// chat_template.jinja) is enough: no weights are read.
#include "app/cli/commands.h"
#include "core/hf/chat_template.h"

#include <QCommandLineParser>
#include <QFile>
#include <QJsonDocument>
#include <QJsonParseError>

#include <cstdio>

namespace preflab {

int runRenderChatCommand(const QStringList& args) {
    QCommandLineParser p;
    p.setApplicationDescription(
        "Print exactly what a model's chat template renders for a conversation: the template of --model (its "
        "chat_template.jinja, else tokenizer_config.json's chat_template) applied, as transformers applies it, to the "
        "JSON list of {\"role\", \"content\"} messages in --messages, with the generation prompt unless "
        "--no-generation-prompt. Nothing is added: no newline at the end. A template that raises prints its message.");
    p.addHelpOption();
    p.addOption({"model", "A Hugging Face model folder (tokenizer_config.json is enough).", "dir"});
    p.addOption({"messages", "A JSON file: a list of message objects (- reads standard input).", "file"});
    p.addOption({"no-generation-prompt", "Do not open the assistant's next turn (add_generation_prompt false)."});
    p.process(QStringList{"preflab render-chat"} + args);
    if (!p.isSet("model") || !p.isSet("messages")) {
        std::fprintf(stderr, "preflab render-chat: give --model DIR and --messages FILE\n");
        return 2;
    }
    QFile f(p.value("messages"));
    const bool opened = p.value("messages") == QLatin1String("-") ? f.open(stdin, QIODevice::ReadOnly) : f.open(QIODevice::ReadOnly);
    if (!opened) {
        std::fprintf(stderr, "preflab render-chat: cannot read %s: %s\n", qPrintable(p.value("messages")),
                     qPrintable(f.errorString()));
        return 1;
    }
    const QByteArray bytes = f.readAll();
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(bytes, &parseError);
    if (parseError.error != QJsonParseError::NoError || !doc.isArray()) {
        std::fprintf(stderr, "preflab render-chat: %s: %s\n", qPrintable(p.value("messages")),
                     parseError.error != QJsonParseError::NoError
                         ? qPrintable(parseError.errorString() + " at byte " + QString::number(parseError.offset))
                         : "not a JSON list of {\"role\", \"content\"} messages");
        return 1;
    }
    const std::string messages = bytes.toStdString();
    try {
        const ChatTemplate chat = readFolderChatTemplate(p.value("model").toStdString());
        const bool generationPrompt = !p.isSet("no-generation-prompt");
        std::string text;
        if (chat.jinja) {
            text = chat.jinja->renderJson(messages, generationPrompt);
        } else {
            std::fprintf(stderr, "preflab render-chat: %s has no chat template: the plain format\n", qPrintable(p.value("model")));
            const std::vector<ChatMessage> list = chatMessagesFromJson(messages);
            text = chat.applyConversation(list);
        }
        std::fwrite(text.data(), 1, text.size(), stdout);
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "preflab render-chat: %s\n", e.what());
        return 1;
    }
}

}  // namespace preflab
