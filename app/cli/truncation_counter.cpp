#include "app/cli/truncation_counter.h"

#include <utility>

namespace preflab {
namespace {
constexpr size_t kBatch = 512;   // pairs handed over at once
constexpr size_t kQueued = 8;    // batches in flight: a few MB of text at most
}

TruncationCounter::TruncationCounter(const PairContextCheck& check) : m_check(check), m_thread([this] { work(); }) {}

TruncationCounter::~TruncationCounter() {
    try {
        finish();
    } catch (...) {  // a destructor: the import's own outcome stands
    }
}

void TruncationCounter::add(const PairRow& pair) {
    m_filling.push_back({pair.prompt, pair.a.text, pair.b.text, pair.promptMessagesJson});
    if (m_filling.size() >= kBatch) handOver();
}

void TruncationCounter::handOver() {
    std::unique_lock<std::mutex> lock(m_mutex);
    m_changed.wait(lock, [&] { return m_queue.size() < kQueued; });
    m_queue.push_back(std::move(m_filling));
    m_filling.clear();
    m_changed.notify_all();
}

int64_t TruncationCounter::finish() {
    if (!m_filling.empty()) handOver();
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_closed = true;
        m_changed.notify_all();
    }
    if (m_thread.joinable()) m_thread.join();
    if (m_error) std::rethrow_exception(std::exchange(m_error, nullptr));
    return m_longer;
}

void TruncationCounter::work() {
    for (;;) {
        std::vector<Texts> batch;
        {
            std::unique_lock<std::mutex> lock(m_mutex);
            m_changed.wait(lock, [&] { return m_closed || !m_queue.empty(); });
            if (m_queue.empty()) return;
            batch = std::move(m_queue.front());
            m_queue.pop_front();
            m_changed.notify_all();
        }
        // Only this thread touches the count and the error until finish()
        // has joined it. After an error it keeps taking batches, so that
        // add() never waits for room that would not come.
        if (m_error) continue;
        try {
            for (const Texts& t : batch) m_longer += m_check.wouldTruncate(t.prompt, t.chosen, t.rejected, t.messages);
        } catch (...) {
            m_error = std::current_exception();
        }
    }
}

}  // namespace preflab
