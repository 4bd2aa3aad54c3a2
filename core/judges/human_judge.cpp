#include "core/judges/human_judge.h"

#include <algorithm>

namespace preflab {

void HumanLabelQueue::push(const std::vector<PairForJudging>& pairs) {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_pending.insert(m_pending.end(), pairs.begin(), pairs.end());
}

std::vector<PairForJudging> HumanLabelQueue::pending() const {
    std::lock_guard<std::mutex> lock(m_mutex);
    return {m_pending.begin(), m_pending.end()};
}

size_t HumanLabelQueue::pendingCount() const {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_pending.size();
}

bool HumanLabelQueue::provide(int64_t pairIndex, Choice choice, const std::string& annotator) {
    std::lock_guard<std::mutex> lock(m_mutex);
    const auto it = std::find_if(m_pending.begin(), m_pending.end(),
                                 [&](const PairForJudging& p) { return p.pairIndex == pairIndex; });
    if (it == m_pending.end()) return false;
    m_pending.erase(it);
    m_judged.push_back({pairIndex, choice, LabelSource::Human, annotator, nowMs()});
    return true;
}

std::vector<Judgement> HumanLabelQueue::takeJudged() {
    std::lock_guard<std::mutex> lock(m_mutex);
    std::vector<Judgement> out;
    out.swap(m_judged);
    return out;
}

}  // namespace preflab
