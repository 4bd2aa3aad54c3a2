// Fuzz target: label-file lines (JSON Lines, storage/pair_line_parser.h),
// read through the bounded line reader as an import reads them. Any bytes
// give good lines or messages, never a crash, hang or read outside the
// input; a good label row has a normalised annotator name (no control
// character, at most 64 characters) and a known label; the strict JSON
// check copes with any text, JSON or not; terminalSafe leaves no control
// byte. See standalone_fuzz_driver.cpp.
#include "storage/import_text.h"
#include "core/values/person_names.h"
#include "storage/pair_line_parser.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

namespace {

void checkTerminalSafe(const std::string& text) {
    for (const char c : preflab::terminalSafe(text)) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) std::abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string input(reinterpret_cast<const char*>(data), size);
    (void)preflab::strictJsonProblem(input);
    std::istringstream in(input);
    preflab::skipUtf8Bom(in);
    std::string line;
    bool tooLong = false;
    while (preflab::readBoundedLine(in, line, tooLong, 4096)) {
        if (line.size() > 4096 || (tooLong && !line.empty())) std::abort();
        preflab::ParsedLine parsed;
        if (!preflab::parsePairLine(line, parsed).empty()) continue;
        if (parsed.format != preflab::kAnnotatorLabels) continue;
        std::string again;
        if (!preflab::normalizeName(parsed.annotator, again).empty() || again != parsed.annotator) std::abort();
        const std::string& l = parsed.label;
        if (l != "a" && l != "b" && l != "tie" && l != "both_bad" && l != "skip") std::abort();
        checkTerminalSafe(parsed.pair.prompt);
        checkTerminalSafe(parsed.annotator);
    }
    return 0;
}

std::vector<std::string> preflabFuzzSeeds() {
    return {
        R"({"prompt":"p","response_a":"x","response_b":"y","annotator":"ann","label":"a"})" "\n"
        R"({"prompt":"p","response_a":"x","response_b":"y","annotator":"Zoe\u0308 ","label":"both_bad"})" "\n",
        R"({"prompt":"p\u001fq","response_a":"r","response_b":"s","annotator":"bob","label":"skip"})" "\n"
        R"({"prompt":"\u001b[2J","response_a":"\ud83d\ude00","response_b":"s","annotator":"cy","label":"tie"})" "\n",
        R"({"prompt":"p","response_a":"x","response_b":"y","annotator":"ann","label":"a","label":"b"})" "\n"
        R"({"prompt":"\ud800","response_a":"x","response_b":"y","annotator":"\u202eann","label":"a"})" "\n",
        "\xEF\xBB\xBF{\"prompt\":\"p\",\"response_a\":\"x\",\"response_b\":\"y\",\"annotator\":\"a\",\"label\":\"b\"}\r\n",
    };
}

std::vector<std::string> preflabFuzzTokens() {
    return {"\"annotator\"", "\"label\"", "\"response_a\"", "\"response_b\"", "\"prompt\"", "\"a\"", "\"skip\"",
            "\\u", "\\ud800", "\\udc00", "\\u001b", "\\u0000", "\\\"", "{", "}", "[", "]", ":", ",", "\n", "\r\n",
            "\xCC\x88", "\xE2\x80\xAE", "\xC2\x9B"};
}
