#include "storage/database_reader.h"

#include "storage/database.h"
#include "storage/guidelines_store.h"
#include "storage/label_timing_store.h"
#include "storage/labeling_project.h"
#include "storage/metric_store.h"
#include "storage/pair_browser_store.h"
#include "storage/preference_store.h"
#include "storage/run_store.h"

#include <memory>

namespace preflab {

// Lives on the reader thread (the context its posted work runs in) and holds
// the connection, opened on first use there.
class DatabaseReaderWorker : public QObject {
public:
    explicit DatabaseReaderWorker(std::string path) : m_path(std::move(path)) {}

    Database& database() {
        if (!m_db) m_db = Database::open(m_path);
        return *m_db;
    }

private:
    std::string m_path;
    std::unique_ptr<Database> m_db;
};

namespace {

template <typename T>
void registerValue() {
    qRegisterMetaType<T>();
    qRegisterMetaType<QVector<T>>();
}

template <typename Rows>
auto toVector(const Rows& rows) {
    return QVector<typename Rows::value_type>(rows.begin(), rows.end());
}

std::optional<int64_t> runOrAll(qint64 runId) {
    return runId > 0 ? std::optional<int64_t>(runId) : std::nullopt;
}

}  // namespace

DatabaseReader::DatabaseReader(const QString& databasePath, QObject* parent)
    : QObject(parent), m_title(QString::fromStdString(databaseTitle(databasePath.toStdString()))) {
    registerValue<MetricRow>();
    registerValue<EvalSampleRow>();
    registerValue<RunSummary>();
    registerValue<PairListRow>();
    registerValue<AnnotatorLabelRow>();
    registerValue<Disagreement>();
    registerValue<ProjectPair>();
    registerValue<ProjectResponse>();
    m_worker = new DatabaseReaderWorker(databasePath.toStdString());
    m_worker->moveToThread(&m_thread);
    connect(&m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
    m_thread.setObjectName(QStringLiteral("preflab-reader"));
    m_thread.start();
}

DatabaseReader::~DatabaseReader() {
    m_thread.quit();
    m_thread.wait();
}

template <typename Work>
quint64 DatabaseReader::post(Work work) {
    const quint64 id = m_nextRequest++;
    QMetaObject::invokeMethod(m_worker, [this, w = m_worker, id, work] {
        try {
            work(id, w->database());
        } catch (const std::exception& e) {
            Q_EMIT failed(id, QString::fromStdString(e.what()));
        }
    }, Qt::QueuedConnection);
    return id;
}

quint64 DatabaseReader::listRuns() {
    return post([this](quint64 id, Database& db) { Q_EMIT runsListed(id, toVector(RunStore(db).list())); });
}

quint64 DatabaseReader::loadAnnotatorLabels(qint64 runId) {
    return post([this, runId](quint64 id, Database& db) {
        QVector<AnnotatorLabelRow> rows;
        PreferenceStore store(db);
        // The labels forEachAnnotatorLabel visits, with how they were given.
        for (const TimedLabel& l : annotatorLabelTimings(db, runOrAll(runId))) {
            rows.push_back({l.pairId, l.annotator, l.choice, false, l.seconds, l.shownFirst, l.goldAnswer});
        }
        store.forEachJudgeVerdict(runOrAll(runId), [&](int64_t pair, const std::string& judge, const std::string& choice) {
            rows.push_back({pair, judge, choice, true});
        });
        Q_EMIT annotatorLabelsLoaded(id, rows);
    });
}

quint64 DatabaseReader::loadGuidelines(qint64 runId) {
    return post([this, runId](quint64 id, Database& db) {
        const std::optional<GuidelinesRow> g = GuidelinesStore(db).current(runOrAll(runId));
        Q_EMIT guidelinesLoaded(id, g ? QString::fromStdString(g->text) : QString());
    });
}

quint64 DatabaseReader::loadDisagreements(qint64 runId) {
    return post([this, runId](quint64 id, Database& db) {
        QVector<Disagreement> rows;
        PreferenceStore(db).forEachDisagreement(runOrAll(runId), [&](const Disagreement& d) { rows.push_back(d); });
        Q_EMIT disagreementsLoaded(id, rows);
    });
}

quint64 DatabaseReader::loadEvalSamples(qint64 runId) {
    return post([this, runId](quint64 id, Database& db) { Q_EMIT evalSamplesLoaded(id, runId, toVector(MetricStore(db).evalSamples(runId))); });
}

quint64 DatabaseReader::loadMetrics(qint64 runId) {
    return post([this, runId](quint64 id, Database& db) { Q_EMIT metricsLoaded(id, runId, toVector(MetricStore(db).forRun(runId))); });
}

quint64 DatabaseReader::fetchPairs(const PairFilter& filter, qint64 afterPairId, int limit) {
    return post([this, filter, afterPairId, limit](quint64 id, Database& db) {
        Q_EMIT pairsFetched(id, toVector(PairBrowserStore(db).page(filter, afterPairId, limit)));
    });
}

quint64 DatabaseReader::countPairs(const PairFilter& filter) {
    return post([this, filter](quint64 id, Database& db) { Q_EMIT pairsCounted(id, PairBrowserStore(db).count(filter)); });
}

quint64 DatabaseReader::findPair(qint64 pairId) {
    return post([this, pairId](quint64 id, Database& db) {
        if (const auto row = PairBrowserStore(db).find(pairId)) Q_EMIT pairFound(id, *row);
        else Q_EMIT failed(id, QStringLiteral("pair %1 is not in the database").arg(pairId));
    });
}

quint64 DatabaseReader::loadProjectQueue(const QString& annotator, int overlap, int limit) {
    return post([this, annotator, overlap, limit](quint64 id, Database& db) {
        LabelingProject project(db, overlap);
        const auto waiting = project.nextPairs(annotator.toStdString(), limit);
        Q_EMIT projectQueueLoaded(id, annotator, toVector(waiting), project.completeCount(), project.pairCount());
    });
}

quint64 DatabaseReader::loadResponseQueue(const QString& annotator, int overlap, int limit) {
    return post([this, annotator, overlap, limit](quint64 id, Database& db) {
        LabelingProject project(db, overlap);
        const auto waiting = project.nextResponses(annotator.toStdString(), limit);
        Q_EMIT responseQueueLoaded(id, annotator, toVector(waiting), project.completeResponseCount(), project.responseCount());
    });
}

}  // namespace preflab
