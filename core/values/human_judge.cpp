#include "core/values/human_judge.h"

#include <algorithm>

namespace preflab {

void HumanLabelQueue::push(const std::vector<PairForJudging>& pairs) {
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_pending.insert(m_pending.end(), pairs.begin(), pairs.end());
    }
    notify();
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
    Judgement j;
    j.pairIndex = pairIndex;
    j.choice = choice;
    j.annotator = annotator;
    return provide(j);
}

bool HumanLabelQueue::provide(const Judgement& judgement, PairForJudging* labeled) {
    std::lock_guard<std::mutex> lock(m_mutex);
    const auto it = std::find_if(m_pending.begin(), m_pending.end(),
                                 [&](const PairForJudging& p) { return p.pairIndex == judgement.pairIndex; });
    if (it == m_pending.end()) return false;
    m_judgedPairs.push_back(*it);
    if (labeled) *labeled = *it;
    m_pending.erase(it);
    Judgement j = judgement;
    j.source = LabelSource::Human;
    if (j.timeMs == 0) j.timeMs = nowMs();
    m_judged.push_back(j);
    return true;
}

bool HumanLabelQueue::retract(int64_t pairIndex) {
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        const auto it = std::find_if(m_judged.begin(), m_judged.end(),
                                     [&](const Judgement& j) { return j.pairIndex == pairIndex; });
        if (it == m_judged.end()) return false;
        const size_t at = static_cast<size_t>(it - m_judged.begin());
        m_pending.push_front(m_judgedPairs[at]);
        m_judged.erase(it);
        m_judgedPairs.erase(m_judgedPairs.begin() + static_cast<std::ptrdiff_t>(at));
    }
    notify();
    return true;
}

std::vector<Judgement> HumanLabelQueue::takeJudged() {
    std::lock_guard<std::mutex> lock(m_mutex);
    std::vector<Judgement> out;
    out.swap(m_judged);
    m_judgedPairs.clear();
    return out;
}

std::vector<PairForJudging> HumanLabelQueue::withdrawOldest(size_t count) {
    std::vector<PairForJudging> out;
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        while (count-- > 0 && !m_pending.empty()) {
            out.push_back(m_pending.front());
            m_pending.pop_front();
        }
    }
    if (!out.empty()) notify();
    return out;
}

void HumanLabelQueue::setChangeListener(std::function<void(const LabelQueueSnapshot&)> listener) {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_listener = std::move(listener);
}

void HumanLabelQueue::notify() {
    std::function<void(const LabelQueueSnapshot&)> listener;
    LabelQueueSnapshot snapshot;
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        if (!m_listener) return;
        listener = m_listener;
        snapshot.version = ++m_version;
        snapshot.waiting.assign(m_pending.begin(), m_pending.end());
    }
    listener(snapshot);
}

MixedJudge::MixedJudge(std::shared_ptr<HumanLabelQueue> queue, std::unique_ptr<Judge> fallback, size_t keepForPerson)
    : m_queue(std::move(queue)), m_fallback(std::move(fallback)), m_keep(keepForPerson) {}

void MixedJudge::submit(const std::vector<PairForJudging>& pairs) {
    m_queue->push(pairs);
}

std::vector<Judgement> MixedJudge::collect() {
    const size_t waiting = m_queue->pendingCount();
    if (waiting > m_keep) m_fallback->submit(m_queue->withdrawOldest(waiting - m_keep));
    std::vector<Judgement> out = m_queue->takeJudged();
    for (Judgement& j : m_fallback->collect()) out.push_back(std::move(j));
    return out;
}

size_t MixedJudge::outstanding() const {
    // Pairs beyond what the person keeps are handed on at the next collect, so
    // they never hold up generation.
    return std::min(m_queue->pendingCount(), m_keep) + m_fallback->outstanding();
}

}  // namespace preflab
