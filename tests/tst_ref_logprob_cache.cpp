// Dataset pairs' reference log-probabilities computed once (issue 33): a run
// that takes them from the cache (its own, or the database's from an earlier
// run) trains exactly as one that recomputes them; another reference or
// another tokenization invalidates them; unusable stored values are
// recomputed with a notice, never used, never a crash; the database keeps
// one row per stored pair, and a damaged row is repaired by the next run.
#include "app/session/training_session.h"
#include "core/values/run_state.h"
#include "core/judges/task_judge.h"
#include "core/loop/online_loop.h"
#include "storage/preference_store.h"
#include "storage/run_store.h"
#include "support/session_fixture.h"
#include "support/test_main.h"

#include <QDir>
#include <QRegularExpression>
#include <QSignalSpy>

#include <cmath>
#include <limits>
#include <map>
#include <set>

using namespace preflab;
using namespace preflab::test;

namespace {

struct Recorder : LoopObserver {
    std::map<std::string, std::vector<double>> series;
    std::vector<ReferenceLogprobRecord> records;
    std::vector<LoopNotice> notices;
    void metricsLogged(const std::vector<MetricSample>& m) override {
        for (const MetricSample& s : m) series[s.name].push_back(s.value);
    }
    void referenceLogprobsComputed(const std::vector<ReferenceLogprobRecord>& r) override {
        records.insert(records.end(), r.begin(), r.end());
    }
    void noticeRaised(const LoopNotice& n) override { notices.push_back(n); }
};

// Six stored pairs (ids 11..16), the odd ones with response b chosen.
std::vector<OfflinePair> storedPairs() {
    std::vector<OfflinePair> d;
    const char* animals[] = {"fox", "cat", "owl", "dog", "hen", "elk"};
    for (int i = 0; i < 6; ++i) {
        const std::string a = animals[i];
        OfflinePair p{"Tell me about the " + a + ".", "The " + a + " is friendly.", "Ugh, fine. The " + a + " is grumpy."};
        p.pairId = 11 + i;
        p.chosenIsA = i % 2 == 0;
        d.push_back(std::move(p));
    }
    return d;
}

// The pairs with the values `records` hold attached as the database would.
std::vector<OfflinePair> withCache(std::vector<OfflinePair> pairs, const std::vector<ReferenceLogprobRecord>& records) {
    for (OfflinePair& p : pairs) {
        for (const ReferenceLogprobRecord& r : records) {
            if (r.pairId == p.pairId) p.cachedRef = r.values;
        }
    }
    return pairs;
}

// Offline DPO on `pairs` for `steps` steps of 4 pairs (four epochs of six pairs).
Recorder train(const std::string& model, const QTemporaryDir& dir, std::vector<OfflinePair> pairs,
               const std::string& refLogprobs = "cache", int steps = 6) {
    LoopSetup setup;
    RunConfig& c = setup.config;
    c.algorithm = "dpo";
    c.pairs = "test";  // the pairs come from the test
    c.refLogprobs = refLogprobs;
    c.batchSize = 4;
    c.steps = steps;
    c.evalEvery = 0;
    c.checkpointEvery = 0;
    c.warmupSteps = 0;
    c.heldOutPairs = 0;
    c.lr = 1e-3;  // the policy moves: the margins are not all zero
    setup.modelPath = model;
    setup.checkpointDir = (dir.path() + "/ck").toStdString();
    setup.offlinePairs = std::move(pairs);
    Recorder r;
    OnlineLoop loop(setup, std::make_unique<TaskJudge>(), &r);
    std::atomic_bool cancel{false};
    StepOutcome o;
    while ((o = loop.step(cancel)) == StepOutcome::Trained) {
    }
    if (o != StepOutcome::Finished) qFatal("loop ended with %d: %s", int(o), loop.lastError().c_str());
    return r;
}

// The largest difference between two series of equal length.
double maxDifference(const std::vector<double>& a, const std::vector<double>& b) {
    if (a.size() != b.size() || a.empty()) return std::numeric_limits<double>::infinity();
    double d = 0;
    for (size_t i = 0; i < a.size(); ++i) d = std::max(d, std::abs(a[i] - b[i]));
    return d;
}

std::string modelIn(const QTemporaryDir& dir, const QString& name, uint64_t seed) {
    QDir(dir.path()).mkpath(name);
    return writeTinyModel(dir.path() + "/" + name, seed);
}

std::vector<double> storedLosses(const std::string& db, int64_t run) {
    auto d = Database::open(db);
    SqlStatement s(d->connection(), "SELECT value FROM metrics WHERE run_id = ? AND name = 'loss' ORDER BY step");
    s.bind(1, run);
    std::vector<double> out;
    while (s.step()) out.push_back(s.real(0));
    return out;
}

}  // namespace

