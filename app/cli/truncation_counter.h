#pragma once
// Counts, on a thread of its own, the imported pairs that a model's context
// would cut (PairContextCheck), so that tokenizing runs on the second core
// while the import's thread parses and writes. The import hands each pair
// over (a bounded queue: memory stays flat) and reads the count at the end.
#include "core/models/pair_context_check.h"
#include "storage/records.h"

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace preflab {

class TruncationCounter {
public:
    explicit TruncationCounter(const PairContextCheck& check);
    ~TruncationCounter();
    TruncationCounter(const TruncationCounter&) = delete;
    TruncationCounter& operator=(const TruncationCounter&) = delete;

    // Queues a pair; waits while the queue is full.
    void add(const PairRow& pair);
    // Waits for every queued pair; the number that would be cut. Rethrows
    // what the counting thread threw (a tokenizer error), once.
    int64_t finish();

private:
    struct Texts {
        std::string prompt, chosen, rejected, messages;
    };
    void work();
    void handOver();  // m_filling to the queue

    const PairContextCheck& m_check;
    std::mutex m_mutex;
    std::condition_variable m_changed;
    // Pairs travel in batches: one lock and one wake-up per batch, not per
    // pair (per pair, the handing over cost more than the tokenizing saved).
    std::vector<Texts> m_filling;
    std::deque<std::vector<Texts>> m_queue;
    bool m_closed = false;
    int64_t m_longer = 0;
    std::exception_ptr m_error;
    std::thread m_thread;
};

}  // namespace preflab
