#include "core/nn/sequence_batch.h"

#include "core/nn/transformer.h"

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

SharedPairBatch packSharedPairs(const std::vector<TokenIds>& prompts, const std::vector<TokenIds>& chosen,
                                const std::vector<TokenIds>& rejected, int32_t pad) {
    if (prompts.size() != chosen.size() || prompts.size() != rejected.size()) {
        throw std::invalid_argument("packSharedPairs: prompts/chosen/rejected differ in count");
    }
    const int64_t N = static_cast<int64_t>(prompts.size());
    size_t longest = 1, targets = 1;
    for (int64_t i = 0; i < N; ++i) {
        longest = std::max(longest, prompts[i].size() + chosen[i].size() + rejected[i].size());
        targets = std::max(targets, chosen[i].size() + rejected[i].size());
    }
    const int64_t T = static_cast<int64_t>(longest), L = static_cast<int64_t>(targets);
    SharedPairBatch b;
    b.seq.ids = at::full({N, T}, pad, at::kLong);
    b.seq.attention = at::zeros({N, T}, at::kLong);
    b.seq.responseMask = at::zeros({N, T}, at::kFloat);
    b.sources = at::zeros({N, L}, at::kLong);
    b.targets = at::full({N, L}, pad, at::kLong);
    b.chosenMask = at::zeros({N, L}, at::kFloat);
    b.rejectedMask = at::zeros({N, L}, at::kFloat);
    auto ids = b.seq.ids.accessor<int64_t, 2>();
    auto att = b.seq.attention.accessor<int64_t, 2>();
    auto src = b.sources.accessor<int64_t, 2>();
    auto tgt = b.targets.accessor<int64_t, 2>();
    auto cm = b.chosenMask.accessor<float, 2>();
    auto rm = b.rejectedMask.accessor<float, 2>();
    for (int64_t i = 0; i < N; ++i) {
        int64_t t = 0, k = 0;
        for (int32_t id : prompts[i]) {
            ids[i][t] = id;
            att[i][t++] = kSharedPrefix;
        }
        const int64_t lastPrompt = t - 1;  // -1: no prompt, the first token of each response has no context
        for (int32_t id : chosen[i]) {
            if (t > 0) {
                src[i][k] = t - 1;
                tgt[i][k] = id;
                cm[i][k++] = 1.0f;
            }
            ids[i][t] = id;
            att[i][t++] = kFirstBranch;
        }
        for (size_t j = 0; j < rejected[i].size(); ++j) {
            // The first rejected token follows the prompt, not the chosen response.
            const int64_t from = j == 0 ? lastPrompt : t - 1;
            if (from >= 0) {
                src[i][k] = from;
                tgt[i][k] = rejected[i][j];
                rm[i][k++] = 1.0f;
            }
            ids[i][t] = rejected[i][j];
            att[i][t++] = kSecondBranch;
        }
    }
    return b;
}

at::Tensor sharedPairLogprobs(const at::Tensor& logits, const SharedPairBatch& batch) {
    const int64_t N = logits.size(0), L = batch.sources.size(1), V = logits.size(2);
    const at::Tensor rows = logits.gather(1, batch.sources.unsqueeze(-1).expand({N, L, V}));
    const at::Tensor picked = rows.gather(-1, batch.targets.unsqueeze(-1)).squeeze(-1) - rows.logsumexp(-1);
    const auto type = picked.scalar_type();
    return at::cat({(picked * batch.chosenMask.to(type)).sum(1), (picked * batch.rejectedMask.to(type)).sum(1)});
}

}  // namespace preflab
