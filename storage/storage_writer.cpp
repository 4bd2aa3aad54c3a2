#include "storage/storage_writer.h"

#include "storage/database.h"
#include "storage/metric_store.h"
#include "storage/preference_store.h"
#include "storage/run_store.h"

namespace preflab {
namespace {

// Batches larger than this are split so a commit never holds the lock for long.
constexpr size_t kMaxBatch = 2000;

struct Applier {
    PreferenceStore& prefs;
    MetricStore& metrics;
    RunStore& runs;
    void operator()(const PairRow& r) { prefs.insertPair(r); }
    void operator()(const LabelRow& r) { prefs.insertLabel(r); }
    void operator()(const RatingRow& r) { prefs.insertRating(r); }
    void operator()(const LabelRetraction& r) { prefs.retractLabel(r); }
    void operator()(const TrainedMark& r) { prefs.markTrained(r); }
    void operator()(const MetricRow& r) { metrics.insert({r}); }
    void operator()(const CheckpointRow& r) { metrics.insertCheckpoint(r); }
    void operator()(const CheckpointPrune& r) { metrics.deleteCheckpoint(r); }
    void operator()(const RunEventRow& r) { metrics.insertEvent(r); }
    void operator()(const EvalSampleRow& r) { metrics.insertEvalSample(r); }
    void operator()(const RunStatusUpdate& r) { runs.update(r); }
};

}  // namespace

StorageWriter::StorageWriter(std::string path, ErrorHandler onError, AckHandler onAck)
    : m_path(std::move(path)), m_onError(std::move(onError)), m_onAck(std::move(onAck)) {
    m_thread = std::thread([this] { run(); });
}

StorageWriter::~StorageWriter() {
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_stopping = true;
    }
    m_wake.notify_all();
    m_thread.join();
}

void StorageWriter::enqueue(WriteOp op) {
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_queue.push_back(std::move(op));
        ++m_enqueued;
    }
    m_wake.notify_one();
}

void StorageWriter::enqueue(std::vector<WriteOp> ops) {
    if (ops.empty()) return;
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        for (auto& op : ops) m_queue.push_back(std::move(op));
        m_enqueued += ops.size();
    }
    m_wake.notify_one();
}

bool StorageWriter::flush() {
    std::unique_lock<std::mutex> lock(m_mutex);
    const uint64_t target = m_enqueued;
    m_done.wait(lock, [&] { return m_acknowledged >= target || m_failed; });
    return !m_failed;
}

void StorageWriter::retry() {
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_failed = false;
    }
    m_wake.notify_one();
}

uint64_t StorageWriter::acknowledged() const {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_acknowledged;
}

uint64_t StorageWriter::enqueued() const {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_enqueued;
}

void StorageWriter::run() {
    std::unique_ptr<Database> db;
    std::string openError;
    try {
        db = Database::open(m_path, Database::Mode::OpenExisting);
    } catch (const std::exception& e) {
        openError = e.what();
    }
    for (;;) {
        std::vector<WriteOp> batch;
        {
            std::unique_lock<std::mutex> lock(m_mutex);
            m_wake.wait(lock, [&] { return m_stopping || (!m_queue.empty() && !m_failed); });
            if (m_queue.empty() || (m_failed && m_stopping)) {
                if (m_stopping) break;
                continue;
            }
            const size_t n = std::min(kMaxBatch, m_queue.size());
            batch.assign(std::make_move_iterator(m_queue.begin()), std::make_move_iterator(m_queue.begin() + static_cast<long>(n)));
            m_queue.erase(m_queue.begin(), m_queue.begin() + static_cast<long>(n));
        }
        std::string error = openError;
        if (db) {
            try {
                PreferenceStore prefs(*db);
                MetricStore metrics(*db);
                RunStore runs(*db);
                Applier apply{prefs, metrics, runs};
                Transaction tx(db->connection());
                for (const WriteOp& op : batch) std::visit(apply, op);
                tx.commit();
            } catch (const std::exception& e) {
                error = e.what();
            }
        }
        uint64_t acked = 0;
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            if (error.empty()) {
                m_acknowledged += batch.size();
            } else {
                // Keep the rows, in order, for retry(); nothing of this batch is on disk.
                m_queue.insert(m_queue.begin(), std::make_move_iterator(batch.begin()), std::make_move_iterator(batch.end()));
            }
            acked = m_acknowledged;
        }
        // Report before flush() returns: a caller that sees `false` has had the message.
        if (error.empty()) {
            if (m_onAck) m_onAck(acked);
        } else if (m_onError) {
            m_onError(error);
        }
        if (!error.empty()) {
            std::lock_guard<std::mutex> lock(m_mutex);
            m_failed = true;
        }
        m_done.notify_all();
    }
}

}  // namespace preflab
