#pragma once
// Byte-level tokenizer of the built-in model: ids 0..255 are the UTF-8 bytes,
// followed by BOS, EOS, PAD and SEP. Lossless for any byte string.
#include "core/text/tokenizer.h"

namespace preflab {

class ByteTokenizer final : public Tokenizer {
public:
    static constexpr int32_t kBos = 256;
    static constexpr int32_t kEos = 257;
    static constexpr int32_t kPad = 258;
    static constexpr int32_t kSep = 259;
    static constexpr int32_t kVocabSize = 260;

    TokenIds encode(std::string_view text) const override;
    std::string decode(const TokenIds& ids, bool skipSpecial = true) const override;
    int32_t vocabSize() const override { return kVocabSize; }
    SpecialTokens special() const override { return {kBos, kEos, kPad, kSep}; }
    std::string name() const override { return "byte"; }
};

}  // namespace preflab
