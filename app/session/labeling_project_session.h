#pragma once
// A labeling project in the workbench (storage/labeling_project.h): the
// labeling view is fed the stored pairs this annotator should see next, a few
// at a time so a keypress shows the next at once. In the thumbs mode the
// items are the pairs' responses, one at a time, each labelled thumbs up or
// down (an unpaired label; a skip stores nothing and only this session
// passes the response by). The queue is read through
// the workbench's DatabaseReader and the labels go through the process's one
// StorageWriter (the run controller's), so a project adds no database thread
// or connection of its own; only plain values cross (PairForJudging out,
// Judgement in). Lives on the UI thread; every call returns at once.
#include "core/values/human_judge.h"
#include "core/values/run_state.h"  // the metatypes of PairForJudging

#include <QObject>
#include <QVector>

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace preflab {

class DatabaseReader;
class StorageWriter;

class LabelingProjectSession : public QObject {
    Q_OBJECT
public:
    LabelingProjectSession(DatabaseReader* reader, std::shared_ptr<StorageWriter> writer, int overlap,
                           LabelingMode mode = LabelingMode::Pairs, QObject* parent = nullptr);
    ~LabelingProjectSession() override;  // its labels stay queued in the writer, which outlives it

    int overlap() const { return m_overlap; }
    LabelingMode mode() const { return m_mode; }
    // Fetches the pairs waiting for `annotator` (again after a switch).
    void setAnnotator(const QString& annotator);
    // A label for a pair as the view showed it (pairIndex is the pair id).
    void label(const Judgement& judgement);
    // Thumbs mode: a thumbs up (desirable) or down on a response (the queue's
    // pairIndex is the response id), or passing it by for this session.
    void labelResponse(qint64 responseId, bool desirable, const QString& annotator, qint64 timeMs,
                       std::optional<double> seconds = std::nullopt);
    void skipResponse(qint64 responseId);
    // Edit to prefer: side `side` of the pair as shown (A: the response shown
    // first) rewritten into `text`, stored as preferred to the original (a
    // correction pair; storage/records.h PreferredEditRow). Not undone by undoLast().
    void edit(qint64 pairId, Choice side, const QString& text, const QString& annotator, qint64 timeMs,
              std::optional<double> seconds);
    // Takes the newest label of this session back; answers through undone().
    void undoLast();

Q_SIGNALS:
    // The pairs waiting for the annotator, next first (empty: nothing left).
    // Thumbs mode: one entry per response, its text as responseA.
    void queueChanged(const QVector<preflab::PairForJudging>& waiting);
    void saved(qint64 count);  // labels of this session on disk
    void undone(bool retracted, const preflab::PairForJudging& pair);
    void progress(qint64 complete, qint64 total);  // pairs (thumbs: responses) with `overlap` annotators, of all
    void failed(const QString& message);

private:
    struct Given {
        PairForJudging pair;  // thumbs mode: the response (pairIndex = its id)
        Judgement judgement;  // thumbs mode: the annotator and time of the label
        bool skipOnly = false;  // thumbs mode: a skip, which stores nothing
        uint64_t ticket = 0;  // the writer's ticket of its row
        bool onDisk = false;
    };
    void fetch();
    void showQueue(const QString& annotator, QVector<PairForJudging> waiting, qint64 complete, qint64 total);
    PairForJudging waitingItem(qint64 index) const;
    void remember(Given given);
    void onAcknowledged(uint64_t acknowledged);

    DatabaseReader* m_reader;
    std::shared_ptr<StorageWriter> m_writer;
    int m_listener = 0;
    int m_overlap;
    LabelingMode m_mode;
    std::unordered_set<qint64> m_skipped;  // thumbs mode: responses this session passed by
    QString m_annotator;
    quint64 m_request = 0;              // the newest queue request; older answers are dropped
    QVector<PairForJudging> m_waiting;  // as last sent to the view
    std::vector<Given> m_given;         // for undo, newest last
    std::unordered_map<qint64, bool> m_swapped;  // each fetched pair's order for the annotator it was fetched for
    std::deque<uint64_t> m_unacknowledged;       // tickets of writes the queue must see before it is read again
    std::deque<uint64_t> m_retractions;          // tickets of undos of labels counted as saved
    qint64 m_saved = 0;
};

}  // namespace preflab
