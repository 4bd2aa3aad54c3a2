// Fuzz target: conversational rows (TRL conversational, message lists with
// the prompt inside as UltraFeedback's, HH-RLHF's implicit prompt), read by
// parsePairLine: any bytes give a pair or a message, never a crash, hang or
// read outside the input. A good conversational pair's prompt messages are
// a JSON list whose plain text is its prompt, its row is kept as read, and
// its scores lie in their range. See standalone_fuzz_driver.cpp.
#include "storage/import_text.h"
#include "storage/pair_line_parser.h"

#include <QJsonArray>
#include <QJsonDocument>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
    std::string line;
    bool tooLong = false;
    while (preflab::readBoundedLine(in, line, tooLong, 1 << 16)) {
        preflab::ParsedLine parsed;
        if (!preflab::parsePairLine(line, parsed).empty()) continue;
        if (parsed.pair.a.text == parsed.pair.b.text && parsed.format != preflab::kAnnotatorLabels) std::abort();
        const bool conversation =
            parsed.format == preflab::kTrlConversational || parsed.format == preflab::kConversationsWithPrompt;
        if (!conversation) continue;
        if (parsed.pair.sourceRow != line) std::abort();
        const QJsonDocument messages = QJsonDocument::fromJson(QByteArray::fromStdString(parsed.pair.promptMessagesJson));
        if (!messages.isArray() || messages.array().isEmpty()) std::abort();
        if (preflab::plainConversationText(parsed.pair.promptMessagesJson) != parsed.pair.prompt) std::abort();
        for (const auto& score : {parsed.scoreA, parsed.scoreB}) {
            if (score && !(*score >= 1 && *score <= 10)) std::abort();
        }
    }
    return 0;
}

std::vector<std::string> preflabFuzzSeeds() {
    return {
        R"({"id": "r1", "prompt": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}], )"
        R"("chosen": [{"role": "assistant", "content": "In forests."}], "rejected": [{"role": "assistant", "content": "Go away."}]})" "\n",
        R"({"prompt":"Name a red fruit.","chosen":[{"content":"Name a red fruit.","role":"user"},{"content":"An apple.","role":"assistant"}],)"
        R"("rejected":[{"content":"Name a red fruit.","role":"user"},{"content":"A banana.","role":"assistant"}],"score_chosen":8.5,"score_rejected":3.0})" "\n",
        R"({"chosen": "\n\nHuman: Hi\n\nAssistant: Hello!\n\nHuman: Where?\n\nAssistant: Here.", "rejected": "\n\nHuman: Hi\n\nAssistant: Hello!\n\nHuman: Where?\n\nAssistant: No."})" "\n",
        R"({"prompt":[{"role":"user","content":"q"}],"chosen":[{"role":"assistant","content":"a"}],"rejected":[{"role":"assistant","content":"\ud800"}]})" "\n",
    };
}

std::vector<std::string> preflabFuzzTokens() {
    return {"\"role\"", "\"content\"", "\"user\"", "\"assistant\"", "\"system\"", "\"tool\"", "\"chosen\"", "\"rejected\"",
            "\"prompt\"", "\"score_chosen\"", "1e308", "[", "]", "{", "}", ",", ":", "\\n\\nAssistant:", "\\n\\nHuman:",
            "\\ud83d\\ude00", "\\u0000", "null"};
}