class TestRefLogprobCache : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { registerRunValueMetaTypes(); }

    // Cached and recomputed values train alike; each stored pair is computed
    // (and reported for storage) once in four epochs, with recompute never.
    void cacheTrainsAsRecompute() {
        QTemporaryDir dir;
        const std::string model = modelIn(dir, "m", 3);
        const Recorder cached = train(model, dir, storedPairs(), "cache");
        const Recorder recomputed = train(model, dir, storedPairs(), "recompute");
        for (const char* metric : {"loss", "rewards/margins", "rewards/chosen", "logps/rejected", "grad_norm"}) {
            const double d = maxDifference(cached.series.at(metric), recomputed.series.at(metric));
            QVERIFY2(d <= 1e-6, qPrintable(QString("%1 differs by %2").arg(metric).arg(d)));
        }
        QVERIFY(cached.series.at("rewards/margins").back() != 0.0);  // the reference entered the loss
        QCOMPARE(cached.records.size(), size_t(6));
        std::set<int64_t> ids;
        for (const ReferenceLogprobRecord& r : cached.records) {
            ids.insert(r.pairId);
            QVERIFY(r.values.chosen < 0 && r.values.rejected < 0);
            QVERIFY(r.values.fingerprint.rfind("ref1-", 0) == 0);
        }
        QCOMPARE(ids.size(), size_t(6));
        QVERIFY(recomputed.records.empty());
        QVERIFY(cached.notices.empty());
    }

    // Stored values under the same reference are used as they are: nothing is
    // recomputed, and a (valid) changed value changes the loss.
    void storedValuesAreUsed() {
        QTemporaryDir dir;
        const std::string model = modelIn(dir, "m", 3);
        const Recorder first = train(model, dir, storedPairs(), "cache", 2);
        const Recorder again = train(model, dir, withCache(storedPairs(), first.records), "cache", 2);
        QVERIFY(again.records.empty());
        QCOMPARE(again.series.at("loss"), first.series.at("loss"));
        std::vector<ReferenceLogprobRecord> shifted = first.records;
        for (ReferenceLogprobRecord& r : shifted) r.values.chosen -= 1.0;
        const Recorder moved = train(model, dir, withCache(storedPairs(), shifted), "cache", 2);
        QVERIFY(moved.records.empty());
        // At step 1 the policy is the reference: h = +1 for every pair, loss = -log sigma(beta).
        const double beta = RunConfig().beta;
        QVERIFY(std::abs(moved.series.at("loss").front() - std::log1p(std::exp(-beta))) < 1e-5);
        QVERIFY(std::abs(first.series.at("loss").front() - std::log(2.0)) < 1e-5);
    }

    // Another reference model: the stored values are stale; every pair is
    // recomputed under the new fingerprint, and the run trains as one that
    // recomputes.
    void anotherReferenceInvalidates() {
        QTemporaryDir dir;
        const Recorder underA = train(modelIn(dir, "a", 3), dir, storedPairs(), "cache", 2);
        const std::string b = modelIn(dir, "b", 5);
        const Recorder underB = train(b, dir, withCache(storedPairs(), underA.records), "cache");
        const Recorder recomputedB = train(b, dir, storedPairs(), "recompute");
        QCOMPARE(underB.records.size(), size_t(6));
        QVERIFY(underB.records.front().values.fingerprint != underA.records.front().values.fingerprint);
        QVERIFY(maxDifference(underB.series.at("loss"), recomputedB.series.at("loss")) <= 1e-6);
        QVERIFY(underB.notices.empty());  // stale is not damaged
    }

    // The same reference, other token ids (a changed tokenizer, prompt format
    // or context fit): recomputed.
    void otherTokensInvalidate() {
        QTemporaryDir dir;
        const std::string model = modelIn(dir, "m", 3);
        const Recorder first = train(model, dir, storedPairs(), "cache", 2);
        std::vector<ReferenceLogprobRecord> other = first.records;
        for (ReferenceLogprobRecord& r : other) {
            r.values.tokensKey ^= 1;
            r.values.chosen = r.values.rejected = -1.0;  // would change the loss if used
        }
        const Recorder again = train(model, dir, withCache(storedPairs(), other), "cache", 2);
        QCOMPARE(again.records.size(), size_t(6));
        QCOMPARE(again.series.at("loss"), first.series.at("loss"));
    }

    // Unusable stored values (a damaged row) are recomputed and reported once,
    // naming the pair; the run trains as one that recomputes.
    void unusableValuesAreRecomputed_data() {
        QTest::addColumn<double>("value");
        QTest::newRow("nan") << std::numeric_limits<double>::quiet_NaN();
        QTest::newRow("inf") << -std::numeric_limits<double>::infinity();
        QTest::newRow("positive") << 0.5;
    }
    void unusableValuesAreRecomputed() {
        QFETCH(double, value);
        QTemporaryDir dir;
        const std::string model = modelIn(dir, "m", 3);
        const Recorder first = train(model, dir, storedPairs(), "cache", 2);
        std::vector<ReferenceLogprobRecord> damaged = first.records;
        for (ReferenceLogprobRecord& r : damaged) r.values.rejected = value;
        const Recorder again = train(model, dir, withCache(storedPairs(), damaged), "cache", 2);
        QCOMPARE(again.series.at("loss"), first.series.at("loss"));
        QCOMPARE(again.records.size(), size_t(6));  // stored again, repaired
        QCOMPARE(again.notices.size(), size_t(1));
        QCOMPARE(again.notices.front().kind, std::string("reference_cache"));
        const QString message = QString::fromStdString(again.notices.front().message);
        QVERIFY2(message.contains(QRegularExpression("of pair 1[1-6] ")), qPrintable(message));
    }

    // Through the workbench's session and the database: the first run stores
    // one row per pair, a second run reads them back and trains alike, a
    // damaged row (text where a number belongs) is recomputed, stored again
    // and named in the run's warnings, and recompute trains alike too.
    void sessionStoresAndReusesThem() {
        QTemporaryDir dir;
        SessionSetup setup = tinySetup(dir, writeTinyModel(dir.path()));
        {
            auto db = Database::open(setup.databasePath);
            PreferenceStore store(*db);
            for (const OfflinePair& p : storedPairs()) {
                PairRow row;
                row.prompt = p.prompt;
                row.a.text = p.chosenIsA ? p.chosen : p.rejected;
                row.b.text = p.chosenIsA ? p.rejected : p.chosen;
                row.source = "import";
                row.createdMs = 1;
                const int64_t id = store.insertPair(row);
                store.insertLabel({id, std::nullopt, std::nullopt, p.chosenIsA ? "a" : "b", "import", "ann", 1});
            }
        }
        setup.config.algorithm = "dpo";
        setup.config.pairs = "db";
        setup.config.steps = 4;
        setup.config.batchSize = 4;
        setup.config.heldOutPairs = 0;
        setup.config.lr = 1e-3;
        auto runOnce = [&](const std::string& refLogprobs) {
            SessionSetup s = setup;
            s.config.refLogprobs = refLogprobs;
            TrainingSession session(s);
            RunEvents events(session.worker(), this);
            QStringList warnings;
            connect(session.worker(), &TrainingWorker::warningRaised, this,
                    [&](qint64, const QString& kind, const QString&, const QString&) { warnings << kind; });
            session.start();
            if (!QTest::qWaitFor([&] { return events.finished; }, 120000)) qFatal("the run did not finish");
            session.wait();
            if (!events.failures.isEmpty()) qFatal("%s", qPrintable(events.failures.join("; ")));
            return warnings;
        };
        const std::string& db = setup.databasePath;
        runOnce("cache");
        QCOMPARE(queryInt64(db, "SELECT count(*) FROM ref_logprobs"), int64_t(6));
        QCOMPARE(queryInt64(db, "SELECT count(*) FROM ref_logprobs WHERE ref_a < 0 AND ref_b < 0"), int64_t(6));
        const int64_t firstWritten = queryInt64(db, "SELECT max(created_ms) FROM ref_logprobs");
        runOnce("cache");
        QCOMPARE(queryInt64(db, "SELECT max(created_ms) FROM ref_logprobs"), firstWritten);  // read, not rewritten
        {
            auto d = Database::open(db);
            d->connection().exec("UPDATE ref_logprobs SET ref_b = 'garbage' WHERE pair_id = (SELECT min(pair_id) FROM ref_logprobs)");
        }
        const QStringList warnings = runOnce("cache");
        QVERIFY2(warnings.contains("reference_cache"), qPrintable(warnings.join(",")));
        QCOMPARE(queryInt64(db, "SELECT count(*) FROM ref_logprobs WHERE typeof(ref_b) = 'real' AND ref_b < 0"), int64_t(6));
        QCOMPARE(queryInt64(db, "SELECT count(*) FROM run_events WHERE run_id = 3 AND kind = 'reference_cache'"), int64_t(1));
        runOnce("recompute");
        const std::vector<double> cold = storedLosses(db, 1), warm = storedLosses(db, 2), repaired = storedLosses(db, 3),
                                  recomputed = storedLosses(db, 4);
        QCOMPARE(cold.size(), size_t(4));
        QVERIFY(maxDifference(cold, recomputed) <= 1e-6);
        QVERIFY(maxDifference(warm, recomputed) <= 1e-6);
        QVERIFY(maxDifference(repaired, recomputed) <= 1e-6);
    }

    // The store: a row for a pair deleted since it was read stores nothing
    // (the writer's batch is not failed by it); a second row replaces the first.
    void storeReplacesAndSkipsMissingPairs() {
        QTemporaryDir dir;
        auto db = Database::open((dir.path() + "/s.db").toStdString());
        PreferenceStore store(*db);
        PairRow row;
        row.prompt = "p";
        row.a.text = "x";
        row.b.text = "y";
        const int64_t id = store.insertPair(row);
        store.storeRefLogprobs({id + 100, "ref1-a", 7, -1.0, -2.0, 1});
        QVERIFY(store.refLogprobs().empty());
        store.storeRefLogprobs({id, "ref1-a", 7, -1.0, -2.0, 1});
        store.storeRefLogprobs({id, "ref1-b", 8, -3.0, -4.0, 2});
        const auto rows = store.refLogprobs();
        QCOMPARE(rows.size(), size_t(1));
        QCOMPARE(rows.at(id).fingerprint, std::string("ref1-b"));
        QCOMPARE(rows.at(id).tokensKey, int64_t(8));
        QCOMPARE(rows.at(id).refA, -3.0);
        QCOMPARE(rows.at(id).refB, -4.0);
        db->connection().exec("UPDATE ref_logprobs SET ref_a = 'x'");
        QVERIFY(std::isnan(store.refLogprobs().at(id).refA));
    }
};

PREFLAB_TEST_MAIN(TestRefLogprobCache)
#include "tst_ref_logprob_cache.moc"
