#include "app/session/labeling_project_session.h"

#include "storage/database_reader.h"
#include "storage/label_rows.h"
#include "storage/labeling_project.h"
#include "storage/storage_writer.h"

#include <QPointer>

#include <algorithm>

namespace preflab {
namespace {

constexpr int kReadyPairs = 4;  // a few ready to show: a keypress never waits on the database

}  // namespace

LabelingProjectSession::LabelingProjectSession(DatabaseReader* reader, std::shared_ptr<StorageWriter> writer, int overlap,
                                               LabelingMode mode, QObject* parent)
    : QObject(parent), m_reader(reader), m_writer(std::move(writer)), m_overlap(overlap < 1 ? 1 : overlap), m_mode(mode) {
    registerRunValueMetaTypes();
    QPointer<LabelingProjectSession> self(this);
    // Called on the writer's thread: hop to ours.
    m_listener = m_writer->addAckListener([self](uint64_t acknowledged) {
        QMetaObject::invokeMethod(self, [self, acknowledged] { if (self) self->onAcknowledged(acknowledged); },
                                  Qt::QueuedConnection);
    });
    connect(m_reader, &DatabaseReader::projectQueueLoaded, this,
            [this](quint64 request, const QString& annotator, const QVector<ProjectPair>& waiting, qint64 complete, qint64 total) {
                if (request != m_request) return;  // an older question's answer
                QVector<PairForJudging> items;
                for (const ProjectPair& p : waiting) {
                    PairForJudging j;
                    j.pairIndex = p.pairId;
                    j.prompt = p.prompt;
                    j.responseA = p.first;  // already in this annotator's own order
                    j.responseB = p.second;
                    m_swapped[p.pairId] = p.swapped;
                    items.push_back(std::move(j));
                }
                showQueue(annotator, std::move(items), complete, total);
            });
    connect(m_reader, &DatabaseReader::responseQueueLoaded, this,
            [this](quint64 request, const QString& annotator, const QVector<ProjectResponse>& waiting, qint64 complete,
                   qint64 total) {
                if (request != m_request) return;
                QVector<PairForJudging> items;
                for (const ProjectResponse& r : waiting) {
                    if (m_skipped.count(r.responseId)) continue;
                    PairForJudging j;
                    j.pairIndex = r.responseId;
                    j.prompt = r.prompt;
                    j.responseA = r.text;
                    items.push_back(std::move(j));
                }
                showQueue(annotator, std::move(items), complete, total);
            });
    connect(m_reader, &DatabaseReader::failed, this, [this](quint64 request, const QString& message) {
        if (request == m_request) Q_EMIT failed(message);
    });
}

LabelingProjectSession::~LabelingProjectSession() {
    m_writer->removeAckListener(m_listener);
}

void LabelingProjectSession::showQueue(const QString& annotator, QVector<PairForJudging> waiting, qint64 complete,
                                       qint64 total) {
    if (annotator != m_annotator) return;  // asked for before a switch
    // Items labelled since the request was sent are not offered again.
    m_waiting.clear();
    for (PairForJudging& item : waiting) {
        bool given = false;
        for (const Given& g : m_given) {
            given = given || (g.pair.pairIndex == item.pairIndex && g.judgement.annotator == annotator.toStdString());
        }
        if (!given) m_waiting.push_back(std::move(item));
    }
    Q_EMIT queueChanged(m_waiting);
    Q_EMIT progress(complete, total);
}

void LabelingProjectSession::fetch() {
    // Thumbs mode: enough to still have a few after the responses passed by.
    m_request = m_mode == LabelingMode::Thumbs
                    ? m_reader->loadResponseQueue(m_annotator, m_overlap, kReadyPairs + static_cast<int>(m_skipped.size()))
                    : m_reader->loadProjectQueue(m_annotator, m_overlap, kReadyPairs);
}

void LabelingProjectSession::setAnnotator(const QString& annotator) {
    m_annotator = annotator;
    m_skipped.clear();  // passed by for the previous annotator, not for this one
    fetch();
}

PairForJudging LabelingProjectSession::waitingItem(qint64 index) const {
    PairForJudging item;
    for (const PairForJudging& p : m_waiting) {
        if (p.pairIndex == index) item = p;
    }
    item.pairIndex = index;
    return item;
}

void LabelingProjectSession::remember(Given given) {
    if (!given.skipOnly) m_unacknowledged.push_back(given.ticket);
    m_given.push_back(std::move(given));
    m_request = 0;  // an answer read before this label is stale: the next is asked for once it is on disk
}

void LabelingProjectSession::label(const Judgement& j) {
    if (j.annotator.empty()) {
        Q_EMIT failed(tr("A label in a labeling project needs an annotator name."));
        return;
    }
    // The order the pair was fetched in (for the annotator of that fetch).
    const auto order = m_swapped.find(j.pairIndex);
    const bool swapped = order != m_swapped.end() ? order->second : LabelingProject::swappedFor(j.pairIndex, j.annotator);
    // The side shown first maps back to the pair's own a/b as the choice does.
    std::optional<Choice> shownFirst;
    if (j.shownFirst) shownFirst = LabelingProject::storedChoice(*j.shownFirst, swapped);
    const uint64_t ticket = m_writer->enqueue(
        labelRow(LabelTarget::storedPair(j.pairIndex), LabelingProject::storedChoice(j.choice, swapped),
                 LabelSource::Human, j.annotator, j.timeMs, j.seconds, shownFirst));
    remember({waitingItem(j.pairIndex), j, false, ticket});
}

void LabelingProjectSession::edit(qint64 pairId, Choice side, const QString& text, const QString& annotator,
                                  qint64 timeMs, std::optional<double> seconds) {
    if (annotator.isEmpty()) {
        Q_EMIT failed(tr("An edited response in a labeling project needs an annotator name."));
        return;
    }
    const auto order = m_swapped.find(pairId);
    const bool swapped = order != m_swapped.end() ? order->second
                                                  : LabelingProject::swappedFor(pairId, annotator.toStdString());
    m_writer->enqueue(preferredEditRow(LabelTarget::storedPair(pairId), LabelingProject::storedChoice(side, swapped),
                                       text.toStdString(), annotator.toStdString(), timeMs, seconds));
}

void LabelingProjectSession::labelResponse(qint64 responseId, bool desirable, const QString& annotator, qint64 timeMs,
                                           std::optional<double> seconds) {
    if (annotator.isEmpty()) {
        Q_EMIT failed(tr("A label in a labeling project needs an annotator name."));
        return;
    }
    Judgement j;
    j.pairIndex = responseId;
    j.choice = desirable ? Choice::A : Choice::B;  // kept for undo only; the row is the response label
    j.source = LabelSource::Human;
    j.annotator = annotator.toStdString();
    j.timeMs = timeMs;
    const uint64_t ticket = m_writer->enqueue(responseLabelRow(responseId, desirable, j.annotator, timeMs, seconds));
    remember({waitingItem(responseId), j, false, ticket});
}

void LabelingProjectSession::skipResponse(qint64 responseId) {
    const PairForJudging item = waitingItem(responseId);
    m_skipped.insert(responseId);
    Judgement j;
    j.pairIndex = responseId;
    j.choice = Choice::Skip;
    j.annotator = m_annotator.toStdString();
    m_given.push_back({item, j, true});
    // Nothing is written: the queue drops it at once, and the next read
    // (which asks for one more) skips it too.
    m_waiting.erase(std::remove_if(m_waiting.begin(), m_waiting.end(),
                                   [responseId](const PairForJudging& p) { return p.pairIndex == responseId; }),
                    m_waiting.end());
    fetch();
}

void LabelingProjectSession::undoLast() {
    if (m_given.empty()) {
        Q_EMIT undone(false, PairForJudging{});
        return;
    }
    const Given last = m_given.back();
    m_given.pop_back();  // a label not yet on disk is then never counted
    if (last.skipOnly) {
        m_skipped.erase(last.pair.pairIndex);
        Q_EMIT undone(true, last.pair);
        fetch();  // an answer asked for before would not hold the response again
        return;
    }
    // Queued after the label's own row, so the row exists when it is taken back.
    const uint64_t ticket =
        m_mode == LabelingMode::Thumbs
            ? m_writer->enqueue(responseLabelRetraction(last.pair.pairIndex, last.judgement.annotator, last.judgement.timeMs))
            : m_writer->enqueue(labelRetraction(LabelTarget::storedPair(last.pair.pairIndex), last.judgement.annotator,
                                                last.judgement.timeMs));
    m_unacknowledged.push_back(ticket);
    m_request = 0;  // an answer read before the undo would drop the item the view shows again
    // A label already counted as saved is uncounted once its removal is on disk.
    if (last.onDisk) m_retractions.push_back(ticket);
    Q_EMIT undone(true, last.pair);
}

void LabelingProjectSession::onAcknowledged(uint64_t acknowledged) {
    const qint64 before = m_saved;
    for (Given& g : m_given) {
        if (!g.skipOnly && !g.onDisk && g.ticket <= acknowledged) {
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
