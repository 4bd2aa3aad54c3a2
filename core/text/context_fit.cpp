#include "core/text/context_fit.h"

#include <algorithm>

namespace preflab {

bool fitPairToContext(TokenIds& prompt, TokenIds& chosen, TokenIds& rejected, size_t context, int32_t bos) {
    context = std::max<size_t>(context, 4);
    const size_t longest = std::max(chosen.size(), rejected.size());
    if (prompt.size() + longest <= context) return false;
    bool cut = false;
    const size_t promptLimit = context / 2;
    if (prompt.size() > promptLimit && prompt.size() + longest > context) {
        const bool keepBos = bos >= 0 && !prompt.empty() && prompt.front() == bos;
        const size_t tail = promptLimit - (keepBos ? 1 : 0);
        TokenIds kept;
        if (keepBos) kept.push_back(prompt.front());
        kept.insert(kept.end(), prompt.end() - static_cast<std::ptrdiff_t>(tail), prompt.end());
        prompt = std::move(kept);
        cut = true;
    }
    const size_t room = context - prompt.size();
    for (TokenIds* r : {&chosen, &rejected}) {
        if (r->size() > room) {
            r->resize(room);
            cut = true;
        }
    }
    return cut;
}

}  // namespace preflab
