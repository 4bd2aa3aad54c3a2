// Chat templates (core/hf/chat_template.h): each family recognised from
// (abridged) chat_template texts as the models ship them, and the prompt it
// produces written out by hand; anything else is plain and says so.
#include "core/hf/chat_template.h"
#include "support/test_main.h"

using namespace preflab;

class TestChatTemplate : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void families_data() {
        QTest::addColumn<QString>("jinja");
        QTest::addColumn<QString>("name");
        QTest::addColumn<QString>("prompt");
        QTest::newRow("Qwen2 / SmolLM (ChatML)")
            << "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}"
               "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
            << "ChatML" << "<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n";
        QTest::newRow("Llama 3")
            << "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' %}"
            << "Llama 3"
            << "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n";
        QTest::newRow("Llama 2") << "{% set system_message = '<<SYS>>\\n' + messages[0]['content'] + '\\n<</SYS>>\\n\\n' %}"
                                    "{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}"
                                 << "Llama 2" << "<s>[INST] Hi there [/INST]";
        QTest::newRow("Mistral") << "{{ bos_token }}{% for message in messages %}{% if message['role'] == 'user' %}"
                                    "{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}"
                                    "{{ message['content'] + eos_token}}{% endif %}{% endfor %}"
                                 << "Mistral" << "<s>[INST] Hi there [/INST]";
        QTest::newRow("Zephyr (TinyLlama-Chat)")
            << "{% if message['role'] == 'user' %}{{ '<|user|>\\n' + message['content'] + eos_token }}{% endif %}"
               "{% if add_generation_prompt %}{{ '<|assistant|>' }}{% endif %}"
            << "Zephyr" << "<|user|>\nHi there</s>\n<|assistant|>\n";
        QTest::newRow("none") << "" << "plain" << "Hi there\n";
        QTest::newRow("unknown") << "{{ messages[0]['content'] }}" << "plain (the model's chat template was not recognised)"
                                 << "Hi there\n";
    }

    void families() {
        QFETCH(QString, jinja);
        QFETCH(QString, name);
        QFETCH(QString, prompt);
        const ChatTemplate t = detectChatTemplate(jinja.toStdString(), "<s>", "</s>");
        QCOMPARE(QString::fromStdString(t.describe()), name);
        QCOMPARE(QString::fromStdString(t.apply("Hi there")), prompt);
        // One user message as a conversation is the same prompt.
        QCOMPARE(QString::fromStdString(t.applyConversation({{"user", "Hi there"}})), prompt);
    }

    // An imported conversation (system turn, an earlier exchange, a new user
    // turn), written out by hand in each family's published format.
    void conversations_data() {
        QTest::addColumn<QString>("jinja");
        QTest::addColumn<QString>("prompt");
        QTest::newRow("ChatML") << "<|im_start|>"
                                << "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
                                   "<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>user\nWhere do foxes live?<|im_end|>\n"
                                   "<|im_start|>assistant\n";
        QTest::newRow("Llama 3")
            << "<|start_header_id|>"
            << "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
               "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"
               "Hello!<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nWhere do foxes live?<|eot_id|>"
               "<|start_header_id|>assistant<|end_header_id|>\n\n";
        QTest::newRow("Mistral") << "[INST]"
                                 << "<s>[INST] Be brief.\n\nHi [/INST]Hello!</s>[INST] Where do foxes live? [/INST]";
        QTest::newRow("Llama 2") << "[INST]<<SYS>>"
                                 << "<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi [/INST] Hello! </s>"
                                    "<s>[INST] Where do foxes live? [/INST]";
        QTest::newRow("Zephyr") << "<|user|><|assistant|>"
                                << "<|system|>\nBe brief.</s>\n<|user|>\nHi</s>\n<|assistant|>\nHello!</s>\n"
                                   "<|user|>\nWhere do foxes live?</s>\n<|assistant|>\n";
        QTest::newRow("plain") << ""
                               << "System: Be brief.\n\nUser: Hi\n\nAssistant: Hello!\n\nUser: Where do foxes live?\n";
    }

    void conversations() {
        QFETCH(QString, jinja);
        QFETCH(QString, prompt);
        const ChatTemplate t = detectChatTemplate(jinja.toStdString(), "<s>", "</s>");
        const std::vector<ChatMessage> messages{
            {"system", "Be brief."}, {"user", "Hi"}, {"assistant", "Hello!"}, {"user", "Where do foxes live?"}};
        QCOMPARE(QString::fromStdString(t.applyConversation(messages)), prompt);
    }

    // Llama 3's template trims each message's content.
    void llama3TrimsContent() {
        const ChatTemplate t = detectChatTemplate("<|start_header_id|>", "<s>", "</s>");
        QCOMPARE(QString::fromStdString(t.apply("  Hi there \n")),
                 QString("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|>"
                         "<|start_header_id|>assistant<|end_header_id|>\n\n"));
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
