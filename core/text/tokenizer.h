#pragma once
// The tokenizer interface every model uses. Implementations are immutable after
// construction and safe to share between threads.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace preflab {

using TokenIds = std::vector<int32_t>;

struct SpecialTokens {
    int32_t bos = -1;
    int32_t eos = -1;
    int32_t pad = -1;
    int32_t sep = -1;  // between prompt and response; -1 when the format has none
};

class Tokenizer {
public:
    virtual ~Tokenizer() = default;
    virtual TokenIds encode(std::string_view text) const = 0;
    // Special tokens are dropped when skipSpecial is true.
    virtual std::string decode(const TokenIds& ids, bool skipSpecial = true) const = 0;
    virtual int32_t vocabSize() const = 0;
    virtual SpecialTokens special() const = 0;
    virtual std::string name() const = 0;

    // The ids a model sees before generating a response: BOS, prompt, separator.
    TokenIds promptIds(std::string_view prompt) const;
};

}  // namespace preflab
