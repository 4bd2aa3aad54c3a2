#pragma once
// A person judges: pairs wait in a thread-safe queue that the GUI (or the CLI's
// terminal prompt) reads, and labels come back through provide(). The training
// thread only submits and collects.
#include "core/judges/judge.h"

#include <deque>
#include <memory>
#include <mutex>

namespace preflab {

class HumanLabelQueue {
public:
    void push(const std::vector<PairForJudging>& pairs);
    // Pairs still waiting for a label, oldest first.
    std::vector<PairForJudging> pending() const;
    size_t pendingCount() const;
    // Labels a waiting pair; false when the pair is not waiting (already labeled).
    bool provide(int64_t pairIndex, Choice choice, const std::string& annotator);
    std::vector<Judgement> takeJudged();

private:
    mutable std::mutex m_mutex;
    std::deque<PairForJudging> m_pending;
    std::vector<Judgement> m_judged;
};

class HumanJudge final : public Judge {
public:
    explicit HumanJudge(std::shared_ptr<HumanLabelQueue> queue) : m_queue(std::move(queue)) {}
    LabelSource source() const override { return LabelSource::Human; }
    void submit(const std::vector<PairForJudging>& pairs) override { m_queue->push(pairs); }
    std::vector<Judgement> collect() override { return m_queue->takeJudged(); }
    size_t outstanding() const override { return m_queue->pendingCount(); }
    const std::shared_ptr<HumanLabelQueue>& queue() const { return m_queue; }

private:
    std::shared_ptr<HumanLabelQueue> m_queue;
};

}  // namespace preflab
