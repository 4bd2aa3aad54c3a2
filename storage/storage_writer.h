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
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <variant>

namespace preflab {

struct RunCreation;  // a new run's row; its id goes back to the creator (createRun)

using WriteOp = std::variant<PairRow, LabelRow, RatingRow, LabelRetraction, TrainedMark, MetricRow, CheckpointRow,
                             CheckpointPrune, RunEventRow, EvalSampleRow, RunStatusUpdate, ResponseLabelRow,
                             ResponseLabelRetraction, GuidelinesRow, PreferredEditRow, RefLogprobRow, std::shared_ptr<RunCreation>>;

class StorageWriter {
public:
    using ErrorHandler = std::function<void(const std::string&)>;
    using AckHandler = std::function<void(uint64_t acknowledged)>;

    // Opens its own connection to `path` (which must already have the schema).
    explicit StorageWriter(std::string path, ErrorHandler onError = {}, AckHandler onAck = {});
    ~StorageWriter();  // flushes what is queued, then stops
    StorageWriter(const StorageWriter&) = delete;
    StorageWriter& operator=(const StorageWriter&) = delete;

    // Each returns the ticket of its last row: the rows are on disk once
    // acknowledged() reaches it.
    uint64_t enqueue(WriteOp op);
    uint64_t enqueue(std::vector<WriteOp> ops);
    // Stores a new run's row after what is queued, and returns its id once
    // committed; throws StorageError with the reason when it cannot be.
    // Blocks the calling thread (never call it on the UI thread).
    int64_t createRun(const RunRow& row);
    // Called (on the writer's thread) with acknowledged() after every commit,
    // beside the handler given at construction. Returns an id for removeAckListener.
    int addAckListener(AckHandler listener);
    void removeAckListener(int id);
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
    std::vector<std::pair<int, AckHandler>> m_listeners;  // guarded by m_mutex
    int m_nextListener = 1;
    std::condition_variable m_wake, m_done;
    std::deque<WriteOp> m_queue;
    uint64_t m_enqueued = 0, m_acknowledged = 0;
    bool m_stopping = false, m_failed = false, m_busy = false;
    std::thread m_thread;
};

}  // namespace preflab
