// Chat templates (core/hf/chat_template.h): small complete templates in the
// published formats rendered through the Jinja engine, against prompts
// written out by hand; the plain format without one; a template that does
// not parse or raises is an error naming its file, not a fallback; and a
// folder's template is found where transformers looks. Real models'
// templates against @huggingface/jinja: tst_jinja_templates.
#include "core/hf/chat_template.h"
#include "support/test_main.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>

using namespace preflab;

namespace {

// Zephyr's (TinyLlama-Chat's) template as the model ships it.
const char* const kZephyr =
    "{% for message in messages %}\n{% if message['role'] == 'user' %}\n{{ '<|user|>\\n' + message['content'] + eos_token }}\n"
    "{% elif message['role'] == 'system' %}\n{{ '<|system|>\\n' + message['content'] + eos_token }}\n"
    "{% elif message['role'] == 'assistant' %}\n{{ '<|assistant|>\\n'  + message['content'] + eos_token }}\n{% endif %}\n"
    "{% if loop.last and add_generation_prompt %}\n{{ '<|assistant|>' }}\n{% endif %}\n{% endfor %}";
// ChatML as SmolLM-Instruct ships it.
const char* const kChatMl =
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
// Llama 3's (Meta-Llama-3-8B-Instruct's).
const char* const kLlama3 =
    "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + "
    "message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}"
    "{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}"
    "{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}";
// Mistral-7B-Instruct-v0.1's: it refuses roles out of order.
const char* const kMistral =
    "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
    "{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}"
    "{{ message['content'] + eos_token + ' ' }}{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}"
    "{% endif %}{% endfor %}";

const std::vector<ChatMessage> kConversation{
    {"system", "Be brief."}, {"user", "Hi"}, {"assistant", "Hello!"}, {"user", "Where do foxes live?"}};

}  // namespace

