#pragma once
// A person judges: pairs wait in a thread-safe queue that the GUI (or the CLI's
// terminal prompt) reads, and labels come back through provide(). The training
// thread only submits and collects. Any thread may call any member.
#include "core/judges/judge.h"

#include <deque>
#include <functional>
#include <memory>
#include <mutex>

namespace preflab {

class HumanLabelQueue {
public:
    void push(const std::vector<PairForJudging>& pairs);
    // Pairs still waiting for a label, oldest first.
    std::vector<PairForJudging> pending() const;
    size_t pendingCount() const;
    // Labels a waiting pair; false when the pair is not waiting (already
    // labeled, or withdrawn for another judge).
    bool provide(int64_t pairIndex, Choice choice, const std::string& annotator);
    // The same with the person's ratings of A and B (rating mode).
    bool provide(const Judgement& judgement);
    // Takes back a label the training thread has not collected yet and puts the
    // pair back at the front of the queue. False once the label was collected.
    bool retract(int64_t pairIndex);
    std::vector<Judgement> takeJudged();
    // Removes up to `count` of the oldest waiting pairs (for a fallback judge).
    std::vector<PairForJudging> withdrawOldest(size_t count);
    // Called (on the pushing thread, outside the lock) after pairs arrive or leave.
    void setChangeListener(std::function<void()> listener);

private:
    void notify();
    mutable std::mutex m_mutex;
    std::deque<PairForJudging> m_pending;
    std::vector<Judgement> m_judged;
    std::vector<PairForJudging> m_judgedPairs;  // parallel to m_judged, for retract()
    std::function<void()> m_listener;
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

// A person labels what they can; when more than `keepForPerson` pairs wait, the
// oldest ones go to the fallback judge (task or self), so training never
// stalls on the person. Each label keeps its real source.
class MixedJudge final : public Judge {
public:
    MixedJudge(std::shared_ptr<HumanLabelQueue> queue, std::unique_ptr<Judge> fallback, size_t keepForPerson);
    LabelSource source() const override { return LabelSource::Human; }
    void submit(const std::vector<PairForJudging>& pairs) override;
    std::vector<Judgement> collect() override;
    size_t outstanding() const override;

private:
    std::shared_ptr<HumanLabelQueue> m_queue;
    std::unique_ptr<Judge> m_fallback;
    size_t m_keep;
};

}  // namespace preflab
