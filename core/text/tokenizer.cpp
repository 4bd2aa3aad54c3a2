#include "core/text/tokenizer.h"

namespace preflab {

TokenIds Tokenizer::promptIds(std::string_view prompt) const {
    const SpecialTokens s = special();
    TokenIds ids;
    if (s.bos >= 0) ids.push_back(s.bos);
    const TokenIds body = encode(prompt);
    ids.insert(ids.end(), body.begin(), body.end());
    if (s.sep >= 0) ids.push_back(s.sep);
    return ids;
}

}  // namespace preflab