class TestChatTemplate : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void families_data() {
        QTest::addColumn<QString>("jinja");
        QTest::addColumn<QString>("family");
        QTest::addColumn<QString>("prompt");        // one user turn, generation prompt
        QTest::addColumn<QString>("exchange");      // the turn and its answer, no generation prompt
        QTest::addColumn<QString>("conversation");  // kConversation, generation prompt
        QTest::newRow("ChatML") << kChatMl << "ChatML" << "<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n"
                                << "<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\nFine.<|im_end|>\n"
                                << "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
                                   "<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>user\nWhere do foxes live?<|im_end|>\n"
                                   "<|im_start|>assistant\n";
        QTest::newRow("Llama 3")
            << kLlama3 << "Llama 3"
            << "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"
            << "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nFine.<|eot_id|>"
            << "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
               "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"
               "Hello!<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nWhere do foxes live?<|eot_id|>"
               "<|start_header_id|>assistant<|end_header_id|>\n\n";
        QTest::newRow("Zephyr") << kZephyr << "Zephyr" << "<|user|>\nHi there</s>\n<|assistant|>\n"
                                << "<|user|>\nHi there</s>\n<|assistant|>\nFine.</s>\n"
                                << "<|system|>\nBe brief.</s>\n<|user|>\nHi</s>\n<|assistant|>\nHello!</s>\n"
                                   "<|user|>\nWhere do foxes live?</s>\n<|assistant|>\n";
    }

    void families() {
        QFETCH(QString, jinja);
        QFETCH(QString, family);
        QFETCH(QString, prompt);
        QFETCH(QString, exchange);
        QFETCH(QString, conversation);
        const ChatTemplate t = makeChatTemplate(jinja.toStdString(), "<|begin_of_text|>", "</s>", "test");
        QVERIFY(!t.plain());
        QCOMPARE(QString::fromStdString(t.describe()), family + " (the model's chat template)");
        QCOMPARE(QString::fromStdString(t.apply("Hi there")), prompt);
        QCOMPARE(QString::fromStdString(t.applyConversation({{"user", "Hi there"}})), prompt);
        QCOMPARE(QString::fromStdString(t.applyExchange("Hi there", "Fine.")), exchange);
        QCOMPARE(QString::fromStdString(t.applyConversation(kConversation)), conversation);
    }

    // Llama 3's template trims each message's content (Jinja's trim filter).
    void llama3TrimsContent() {
        const ChatTemplate t = makeChatTemplate(kLlama3, "<|begin_of_text|>", "<|eot_id|>", "test");
        QCOMPARE(QString::fromStdString(t.apply("  Hi there \n")),
                 QString("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|>"
                         "<|start_header_id|>assistant<|end_header_id|>\n\n"));
    }

    void plainWithoutATemplate() {
        const ChatTemplate t = makeChatTemplate("", "<s>", "</s>", "test");
        QVERIFY(t.plain());
        QCOMPARE(QString::fromStdString(t.describe()), QString("plain (no chat template)"));
        QCOMPARE(QString::fromStdString(t.apply("Hi there")), QString("Hi there\n"));
        QCOMPARE(QString::fromStdString(t.applyExchange("Hi there", " Fine.")), QString("Hi there Fine."));
        QCOMPARE(QString::fromStdString(t.applyConversation(kConversation)),
                 QString("System: Be brief.\n\nUser: Hi\n\nAssistant: Hello!\n\nUser: Where do foxes live?\n"));
    }

    // A template's raise_exception is the error, with its message and the
    // file it came from; so is a template that does not parse.
    void templateErrorsAreErrors() {
        const ChatTemplate mistral = makeChatTemplate(kMistral, "<s>", "</s>", "/models/m/tokenizer_config.json");
        QCOMPARE(QString::fromStdString(mistral.apply("Hi")), QString("<s>[INST] Hi [/INST]"));
        try {
            mistral.applyConversation(kConversation);  // a system turn
            QFAIL("a raising template rendered");
        } catch (const ChatTemplateError& e) {
            QVERIFY2(QString(e.what()).contains("/models/m/tokenizer_config.json") &&
                         QString(e.what()).contains("Conversation roles must alternate"),
                     e.what());
        }
        try {
            makeChatTemplate("{% for m in messages %}{{ m.content }", "", "", "/models/x/chat_template.jinja");
            QFAIL("a broken template parsed");
        } catch (const ChatTemplateError& e) {
            QVERIFY2(QString(e.what()).contains("/models/x/chat_template.jinja: the chat template does not parse"), e.what());
        }
    }

    // A folder's template: chat_template.jinja first, else tokenizer_config's
    // (a list of named templates: "default"), with its BOS and EOS texts.
    void folderTemplateIsFoundWhereTransformersLooks() {
        QTemporaryDir dir;
        auto write = [&](const QString& name, const QByteArray& text) {
            QFile f(dir.filePath(name));
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(text);
        };
        write("tokenizer_config.json",
              R"({"bos_token": {"content": "<B>", "__type": "AddedToken"}, "eos_token": "<E>", "chat_template": [)"
              R"({"name": "tool_use", "template": "tools"}, {"name": "default", "template": "{{ bos_token }}{{ messages[0]['content'] }}{{ eos_token }}"}]})");
        QCOMPARE(QString::fromStdString(readFolderChatTemplate(dir.path().toStdString()).apply("hi")), QString("<B>hi<E>"));
        write("chat_template.jinja", "[{{ messages[0]['content'] }}]");
        QCOMPARE(QString::fromStdString(readFolderChatTemplate(dir.path().toStdString()).apply("hi")), QString("[hi]"));
        QDir(dir.path()).remove("chat_template.jinja");
        write("tokenizer_config.json", R"({"chat_template": [{"name": "tool_use", "template": "tools"}]})");
        try {
            readFolderChatTemplate(dir.path().toStdString());
            QFAIL("no default template, yet one was taken");
        } catch (const ChatTemplateError& e) {
            QVERIFY2(QString(e.what()).contains("without one named \"default\""), e.what());
        }
        QDir(dir.path()).remove("tokenizer_config.json");
        QVERIFY(readFolderChatTemplate(dir.path().toStdString()).plain());
    }

    void messagesFromStoredJson() {
        const std::vector<ChatMessage> m =
            chatMessagesFromJson(R"([{"content":"Be brief.","role":"system"},{"content":"Hi","role":"user"}])");
        QCOMPARE(m.size(), size_t(2));
        QCOMPARE(m[0].role, std::string("system"));
        QCOMPARE(m[1].content, std::string("Hi"));
        QVERIFY(chatMessagesFromJson("").empty());
    }
};

PREFLAB_TEST_MAIN(TestChatTemplate)
#include "tst_chat_template.moc"
