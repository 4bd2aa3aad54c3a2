#include "app/session/labeling_project_session.h"

#include "storage/database_reader.h"
#include "storage/label_rows.h"
#include "storage/labeling_project.h"
#include "storage/storage_writer.h"

#include <QPointer>

namespace preflab {
namespace {

constexpr int kReadyPairs = 4;  // a few ready to show: a keypress never waits on the database

}  // namespace

LabelingProjectSession::LabelingProjectSession(DatabaseReader* reader, std::shared_ptr<StorageWriter> writer, int overlap,
                                               QObject* parent)
    : QObject(parent), m_reader(reader), m_writer(std::move(writer)), m_overlap(overlap < 1 ? 1 : overlap) {
    registerRunValueMetaTypes();
    QPointer<LabelingProjectSession> self(this);
    // Called on the writer's thread: hop to ours.
    m_listener = m_writer->addAckListener([self](uint64_t acknowledged) {
        QMetaObject::invokeMethod(self, [self, acknowledged] { if (self) self->onAcknowledged(acknowledged); },
                                  Qt::QueuedConnection);
    });
    connect(m_reader, &DatabaseReader::projectQueueLoaded, this,
            [this](quint64 request, const QString& annotator, const QVector<ProjectPair>& waiting, qint64 complete, qint64 total) {
                if (request != m_request || annotator != m_annotator) return;  // an older question's answer
                // Pairs labelled since the request was sent are not offered again.
                m_waiting.clear();
                for (const ProjectPair& p : waiting) {
                    bool given = false;
                    for (const Given& g : m_given) given = given || (g.pair.pairIndex == p.pairId && g.judgement.annotator == annotator.toStdString());
                    if (given) continue;
                    PairForJudging j;
                    j.pairIndex = p.pairId;
                    j.prompt = p.prompt;
                    j.responseA = p.first;  // already in this annotator's own order
                    j.responseB = p.second;
                    m_swapped[p.pairId] = p.swapped;
                    m_waiting.push_back(std::move(j));
                }
                Q_EMIT queueChanged(m_waiting);
                Q_EMIT progress(complete, total);
            });
    connect(m_reader, &DatabaseReader::failed, this, [this](quint64 request, const QString& message) {
        if (request == m_request) Q_EMIT failed(message);
    });
}

LabelingProjectSession::~LabelingProjectSession() {
    m_writer->removeAckListener(m_listener);
}

void LabelingProjectSession::fetch() {
    m_request = m_reader->loadProjectQueue(m_annotator, m_overlap, kReadyPairs);
}

void LabelingProjectSession::setAnnotator(const QString& annotator) {
    m_annotator = annotator;
    fetch();
}

void LabelingProjectSession::label(const Judgement& j) {
    if (j.annotator.empty()) {
        Q_EMIT failed(tr("A label in a labeling project needs an annotator name."));
        return;
    }
    PairForJudging pair;
    for (const PairForJudging& p : m_waiting) {
        if (p.pairIndex == j.pairIndex) pair = p;
    }
    pair.pairIndex = j.pairIndex;
    // The order the pair was fetched in (for the annotator of that fetch).
    const auto order = m_swapped.find(j.pairIndex);
    const bool swapped = order != m_swapped.end() ? order->second : LabelingProject::swappedFor(j.pairIndex, j.annotator);
    const uint64_t ticket = m_writer->enqueue(labelRow(LabelTarget::storedPair(j.pairIndex),
                                                       LabelingProject::storedChoice(j.choice, swapped),
                                                       LabelSource::Human, j.annotator, j.timeMs));
    m_given.push_back({pair, j, ticket});
    m_unacknowledged.push_back(ticket);
    m_request = 0;  // an answer read before this label is stale: the next is asked for once it is on disk
}

void LabelingProjectSession::undoLast() {
    if (m_given.empty()) {
        Q_EMIT undone(false, PairForJudging{});
        return;
    }
    const Given last = m_given.back();
    m_given.pop_back();  // a label not yet on disk is then never counted
    // Queued after the label's own row, so the row exists when it is taken back.
    const uint64_t ticket = m_writer->enqueue(
        labelRetraction(LabelTarget::storedPair(last.pair.pairIndex), last.judgement.annotator, last.judgement.timeMs));
    m_unacknowledged.push_back(ticket);
    m_request = 0;  // an answer read before the undo would drop the pair the view shows again
    // A label already counted as saved is uncounted once its removal is on disk.
    if (last.onDisk) m_retractions.push_back(ticket);
    Q_EMIT undone(true, last.pair);
}

void LabelingProjectSession::onAcknowledged(uint64_t acknowledged) {
    const qint64 before = m_saved;
    for (Given& g : m_given) {
        if (!g.onDisk && g.ticket <= acknowledged) {
            g.onDisk = true;
            ++m_saved;
        }
    }
    while (!m_retractions.empty() && m_retractions.front() <= acknowledged) {
        m_retractions.pop_front();
        --m_saved;
    }
    if (m_saved != before) Q_EMIT saved(m_saved);
    // Read the queue again once this session's writes are on disk.
    bool written = false;
    while (!m_unacknowledged.empty() && m_unacknowledged.front() <= acknowledged) {
        m_unacknowledged.pop_front();
        written = true;
    }
    if (written) fetch();
}

}  // namespace preflab
