#include "app/session/run_controller.h"

#include "core/judges/make_judge.h"
#include "core/loop/starter_model.h"
#include "storage/storage_writer.h"

#include <QDir>
#include <QFileInfo>
#include <QPointer>

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

QString RunController::resolveModelPath(const RunConfig& config) const {
    return config.model == "starter" ? starterModelPath() : QString::fromStdString(config.model);
}

bool RunController::startRun(const RunConfig& config, QString* error) {
    auto fail = [&](const QString& m) {
        if (error) *error = m;
        return false;
    };
    if (m_session) return fail(tr("A run is already active: stop it first."));
    const auto problems = validateRunConfig(config);
    if (!problems.empty()) return fail(QString::fromStdString(problems.front()));
    const QString model = resolveModelPath(config);
    if (!QFileInfo::exists(model)) {
        return fail(config.model == "starter" ? tr("The starter model is not pretrained yet.")
                                              : tr("Model file %1 does not exist.").arg(model));
    }
    SessionSetup setup;
    setup.config = config;
    setup.modelPath = model.toStdString();
    setup.databasePath = m_databasePath.toStdString();
    setup.dataDir = m_dataDir.toStdString();
    if (m_queue) m_queue->setChangeListener({});
    m_queue.reset();
    if (judgeNeedsPerson(config.judge)) {
        m_queue = std::make_shared<HumanLabelQueue>();
        QPointer<RunController> self(this);
        // Called on the training thread: hop to ours.
        m_queue->setChangeListener([self] {
            QMetaObject::invokeMethod(self, [self] { if (self) Q_EMIT self->labelQueueChanged(); }, Qt::QueuedConnection);
        });
        setup.humanQueue = m_queue;
    }
    m_config = config;
    m_runId = 0;
    m_labeledThisRun.clear();
    m_state = RunState::Starting;
    m_session = std::make_unique<TrainingSession>(setup);
    TrainingSession* s = m_session.get();
    connect(s, &TrainingSession::runCreated, this, [this](qint64 id) {
        m_runId = id;
        Q_EMIT runStarted(id, QString::fromStdString(runConfigToJson(m_config)));
    });
    connect(s, &TrainingSession::metricsReady, this, &RunController::metricsReady);
    connect(s, &TrainingSession::pairGenerated, this, &RunController::pairGenerated);
    connect(s, &TrainingSession::progress, this, &RunController::progress);
    connect(s, &TrainingSession::failed, this, &RunController::failed);
    connect(s, &TrainingSession::stateChanged, this, [this](RunState st, const QString& m) {
        m_state = st;
        Q_EMIT stateChanged(st, m);
    });
    connect(s, &TrainingSession::finished, this, [this] {
        // Queued: the session object is not destroyed inside its own signal.
        QMetaObject::invokeMethod(this, [this] { endSession(); }, Qt::QueuedConnection);
    });
    s->start();
    Q_EMIT labelQueueChanged();
    return true;
}

void RunController::endSession() {
    if (!m_session) return;
    m_session->wait();  // the worker has finished: the thread is ending
    m_session.reset();
    const qint64 id = m_runId;
    Q_EMIT runEnded(id, m_state);
    Q_EMIT labelQueueChanged();
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

std::vector<PairForJudging> RunController::pendingPairs() const {
    return m_queue && m_session ? m_queue->pending() : std::vector<PairForJudging>{};
}

bool RunController::label(const Judgement& judgement) {
    if (!m_queue || !m_session) return false;
    std::vector<PairForJudging> waiting = m_queue->pending();
    const auto it = std::find_if(waiting.begin(), waiting.end(),
                                 [&](const PairForJudging& p) { return p.pairIndex == judgement.pairIndex; });
    if (it == waiting.end() || !m_queue->provide(judgement)) return false;
    m_labeledThisRun.push_back(*it);
    return true;
}

RunController::UndoResult RunController::undoLastLabel(PairForJudging* pair) {
    if (m_labeledThisRun.empty()) return UndoResult::Nothing;
    const PairForJudging last = m_labeledThisRun.back();
    m_labeledThisRun.pop_back();
    if (m_queue && m_queue->retract(last.pairIndex)) return UndoResult::Retracted;
    if (pair) *pair = last;
    return UndoResult::AlreadyUsed;
}

void RunController::correct(const PairForJudging& pair, const Judgement& j) {
    std::vector<WriteOp> ops;
    ops.emplace_back(LabelRow{std::nullopt, m_runId, pair.pairIndex, toString(j.choice), "human", j.annotator, nowMs()});
    if (j.ratingA) ops.emplace_back(RatingRow{std::nullopt, m_runId, pair.pairIndex, "a", *j.ratingA, "human", j.annotator, nowMs()});
    if (j.ratingB) ops.emplace_back(RatingRow{std::nullopt, m_runId, pair.pairIndex, "b", *j.ratingB, "human", j.annotator, nowMs()});
    writer().enqueue(std::move(ops));
}

void RunController::relabel(qint64 pairId, Choice choice, const QString& annotator) {
    writer().enqueue(LabelRow{pairId, std::nullopt, std::nullopt, toString(choice), "human", annotator.toStdString(), nowMs()});
}

bool RunController::flushWrites() {
    return m_writer ? m_writer->flush() : true;
}

StorageWriter& RunController::writer() {
    if (!m_writer) {
        QPointer<RunController> self(this);
        m_writer = std::make_unique<StorageWriter>(m_databasePath.toStdString(), [self](const std::string& err) {
            QMetaObject::invokeMethod(self, [self, err] {
                if (self) Q_EMIT self->writeFailed(QString::fromStdString(err));
            }, Qt::QueuedConnection);
        });
    }
    return *m_writer;
}

}  // namespace preflab
