#pragma once
// Byte-level BPE tokenizers read from a Hugging Face tokenizer.json (GPT-2,
// Llama 3, Qwen2, SmolLM): added/special tokens split out first, then the
// pre-tokenizer regex (GPT-2's built-in pattern, or a Split pattern from the
// file), the byte-to-unicode mapping, and merges by rank. Optional NFC
// normaliser (Qwen2) and "ignore_merges" (Llama 3: a piece already in the
// vocabulary is one token). Regexes run on Qt's PCRE2, which has the Unicode
// classes (\p{L}, \p{N}) and lookahead these patterns need. Input is UTF-8
// (as Hugging Face's str); an invalid sequence is encoded as U+FFFD.
// SentencePiece-style BPE with byte fallback (Llama 2, TinyLlama): spaces as
// U+2581 with one prepended, merges on characters, unknown symbols as <0xXX>
// byte tokens. Plain C++ and QtCore.
#include "core/text/tokenizer.h"

#include <memory>
#include <string>

class QJsonObject;

namespace preflab {

class BpeTokenizer final : public Tokenizer {
public:
    // Reads `tokenizerJson` (and, when given, tokenizer_config.json for the
    // BOS/EOS/PAD names). Throws std::runtime_error naming the file and what
    // is wrong or unsupported.
    explicit BpeTokenizer(const std::string& tokenizerJson, const std::string& tokenizerConfigJson = {});
    // From the text of a tokenizer.json; `name` stands for the file in errors.
    static std::unique_ptr<BpeTokenizer> fromJsonText(const std::string& json, const std::string& name);
    ~BpeTokenizer() override;

    TokenIds encode(std::string_view text) const override;
    std::string decode(const TokenIds& ids, bool skipSpecial = true) const override;
    int32_t vocabSize() const override;
    SpecialTokens special() const override;
    std::string name() const override { return "hf-bpe"; }
    // The token's string as stored in the vocabulary (byte-level symbols).
    std::string tokenText(int32_t id) const;

private:
    BpeTokenizer();
    void init(const QJsonObject& root, const std::string& name, const std::string& configPath);
    struct Impl;
    std::unique_ptr<Impl> d;
};

// Reads a model folder's tokenizer.json (+ tokenizer_config.json when present).
std::unique_ptr<BpeTokenizer> loadFolderTokenizer(const std::string& folder);

}  // namespace preflab
