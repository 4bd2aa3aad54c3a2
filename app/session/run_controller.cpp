#include "app/session/run_controller.h"

#include "core/values/model_names.h"
#include "core/judges/make_judge.h"
#include "core/task/starter_model.h"
#include "storage/label_rows.h"
#include "storage/storage_writer.h"

#include <QFileInfo>
#include <QPointer>

#include <algorithm>
#include <unordered_set>

namespace preflab {

RunController::RunController(QString databasePath, QString dataDir, QObject* parent)
    : QObject(parent), m_databasePath(std::move(databasePath)), m_dataDir(std::move(dataDir)) {
    registerRunValueMetaTypes();
}

RunController::~RunController() {
    if (m_session) {
        m_session->stop();
        m_session->wait();
    }
    if (m_queue) m_queue->setChangeListener({});
    m_session.reset();
    m_writer.reset();  // flushes
}

QString RunController::starterModelPath() const {
    return QString::fromStdString(preflab::starterModelPath(m_dataDir.toStdString()));
}

bool RunController::starterModelReady() const {
    return QFileInfo::exists(starterModelPath());
}

QString RunController::resolveModelPath(const RunConfig& config, QString* error) const {
    try {
        return QString::fromStdString(resolveModel(config.model, starterModelPath().toStdString()).path);
    } catch (const std::exception& e) {
        if (error) *error = QString::fromUtf8(e.what());  // says where it looked
        return {};
    }
}

bool RunController::startRun(const RunConfig& config, QString* error) {
    auto fail = [&](const QString& m) {
        if (error) *error = m;
        return false;
    };
    if (m_session) return fail(tr("A run is already active: stop it first."));
    const auto problems = validateRunConfig(config);
    if (!problems.empty()) return fail(QString::fromStdString(problems.front()));
    QString notFound;
    const QString model = resolveModelPath(config, &notFound);
    if (model.isEmpty()) return fail(notFound);
    if (!QFileInfo::exists(model)) return fail(tr("The starter model is not pretrained yet."));
    SessionSetup setup;
    setup.config = config;
    setup.modelPath = model.toStdString();
    setup.databasePath = m_databasePath.toStdString();
    setup.dataDir = m_dataDir.toStdString();
    writer();  // opened on first use
    setup.writer = m_writer;
    if (m_queue) m_queue->setChangeListener({});
    m_queue.reset();
    if (judgeNeedsPerson(config.judge)) {
        m_queue = std::make_shared<HumanLabelQueue>();
        QPointer<RunController> self(this);
        // Called on the changing thread (mostly the training thread): hop to ours.
        const HumanLabelQueue* queue = m_queue.get();
        m_queue->setChangeListener([self, queue](const LabelQueueSnapshot& snapshot) {
            QMetaObject::invokeMethod(self, [self, queue, snapshot] { if (self) self->onQueueSnapshot(queue, snapshot); },
                                      Qt::QueuedConnection);
        });
        setup.humanQueue = m_queue;
    }
    m_config = config;
    m_runId = 0;
    m_queueVersion = 0;
    m_labeledThisRun.clear();
    m_unsavedLabels.clear();
    m_givenLabels.clear();
    m_labelsSaved = 0;
    Q_EMIT labelsSaved(0);
    m_state = RunState::Starting;
    m_session = std::make_unique<TrainingSession>(setup);
    TrainingWorker* w = m_session->worker();
    connect(w, &TrainingWorker::runCreated, this, [this](qint64 id) {
        m_runId = id;
        Q_EMIT runStarted(id, m_config);
    });
    connect(w, &TrainingWorker::stateChanged, this, [this](RunState st, const QString&) { m_state = st; });
    connect(w, &TrainingWorker::finished, this, [this] {
        // Queued: the session object is not destroyed inside its own signal.
        QMetaObject::invokeMethod(this, [this] { endSession(); }, Qt::QueuedConnection);
    });
    Q_EMIT runStarting(w);
    m_session->start();
    Q_EMIT labelQueueChanged({});
    return true;
}

void RunController::onQueueSnapshot(const HumanLabelQueue* queue, const LabelQueueSnapshot& snapshot) {
    // A snapshot still in flight from an earlier run's queue is dropped, and
    // snapshots taken on different threads can arrive out of order: keep the newest.
    if (!m_session || queue != m_queue.get() || snapshot.version <= m_queueVersion) return;
    m_queueVersion = snapshot.version;
    // A snapshot taken before a label was given still lists that pair: leave
    // out what this session labeled (an undone label left the list).
    std::unordered_set<int64_t> labeled;
    for (const PairForJudging& p : m_labeledThisRun) labeled.insert(p.pairIndex);
    QVector<PairForJudging> waiting;
    for (const PairForJudging& p : snapshot.waiting) {
        if (!labeled.count(p.pairIndex)) waiting.push_back(p);
    }
    Q_EMIT labelQueueChanged(waiting);
}

void RunController::endSession() {
    if (!m_session) return;
    m_session->wait();  // the worker has finished: the thread is ending
    m_session.reset();
    const qint64 id = m_runId;
    Q_EMIT runEnded(id, m_state);
    Q_EMIT labelQueueChanged({});
}

void RunController::pause() {
    if (m_session) m_session->pause();
}

void RunController::resume() {
    if (m_session) m_session->resume();
}

void RunController::stop() {
    if (m_session) m_session->stop();
}

bool RunController::label(const Judgement& judgement) {
    if (!m_queue || !m_session) return false;
    Judgement j = judgement;
    if (j.timeMs == 0) j.timeMs = nowMs();
    j.stored = true;  // written here, now: the run's recorder leaves it alone
    PairForJudging labeled;
    if (!m_queue->provide(j, &labeled)) return false;
    // The pair's row went into the same writer before the pair was shown, so
    // the label lands after it.
    queueLabel(j, labeled.pairIndex);
    m_labeledThisRun.push_back(std::move(labeled));
    return true;
}

void RunController::queueLabel(const Judgement& j, int64_t pairIndex) {
    Judgement person = j;
    person.pairIndex = pairIndex;
    person.source = LabelSource::Human;
    StorageWriter& w = writer();
    w.enqueue(judgementRows(m_runId, person));
    // enqueued() read after the enqueue: another thread's rows queued in
    // between only make the ticket later, never too early.
    m_unsavedLabels.push_back({w.enqueued(), pairIndex});
    m_givenLabels[pairIndex] = {j.timeMs, j.annotator};
    onAcknowledged(w.acknowledged());
}

void RunController::onAcknowledged(uint64_t acknowledged) {
    const qint64 before = m_labelsSaved;
    while (!m_unsavedLabels.empty() && m_unsavedLabels.front().ticket <= acknowledged) {
        m_unsavedLabels.pop_front();
        ++m_labelsSaved;
    }
    if (m_labelsSaved != before) Q_EMIT labelsSaved(m_labelsSaved);
}

UndoResult RunController::undoLastLabel(PairForJudging* pair) {
    if (m_labeledThisRun.empty()) return UndoResult::Nothing;
    const PairForJudging last = m_labeledThisRun.back();
    m_labeledThisRun.pop_back();
    if (pair) *pair = last;
    if (m_queue && m_queue->retract(last.pairIndex)) {
        // The run never used it: the row written when it was given goes too.
        const auto given = m_givenLabels.find(last.pairIndex);
        if (given != m_givenLabels.end()) {
            writer().enqueue(labelRetraction(LabelTarget::runPair(m_runId, last.pairIndex), given->second.annotator,
                                             given->second.timeMs));
            const auto pending = std::find_if(m_unsavedLabels.begin(), m_unsavedLabels.end(),
                                              [&](const PendingLabel& p) { return p.pairIndex == last.pairIndex; });
            if (pending != m_unsavedLabels.end()) m_unsavedLabels.erase(pending);
            else Q_EMIT labelsSaved(--m_labelsSaved);
            m_givenLabels.erase(given);
        }
        return UndoResult::Retracted;
    }
    return UndoResult::AlreadyUsed;
}

void RunController::correct(const PairForJudging& pair, const Judgement& j) {
    // Through the run's own writer: the pair's row was queued before the pair
    // was shown, so the correction lands after it.
    Judgement stamped = j;
    stamped.timeMs = nowMs();
    queueLabel(stamped, pair.pairIndex);
}

void RunController::relabel(qint64 pairId, Choice choice, const QString& annotator) {
    writer().enqueue(labelRow(LabelTarget::storedPair(pairId), choice, LabelSource::Human, annotator.toStdString(), nowMs()));
}

void RunController::edit(qint64 pairIndex, Choice side, const QString& text, const QString& annotator, qint64 timeMs,
                         std::optional<double> seconds) {
    if (m_runId <= 0) return;  // no run: nothing on screen belongs to one
    // After the pair's own row in the run's writer (queued before it was shown).
    writer().enqueue(preferredEditRow(LabelTarget::runPair(m_runId, pairIndex), side, text.toStdString(),
                                      annotator.toStdString(), timeMs, seconds));
}

void RunController::adjudicate(qint64 pairId, Choice choice, const QString& reviewer) {
    writer().enqueue(labelRow(LabelTarget::storedPair(pairId), choice, LabelSource::Adjudicated, reviewer.toStdString(), nowMs()));
}

void RunController::saveGuidelines(const QString& markdown, const QString& author) {
    writer().enqueue(GuidelinesRow{std::nullopt, markdown.trimmed().toStdString(), author.toStdString(), nowMs()});
}

bool RunController::flushWrites() {
    return m_writer ? m_writer->flush() : true;
}

std::shared_ptr<StorageWriter> RunController::sharedWriter() {
    writer();
    return m_writer;
}

StorageWriter& RunController::writer() {
    if (!m_writer) {
        QPointer<RunController> self(this);
        // Acknowledgements arrive on the writer's thread: hop to ours.
        auto onAck = [self](uint64_t acknowledged) {
            QMetaObject::invokeMethod(self, [self, acknowledged] { if (self) self->onAcknowledged(acknowledged); },
                                      Qt::QueuedConnection);
        };
        m_writer = std::make_shared<StorageWriter>(m_databasePath.toStdString(), [self](const std::string& err) {
            // Called on the writer's thread. The rows stay queued; an active
            // run pauses (resuming retries them).
            QMetaObject::invokeMethod(self, [self, err] {
                if (!self) return;
                const QString message = QString::fromStdString(err);
                if (self->m_session) {
                    TrainingWorker* w = self->m_session->worker();
                    QMetaObject::invokeMethod(w, [w, message] { w->writeFailed(message); }, Qt::QueuedConnection);
                } else {
                    Q_EMIT self->writeFailed(message);
                }
            }, Qt::QueuedConnection);
        }, onAck);
    }
    return *m_writer;
}

}  // namespace preflab
