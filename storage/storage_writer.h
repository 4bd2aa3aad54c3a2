#pragma once
// Writes rows on its own thread with its own connection, so neither training
// nor drawing waits on disk. Rows queued together are committed in one
// transaction; a commit that fails (disk full, ...) rolls back as a whole, is
// reported through the error callback, and the rows stay queued for retry().
// acknowledged() counts rows known to be on disk.
#include "storage/records.h"

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <variant>

namespace preflab {

using WriteOp =
    std::variant<PairRow, LabelRow, RatingRow, LabelRetraction, TrainedMark, MetricRow, CheckpointRow, CheckpointPrune,
                 RunEventRow, EvalSampleRow, RunStatusUpdate>;

class StorageWriter {
public:
    using ErrorHandler = std::function<void(const std::string&)>;
    using AckHandler = std::function<void(uint64_t acknowledged)>;

    // Opens its own connection to `path` (which must already have the schema).
    explicit StorageWriter(std::string path, ErrorHandler onError = {}, AckHandler onAck = {});
    ~StorageWriter();  // flushes what is queued, then stops
    StorageWriter(const StorageWriter&) = delete;
    StorageWriter& operator=(const StorageWriter&) = delete;

    void enqueue(WriteOp op);
    void enqueue(std::vector<WriteOp> ops);
    // Blocks until everything enqueued before the call is committed or failed.
    // Returns false if a commit failed (the error was reported).
    bool flush();
    // After a failure: try the rows still queued again.
    void retry();
    uint64_t acknowledged() const;
    uint64_t enqueued() const;

private:
    void run();

    std::string m_path;
    ErrorHandler m_onError;
    AckHandler m_onAck;
    mutable std::mutex m_mutex;
    std::condition_variable m_wake, m_done;
    std::deque<WriteOp> m_queue;
    uint64_t m_enqueued = 0, m_acknowledged = 0;
    bool m_stopping = false, m_failed = false, m_busy = false;
    std::thread m_thread;
};

}  // namespace preflab
