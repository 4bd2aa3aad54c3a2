#include "storage/database_reader.h"

#include "storage/metric_store.h"
#include "storage/preference_store.h"

#include <memory>

namespace preflab {

// Lives on the reader thread; opens its connection on first use there.
class DatabaseReaderWorker : public QObject {
    Q_OBJECT
public:
    explicit DatabaseReaderWorker(std::string path) : m_path(std::move(path)) {}

    // Runs `work` against the connection and turns any error into failed().
    template <typename F>
    void guarded(quint64 request, F&& work) {
        try {
            if (!m_db) m_db = Database::open(m_path);
            work(*m_db);
        } catch (const std::exception& e) {
            Q_EMIT failed(request, QString::fromStdString(e.what()));
        }
    }

Q_SIGNALS:
    void runsListed(quint64 request, const QVector<preflab::RunSummary>& runs);
    void metricsLoaded(quint64 request, qint64 runId, const QVector<preflab::MetricRow>& rows);
    void evalSamplesLoaded(quint64 request, qint64 runId, const QVector<preflab::EvalSampleRow>& rows);
    void pairsFetched(quint64 request, const QVector<preflab::PairListRow>& rows);
    void pairsCounted(quint64 request, qint64 count);
    void pairFound(quint64 request, const preflab::PairListRow& row);
    void annotatorLabelsLoaded(quint64 request, const QVector<preflab::AnnotatorLabelRow>& rows);
    void disagreementsLoaded(quint64 request, const QVector<preflab::Disagreement>& rows);
    void failed(quint64 request, const QString& message);

private:
    std::string m_path;
    std::unique_ptr<Database> m_db;
};

DatabaseReader::DatabaseReader(const QString& databasePath, QObject* parent) : QObject(parent) {
    qRegisterMetaType<preflab::MetricRow>();
    qRegisterMetaType<QVector<preflab::MetricRow>>();
    qRegisterMetaType<preflab::EvalSampleRow>();
    qRegisterMetaType<QVector<preflab::EvalSampleRow>>();
    qRegisterMetaType<preflab::RunSummary>();
    qRegisterMetaType<QVector<preflab::RunSummary>>();
    qRegisterMetaType<preflab::PairListRow>();
    qRegisterMetaType<QVector<preflab::PairListRow>>();
    qRegisterMetaType<preflab::AnnotatorLabelRow>();
    qRegisterMetaType<QVector<preflab::AnnotatorLabelRow>>();
    qRegisterMetaType<preflab::Disagreement>();
    qRegisterMetaType<QVector<preflab::Disagreement>>();
    m_worker = new DatabaseReaderWorker(databasePath.toStdString());
    m_worker->moveToThread(&m_thread);
    connect(&m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
    connect(m_worker, &DatabaseReaderWorker::runsListed, this, &DatabaseReader::runsListed);
    connect(m_worker, &DatabaseReaderWorker::metricsLoaded, this, &DatabaseReader::metricsLoaded);
    connect(m_worker, &DatabaseReaderWorker::evalSamplesLoaded, this, &DatabaseReader::evalSamplesLoaded);
    connect(m_worker, &DatabaseReaderWorker::pairsFetched, this, &DatabaseReader::pairsFetched);
    connect(m_worker, &DatabaseReaderWorker::pairsCounted, this, &DatabaseReader::pairsCounted);
    connect(m_worker, &DatabaseReaderWorker::pairFound, this, &DatabaseReader::pairFound);
    connect(m_worker, &DatabaseReaderWorker::annotatorLabelsLoaded, this, &DatabaseReader::annotatorLabelsLoaded);
    connect(m_worker, &DatabaseReaderWorker::disagreementsLoaded, this, &DatabaseReader::disagreementsLoaded);
    connect(m_worker, &DatabaseReaderWorker::failed, this, &DatabaseReader::failed);
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
    QMetaObject::invokeMethod(m_worker, [w = m_worker, id, work] {
        w->guarded(id, [&](Database& db) { work(w, id, db); });
    }, Qt::QueuedConnection);
    return id;
}

quint64 DatabaseReader::listRuns() {
    return post([](DatabaseReaderWorker* w, quint64 id, Database& db) {
        const auto runs = RunStore(db).list();
        Q_EMIT w->runsListed(id, QVector<RunSummary>(runs.begin(), runs.end()));
    });
}

quint64 DatabaseReader::loadAnnotatorLabels(qint64 runId) {
    return post([runId](DatabaseReaderWorker* w, quint64 id, Database& db) {
        QVector<AnnotatorLabelRow> rows;
        const std::optional<int64_t> run = runId > 0 ? std::optional<int64_t>(runId) : std::nullopt;
        PreferenceStore store(db);
        store.forEachAnnotatorLabel(run, [&](int64_t pair, const std::string& annotator, const std::string& choice) {
            rows.push_back({pair, annotator, choice, false});
        });
        store.forEachJudgeVerdict(run, [&](int64_t pair, const std::string& judge, const std::string& choice) {
            rows.push_back({pair, judge, choice, true});
        });
        Q_EMIT w->annotatorLabelsLoaded(id, rows);
    });
}

quint64 DatabaseReader::loadDisagreements(qint64 runId) {
    return post([runId](DatabaseReaderWorker* w, quint64 id, Database& db) {
        QVector<Disagreement> rows;
        PreferenceStore(db).forEachDisagreement(runId > 0 ? std::optional<int64_t>(runId) : std::nullopt,
                                                [&](const Disagreement& d) { rows.push_back(d); });
        Q_EMIT w->disagreementsLoaded(id, rows);
    });
}

quint64 DatabaseReader::loadEvalSamples(qint64 runId) {
    return post([runId](DatabaseReaderWorker* w, quint64 id, Database& db) {
        const auto rows = MetricStore(db).evalSamples(runId);
        Q_EMIT w->evalSamplesLoaded(id, runId, QVector<EvalSampleRow>(rows.begin(), rows.end()));
    });
}

quint64 DatabaseReader::loadMetrics(qint64 runId) {
    return post([runId](DatabaseReaderWorker* w, quint64 id, Database& db) {
        const auto rows = MetricStore(db).forRun(runId);
        Q_EMIT w->metricsLoaded(id, runId, QVector<MetricRow>(rows.begin(), rows.end()));
    });
}

quint64 DatabaseReader::fetchPairs(const PairFilter& filter, qint64 afterPairId, int limit) {
    return post([filter, afterPairId, limit](DatabaseReaderWorker* w, quint64 id, Database& db) {
        const auto rows = PairBrowserStore(db).page(filter, afterPairId, limit);
        Q_EMIT w->pairsFetched(id, QVector<PairListRow>(rows.begin(), rows.end()));
    });
}

quint64 DatabaseReader::countPairs(const PairFilter& filter) {
    return post([filter](DatabaseReaderWorker* w, quint64 id, Database& db) {
        Q_EMIT w->pairsCounted(id, PairBrowserStore(db).count(filter));
    });
}

quint64 DatabaseReader::findPair(qint64 pairId) {
    return post([pairId](DatabaseReaderWorker* w, quint64 id, Database& db) {
        if (const auto row = PairBrowserStore(db).find(pairId)) Q_EMIT w->pairFound(id, *row);
        else Q_EMIT w->failed(id, QStringLiteral("pair %1 is not in the database").arg(pairId));
    });
}

}  // namespace preflab

#include "database_reader.moc"
