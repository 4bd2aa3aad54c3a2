#pragma once
// A labeling project in the workbench (storage/labeling_project.h): the
// labeling view is fed the stored pairs this annotator should see next, a few
// at a time so a keypress shows the next at once. The queue is read through
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
#include <unordered_map>
#include <vector>

namespace preflab {

class DatabaseReader;
class StorageWriter;

class LabelingProjectSession : public QObject {
    Q_OBJECT
public:
    LabelingProjectSession(DatabaseReader* reader, std::shared_ptr<StorageWriter> writer, int overlap,
                           QObject* parent = nullptr);
    ~LabelingProjectSession() override;  // its labels stay queued in the writer, which outlives it

    int overlap() const { return m_overlap; }
    // Fetches the pairs waiting for `annotator` (again after a switch).
    void setAnnotator(const QString& annotator);
    // A label for a pair as the view showed it (pairIndex is the pair id).
    void label(const Judgement& judgement);
    // Takes the newest label of this session back; answers through undone().
    void undoLast();

Q_SIGNALS:
    // The pairs waiting for the annotator, next first (empty: nothing left).
    void queueChanged(const QVector<preflab::PairForJudging>& waiting);
    void saved(qint64 count);  // labels of this session on disk
    void undone(bool retracted, const preflab::PairForJudging& pair);
    void progress(qint64 complete, qint64 total);  // pairs with `overlap` annotators, of all
    void failed(const QString& message);

private:
    struct Given {
        PairForJudging pair;
        Judgement judgement;
        uint64_t ticket = 0;  // the writer's ticket of its row
        bool onDisk = false;
    };
    void fetch();
    void onAcknowledged(uint64_t acknowledged);

    DatabaseReader* m_reader;
    std::shared_ptr<StorageWriter> m_writer;
    int m_listener = 0;
    int m_overlap;
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
