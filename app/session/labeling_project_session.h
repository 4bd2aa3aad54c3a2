#pragma once
// A labeling project in the workbench (storage/labeling_project.h): the
// labeling view is fed the stored pairs this annotator should see next, a few
// at a time so a keypress shows the next at once, and its labels are written
// as they come. The database work runs on a thread of its own with its own
// connection; only plain values cross (PairForJudging out, Judgement in).
// Lives on the UI thread; every call returns at once.
#include "core/judges/human_judge.h"
#include "core/loop/run_state.h"  // the metatypes of PairForJudging

#include <QObject>
#include <QThread>
#include <QVector>

#include <unordered_map>
#include <vector>

namespace preflab {

class LabelingProjectWorker;

class LabelingProjectSession : public QObject {
    Q_OBJECT
public:
    LabelingProjectSession(const QString& databasePath, int overlap, QObject* parent = nullptr);
    ~LabelingProjectSession() override;  // finishes the writes queued, then returns

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
    };
    int m_overlap;
    QString m_annotator;
    QVector<PairForJudging> m_waiting;  // as last sent to the view
    std::vector<Given> m_given;         // for undo, newest last
    std::unordered_map<qint64, bool> m_swapped;  // each fetched pair's order for the annotator it was fetched for
    qint64 m_saved = 0;
    QThread m_thread;
    LabelingProjectWorker* m_worker = nullptr;
};

}  // namespace preflab
