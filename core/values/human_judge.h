#pragma once
// A person judges: pairs wait in a thread-safe queue that the GUI (or the CLI's
// terminal prompt) reads, and labels come back through provide(). The training
// thread only submits and collects. Any thread may call any member.
#include "core/values/judge.h"

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>

namespace preflab {

// What taking back the last label did: nothing to take back; Retracted, the
// pair waits again and the label never reaches the run; AlreadyUsed, the run
// had collected it, so the person corrects it with a newer label instead.
enum class UndoResult { Nothing, Retracted, AlreadyUsed };

// The pairs waiting for a person at one moment. `version` grows with every
// change, so a reader that receives snapshots out of order keeps the newest.
struct LabelQueueSnapshot {
    uint64_t version = 0;
    std::vector<PairForJudging> waiting;  // oldest first
};

class HumanLabelQueue {
public:
    void push(const std::vector<PairForJudging>& pairs);
    // Pairs still waiting for a label, oldest first.
    std::vector<PairForJudging> pending() const;
    size_t pendingCount() const;
    // Labels a waiting pair; false when the pair is not waiting (already
    // labeled, or withdrawn for another judge).
    bool provide(int64_t pairIndex, Choice choice, const std::string& annotator);
    // The same with the person's ratings of A and B (rating mode); *labeled
    // receives the pair that was labeled.
    bool provide(const Judgement& judgement, PairForJudging* labeled = nullptr);
    // Takes back a label the training thread has not collected yet and puts the
    // pair back at the front of the queue. False once the label was collected.
    bool retract(int64_t pairIndex);
    std::vector<Judgement> takeJudged();
    // Removes up to `count` of the oldest waiting pairs (for a fallback judge).
    std::vector<PairForJudging> withdrawOldest(size_t count);
    // Called (on the changing thread, outside the lock) with the waiting pairs
    // after pairs arrive, are withdrawn or are put back by retract().
    void setChangeListener(std::function<void(const LabelQueueSnapshot&)> listener);

private:
    void notify();
    mutable std::mutex m_mutex;
    std::deque<PairForJudging> m_pending;
    std::vector<Judgement> m_judged;
    std::vector<PairForJudging> m_judgedPairs;  // parallel to m_judged, for retract()
    std::function<void(const LabelQueueSnapshot&)> m_listener;
    uint64_t m_version = 0;
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
