// Fuzz target: tokenizer.json parsing (byte-level and SentencePiece-style) must either build a tokenizer or throw
// std::runtime_error; a tokenizer it builds must encode and decode without
// crashing. Seeds: small byte-level BPE files of the shapes GPT-2 and Llama 3
// use. See standalone_fuzz_driver.cpp.
#include "core/hf/bpe_tokenizer.h"

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    try {
        const auto t = preflab::BpeTokenizer::fromJsonText(std::string(reinterpret_cast<const char*>(data), size), "fuzz-input");
        for (const char* text : {"Hello world", "  a\tb\n", "naïve 😀 123", "<|endoftext|>x"}) {
            const preflab::TokenIds ids = t->encode(text);
            (void)t->decode(ids, false);
        }
    } catch (const std::runtime_error&) {
    }
    return 0;
}

std::vector<std::string> preflabFuzzSeeds() {
    const std::string vocab = R"({"H":0,"e":1,"l":2,"o":3,"Ġ":4,"w":5,"r":6,"d":7,"He":8,"ll":9,"Hell":10,"Hello":11,"Ġw":12,"a":13,"b":14})";
    const std::string added = R"("added_tokens":[{"id":15,"content":"<|endoftext|>","special":true}])";
    const std::string spVocab = R"({"<unk>":0,"<s>":1,"</s>":2,"<0x0A>":3,"<0xC3>":4,"\u2581":5,"H":6,"e":7,"l":8,"o":9,"\u2581H":10,"ll":11})";
    return {
        R"({"model":{"type":"BPE","byte_fallback":true,"unk_token":"<unk>","vocab":)" + spVocab +
            R"(,"merges":["\u2581 H","l l"]},"normalizer":{"type":"Sequence","normalizers":[{"type":"Prepend","prepend":"\u2581"},)"
            R"({"type":"Replace","pattern":{"String":" "},"content":"\u2581"}]},"pre_tokenizer":null,)"
            R"("added_tokens":[{"id":1,"content":"<s>","special":true}]})",
        R"({"model":{"type":"BPE","vocab":)" + vocab + R"(,"merges":["H e","l l","He ll","Hell o","Ġ w"]},)" + added +
            R"(,"pre_tokenizer":{"type":"ByteLevel","add_prefix_space":false,"use_regex":true}})",
        R"({"normalizer":{"type":"NFC"},"model":{"type":"BPE","ignore_merges":true,"vocab":)" + vocab +
            R"(,"merges":[["H","e"],["l","l"]]},)" + added +
            R"(,"pre_tokenizer":{"type":"Sequence","pretokenizers":[{"type":"Split","pattern":{"Regex":"\\p{N}{1,3}| ?\\p{L}+|\\s+"},"behavior":"Isolated","invert":false},{"type":"ByteLevel","add_prefix_space":true,"use_regex":false}]}})",
    };
}
