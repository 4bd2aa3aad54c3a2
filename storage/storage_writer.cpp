#include "storage/storage_writer.h"

#include "storage/database.h"
#include "storage/guidelines_store.h"
#include "storage/metric_store.h"
#include "storage/preference_store.h"
#include "storage/response_label_store.h"
#include "storage/run_store.h"

#include <algorithm>
#include <future>

namespace preflab {

struct RunCreation {
    RunRow row;
    std::promise<int64_t> id;
};

namespace {

// Batches larger than this are split so a commit never holds the lock for long.
constexpr size_t kMaxBatch = 2000;

struct Applier {
    PreferenceStore& prefs;
    MetricStore& metrics;
    RunStore& runs;
    ResponseLabelStore& responses;
    GuidelinesStore& guidelines;
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
    void operator()(const ResponseLabelRow& r) { responses.insert(r); }
    void operator()(const ResponseLabelRetraction& r) { responses.retract(r); }
    void operator()(const GuidelinesRow& r) { guidelines.insert(r); }
    void operator()(const PreferredEditRow& r) { prefs.insertPreferredEdit(r); }
    void operator()(const RefLogprobRow& r) { prefs.storeRefLogprobs(r); }
    // The id is handed over after the commit (run() does it): a creator never
    // sees the id of a row that was rolled back.
    void operator()(const std::shared_ptr<RunCreation>& r) { r->row.id = runs.create(r->row); }
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

uint64_t StorageWriter::enqueue(WriteOp op) {
    uint64_t ticket = 0;
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_queue.push_back(std::move(op));
        ticket = ++m_enqueued;
    }
    m_wake.notify_one();
    return ticket;
}

uint64_t StorageWriter::enqueue(std::vector<WriteOp> ops) {
    uint64_t ticket = 0;
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        for (auto& op : ops) m_queue.push_back(std::move(op));
        m_enqueued += ops.size();
        ticket = m_enqueued;
    }
    if (!ops.empty()) m_wake.notify_one();
    return ticket;
}

int64_t StorageWriter::createRun(const RunRow& row) {
    auto creation = std::make_shared<RunCreation>();
    creation->row = row;
    std::future<int64_t> id = creation->id.get_future();
    enqueue(WriteOp{creation});
    return id.get();  // the commit's error, rethrown here
}

int StorageWriter::addAckListener(AckHandler listener) {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_listeners.emplace_back(m_nextListener, std::move(listener));
    return m_nextListener++;
}

void StorageWriter::removeAckListener(int id) {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_listeners.erase(std::remove_if(m_listeners.begin(), m_listeners.end(), [id](const auto& l) { return l.first == id; }),
                      m_listeners.end());
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
                ResponseLabelStore responses(*db);
                GuidelinesStore guidelines(*db);
                Applier apply{prefs, metrics, runs, responses, guidelines};
                Transaction tx(db->connection());
                for (const WriteOp& op : batch) std::visit(apply, op);
                tx.commit();
            } catch (const std::exception& e) {
                error = e.what();
            }
        }
        // A run's creator waits for its id: it gets the id once committed, or
        // the error (its row is not retried: the creator fails instead).
        std::vector<WriteOp> kept;
        for (WriteOp& op : batch) {
            auto* creation = std::get_if<std::shared_ptr<RunCreation>>(&op);
            if (!creation) {
                if (!error.empty()) kept.push_back(std::move(op));
                continue;
            }
            if (error.empty()) {
                (*creation)->id.set_value((*creation)->row.id);
            } else {
                (*creation)->id.set_exception(std::make_exception_ptr(StorageError(error)));
            }
        }
        uint64_t acked = 0;
        std::vector<AckHandler> listeners;
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            if (error.empty()) {
                m_acknowledged += batch.size();
            } else {
                // Keep the rows, in order, for retry(); nothing of this batch is on disk.
                m_acknowledged += batch.size() - kept.size();  // the refused run creations are answered
                m_queue.insert(m_queue.begin(), std::make_move_iterator(kept.begin()), std::make_move_iterator(kept.end()));
            }
            acked = m_acknowledged;
            for (const auto& l : m_listeners) listeners.push_back(l.second);
        }
        // Report before flush() returns: a caller that sees `false` has had the message.
        if (error.empty()) {
            if (m_onAck) m_onAck(acked);
            for (const AckHandler& l : listeners) l(acked);
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
