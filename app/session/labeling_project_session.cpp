#include "app/session/labeling_project_session.h"

#include "core/loop/run_state.h"
#include "storage/database.h"
#include "storage/labeling_project.h"

#include <QPointer>

#include <memory>

namespace preflab {

// On the project's thread: its connection and the project queries.
class LabelingProjectWorker : public QObject {
    Q_OBJECT
public:
    LabelingProjectWorker(std::string path, int overlap) : m_path(std::move(path)), m_overlap(overlap) {}

    // Runs work(project) here; a failure becomes failed().
    template <typename Work>
    void run(Work work) {
        try {
            if (!m_db) {
                m_db = Database::open(m_path, Database::Mode::OpenExisting);
                m_project = std::make_unique<LabelingProject>(*m_db, m_overlap);
            }
            work(*m_project);
        } catch (const std::exception& e) {
            Q_EMIT failed(QString::fromStdString(e.what()));
        }
    }

    void fetch(const std::string& annotator) {
        run([&](LabelingProject& project) {
            QVector<PairForJudging> waiting;
            // A few ready to show: a keypress never waits on the database.
            for (const ProjectPair& p : project.nextPairs(annotator, 4)) {
                PairForJudging j;
                j.pairIndex = p.pairId;
                j.prompt = p.prompt;
                j.responseA = p.first;  // already in this annotator's own order
                j.responseB = p.second;
                waiting.push_back(std::move(j));
            }
            Q_EMIT fetched(QString::fromStdString(annotator), waiting, project.completeCount(), project.pairCount());
        });
    }

Q_SIGNALS:
    void fetched(const QString& annotator, const QVector<preflab::PairForJudging>& waiting, qint64 complete, qint64 total);
    void failed(const QString& message);

private:
    std::string m_path;
    int m_overlap;
    std::unique_ptr<Database> m_db;
    std::unique_ptr<LabelingProject> m_project;
};

LabelingProjectSession::LabelingProjectSession(const QString& databasePath, int overlap, QObject* parent)
    : QObject(parent), m_overlap(overlap < 1 ? 1 : overlap) {
    registerRunValueMetaTypes();
    m_worker = new LabelingProjectWorker(databasePath.toStdString(), m_overlap);
    m_worker->moveToThread(&m_thread);
    connect(&m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
    connect(m_worker, &LabelingProjectWorker::fetched, this,
            [this](const QString& annotator, const QVector<PairForJudging>& waiting, qint64 complete, qint64 total) {
                if (annotator != m_annotator) return;  // an answer for the annotator before a switch
                // Pairs labelled since the request was sent are not offered again.
                QVector<PairForJudging> fresh;
                for (const PairForJudging& p : waiting) {
                    bool given = false;
                    for (const Given& g : m_given) given = given || (g.pair.pairIndex == p.pairIndex && g.judgement.annotator == annotator.toStdString());
                    if (!given) fresh.push_back(p);
                }
                m_waiting = fresh;
                for (const PairForJudging& p : m_waiting) m_swapped[p.pairIndex] = LabelingProject::swappedFor(p.pairIndex, annotator.toStdString());
                Q_EMIT queueChanged(m_waiting);
                Q_EMIT progress(complete, total);
            });
    connect(m_worker, &LabelingProjectWorker::failed, this, &LabelingProjectSession::failed);
    m_thread.setObjectName(QStringLiteral("preflab-project"));
    m_thread.start();
}

LabelingProjectSession::~LabelingProjectSession() {
    m_thread.quit();
    m_thread.wait();
}

void LabelingProjectSession::setAnnotator(const QString& annotator) {
    m_annotator = annotator;
    const std::string name = annotator.toStdString();
    LabelingProjectWorker* w = m_worker;
    QMetaObject::invokeMethod(w, [w, name] { w->fetch(name); }, Qt::QueuedConnection);
}

void LabelingProjectSession::label(const Judgement& j) {
    PairForJudging pair;
    for (const PairForJudging& p : m_waiting) {
        if (p.pairIndex == j.pairIndex) pair = p;
    }
    pair.pairIndex = j.pairIndex;
    m_given.push_back({pair, j});
    const std::string annotator = j.annotator;
    // The order the pair was fetched in (for the annotator of that fetch).
    const auto order = m_swapped.find(j.pairIndex);
    const ProjectPair shown{j.pairIndex, pair.prompt, pair.responseA, pair.responseB,
                            order != m_swapped.end() ? order->second : LabelingProject::swappedFor(j.pairIndex, annotator)};
    const std::string choice = toString(j.choice);
    const int64_t time = j.timeMs;
    QPointer<LabelingProjectSession> self(this);
    LabelingProjectWorker* w = m_worker;
    QMetaObject::invokeMethod(w, [w, self, shown, choice, annotator, time] {
        bool ok = false;
        w->run([&](LabelingProject& project) {
            project.label(shown, choice, annotator, time);
            ok = true;
        });
        if (ok) {
            QMetaObject::invokeMethod(self, [self] { if (self) Q_EMIT self->saved(++self->m_saved); }, Qt::QueuedConnection);
        }
        w->fetch(annotator);
    }, Qt::QueuedConnection);
}

void LabelingProjectSession::undoLast() {
    if (m_given.empty()) {
        Q_EMIT undone(false, PairForJudging{});
        return;
    }
    const Given last = m_given.back();
    m_given.pop_back();
    const int64_t pairId = last.pair.pairIndex;
    const std::string annotator = last.judgement.annotator;
    const int64_t time = last.judgement.timeMs;
    QPointer<LabelingProjectSession> self(this);
    LabelingProjectWorker* w = m_worker;
    // Queued after the label's own write, so the row exists when it is taken back.
    QMetaObject::invokeMethod(w, [w, self, pairId, annotator, time] {
        bool removed = false;
        w->run([&](LabelingProject& project) { removed = project.retract(pairId, annotator, time); });
        if (removed) {
            QMetaObject::invokeMethod(self, [self] { if (self) Q_EMIT self->saved(--self->m_saved); }, Qt::QueuedConnection);
        }
        w->fetch(annotator);
    }, Qt::QueuedConnection);
    Q_EMIT undone(true, last.pair);
}

}  // namespace preflab

#include "labeling_project_session.moc"
