#include "core/text/byte_tokenizer.h"

namespace preflab {

TokenIds ByteTokenizer::encode(std::string_view text) const {
    TokenIds ids;
    ids.reserve(text.size());
    for (unsigned char c : text) ids.push_back(static_cast<int32_t>(c));
    return ids;
}

std::string ByteTokenizer::decode(const TokenIds& ids, bool skipSpecial) const {
    static const char* const names[] = {"<bos>", "<eos>", "<pad>", "<sep>"};
    std::string out;
    out.reserve(ids.size());
    for (int32_t id : ids) {
        if (id >= 0 && id < 256) {
            out.push_back(static_cast<char>(id));
        } else if (!skipSpecial && id >= kBos && id < kVocabSize) {
            out += names[id - kBos];
        } else if (!skipSpecial) {
            out += "<unk>";
        }
    }
    return out;
}

}  // namespace preflab
