#include "core/nn/sequence_batch.h"

#include <algorithm>
#include <stdexcept>

namespace preflab {

SequenceBatch packSequences(const std::vector<TokenIds>& prompts, const std::vector<TokenIds>& responses, int32_t pad) {
    if (prompts.size() != responses.size()) throw std::invalid_argument("packSequences: prompts/responses differ in count");
    const int64_t B = static_cast<int64_t>(prompts.size());
    size_t longest = 1;
    for (int64_t b = 0; b < B; ++b) longest = std::max(longest, prompts[b].size() + responses[b].size());
    const int64_t T = static_cast<int64_t>(longest);
    SequenceBatch batch;
    batch.ids = at::full({B, T}, pad, at::kLong);
    batch.attention = at::zeros({B, T}, at::kLong);
    batch.responseMask = at::zeros({B, T}, at::kFloat);
    auto ids = batch.ids.accessor<int64_t, 2>();
    auto att = batch.attention.accessor<int64_t, 2>();
    auto resp = batch.responseMask.accessor<float, 2>();
    for (int64_t b = 0; b < B; ++b) {
        int64_t t = 0;
        for (int32_t id : prompts[b]) {
            ids[b][t] = id;
            att[b][t++] = 1;
        }
        for (int32_t id : responses[b]) {
            ids[b][t] = id;
            att[b][t] = 1;
            resp[b][t++] = 1.0f;
        }
    }
    return batch;
}

at::Tensor responseTokenLogprobs(const at::Tensor& logits, const SequenceBatch& batch) {
    const int64_t T = batch.ids.size(1);
    const at::Tensor shifted = logits.narrow(1, 0, T - 1);
    const at::Tensor targets = batch.ids.narrow(1, 1, T - 1).unsqueeze(-1);
    // log_softmax(x)[y] = x[y] - logsumexp(x): avoids materialising the full log-softmax.
    const at::Tensor picked = shifted.gather(-1, targets).squeeze(-1) - shifted.logsumexp(-1);
    return picked * batch.responseMask.narrow(1, 1, T - 1).to(picked.scalar_type());
}

at::Tensor sequenceLogprobs(const at::Tensor& logits, const SequenceBatch& batch) {
    return responseTokenLogprobs(logits, batch).sum(1);
}

}  // namespace preflab
