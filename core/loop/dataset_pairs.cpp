#include "core/loop/dataset_pairs.h"

#include "core/text/context_fit.h"

namespace preflab {

std::vector<TrainablePair> DatasetPairs::draw(size_t total, size_t begin, size_t count) {
    const auto& all = m_ctx.setup.offlinePairs;
    std::vector<size_t> picked;
    const int32_t eos = m_models.eos();
    const size_t maxLen = static_cast<size_t>(m_models.policy->config().maxSeqLen);
    // Every rank walks the same cycle over the whole step's pairs and keeps
    // its own slice: together the ranks train on what one process would.
    for (size_t k = 0; k < total; ++k) {
        const size_t i = m_cycle.next(all.size(), m_ctx.seed(), 0x0FF1);
        if (k >= begin && k < begin + count) picked.push_back(i);
    }
    if (picked.empty()) return {};
    auto responseIds = [&](const std::string& text) {
        TokenIds ids = m_models.tokenizer->encode(text);
        ids.push_back(eos);
        return ids;
    };
    std::vector<TrainablePair> pairs;
    for (size_t i : picked) {
        TrainablePair t;
        t.index = static_cast<int64_t>(i);
        t.prompt = m_models.promptIds(all[i].prompt, all[i].promptMessages);
        t.chosen = responseIds(all[i].chosen);
        t.rejected = responseIds(all[i].rejected);
        // The stated rule (context_fit.h); each pair cut is counted once. Two
        // unpaired examples are fitted each with its own prompt.
        bool cut = false;
        const int32_t bos = m_models.tokenizer->special().bos;
        if (all[i].rejectedPrompt.empty()) {
            cut = fitPairToContext(t.prompt, t.chosen, t.rejected, maxLen, bos);
        } else {
            t.rejectedPrompt = m_models.promptIds(all[i].rejectedPrompt);
            TokenIds chosenCopy = t.chosen, rejectedCopy = t.rejected;
            cut = fitPairToContext(t.prompt, t.chosen, chosenCopy, maxLen, bos);
            cut = fitPairToContext(t.rejectedPrompt, t.rejected, rejectedCopy, maxLen, bos) || cut;
        }
        if (cut && m_truncated.insert(i).second) m_newlyTruncated = true;
        t.generatedAt = m_ctx.step;
        t.online = false;
        pairs.push_back(std::move(t));
    }
    m_reference.fill(pairs);
    return pairs;
}

}  // namespace preflab
