// The training worker on its QThread: start, pause, resume and stop answer
// within one step; labels from a person are stored with their annotator;
// a non-finite loss pauses the run without writing a checkpoint.
#include "app/session/run_recorder.h"
#include "app/session/starter_model_job.h"
#include "app/session/training_session.h"
#include "core/values/checkpoint_paths.h"
#include "storage/metric_store.h"
#include "storage/preference_store.h"
#include "storage/run_store.h"
#include "support/session_fixture.h"
#include "support/test_main.h"

#include <QDir>
#include <QSignalSpy>

#include <atomic>
#include <filesystem>

using namespace preflab;
using namespace preflab::test;


class TestTrainingSession : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { registerRunValueMetaTypes(); }

    void pauseResumeStopWithinOneStep() {
        QTemporaryDir dir;
        SessionSetup setup = tinySetup(dir, writeTinyModel(dir.path()));
        // The worker's own step, written on its thread as each step ends: the
        // step a request meets is then exact, however far the queued signals
        // lag behind fast steps on a busy machine. (The probe outlives the
        // session, so nothing writes to `step` once this function has returned.)
        std::atomic<qint64> step{0};
        QObject probe;
        TrainingSession session(setup);
        connect(session.worker(), &TrainingWorker::progress, &probe, [&step](qint64 s, qint64) { step = s; },
                Qt::DirectConnection);
        RunEvents events(session.worker(), this);
        session.start();
        QTRY_VERIFY_WITH_TIMEOUT(step >= 3, 60000);

        const qint64 atPause = step;
        session.pause();
        QTRY_VERIFY_WITH_TIMEOUT(!events.states.isEmpty() && events.states.last() == RunState::Paused, 30000);
        QVERIFY2(step <= atPause + 1, qPrintable(QString("paused at %1, requested at %2").arg(step.load()).arg(atPause)));
        const qint64 paused = step;
        QTest::qWait(200);  // while paused, nothing advances (the event loop keeps running)
        QCOMPARE(step.load(), paused);

        session.resume();
        QTRY_VERIFY_WITH_TIMEOUT(step >= paused + 2, 60000);
        const qint64 atStop = step;
        session.stop();
        QTRY_VERIFY_WITH_TIMEOUT(events.finished, 30000);
        QVERIFY(step <= atStop + 1);
        QVERIFY(events.metricBatches > 0);

        session.wait();
        const auto runs = RunStore(*Database::open(setup.databasePath)).list();
        QCOMPARE(runs.size(), size_t(1));
        QCOMPARE(runs[0].run.status, std::string("stopped"));
        QCOMPARE(runs[0].run.lastStep, step.load());
        QCOMPARE(runs[0].latest.count("loss"), size_t(1));
        // Every generated pair has its task label, and the trained ones are marked.
        QCOMPARE(runs[0].labels, runs[0].pairs);
        QVERIFY(queryInt64(setup.databasePath, "SELECT count(*) FROM pairs WHERE trained_step IS NOT NULL") >= 2 * step);
        // The stop wrote a checkpoint of the last step.
        QVERIFY(RunStore(*Database::open(setup.databasePath)).latestCheckpoint(runs[0].run.id)->step == step.load());
    }

    void humanLabelsAreStoredWithAnnotator() {
        QTemporaryDir dir;
        SessionSetup setup = tinySetup(dir, writeTinyModel(dir.path()));
        setup.config.judge = "human";
        setup.config.annotator = "ada";
        setup.config.steps = 2;
        setup.humanQueue = std::make_shared<HumanLabelQueue>();
        TrainingSession session(setup);
        RunEvents events(session.worker(), this);
        session.start();
        int labeled = 0;
        // Label whatever is waiting (A), as the GUI would, until the run ends.
        QTRY_VERIFY_WITH_TIMEOUT(
            [&] {
                for (const PairForJudging& p : setup.humanQueue->pending()) {
                    labeled += setup.humanQueue->provide(p.pairIndex, labeled % 3 == 2 ? Choice::Tie : Choice::A, "ada");
                }
                return events.finished;
            }(),
            60000);
        session.wait();
        QVERIFY(labeled >= 4);
        // Every label given before the run ended is stored, with its annotator.
        const int64_t stored = queryInt64(setup.databasePath, "SELECT count(*) FROM labels WHERE source = 'human'");
        QVERIFY(stored >= 4 && stored <= labeled);
        QCOMPARE(queryInt64(setup.databasePath, "SELECT count(*) FROM labels WHERE annotator = 'ada'"), stored);
        QVERIFY(queryInt64(setup.databasePath, "SELECT count(*) FROM labels WHERE choice = 'tie'") >= 1);
        bool waited = false;
        for (RunState s : events.states) waited |= s == RunState::WaitingForLabels;
        QVERIFY(waited);
    }

    // With a person judging, a share of their labels is held back from
    // training and becomes the held-out set; a resumed run takes the labels
    // it held back before.
    void heldBackLabelsAreTheHeldOutSetAcrossAResume() {
        QTemporaryDir dir;
        SessionSetup setup = tinySetup(dir, writeTinyModel(dir.path()));
        setup.config.judge = "human";
        setup.config.annotator = "ada";
        setup.config.heldOutShare = 0.5;
        setup.config.heldOutPairs = 64;
        setup.config.evalEvery = 4;
        setup.config.evalSamples = 8;
        setup.config.checkpointEvery = 8;
        auto labelToTheEnd = [&](int steps, int64_t resumeRun) {
            setup.config.steps = steps;
            setup.resumeRunId = resumeRun;
            setup.humanQueue = std::make_shared<HumanLabelQueue>();
            TrainingSession session(setup);
            RunEvents events(session.worker(), this);
            session.start();
            int given = 0;
            const bool done = QTest::qWaitFor(
                [&] {
                    for (const PairForJudging& p : setup.humanQueue->pending()) {
                        given += setup.humanQueue->provide(p.pairIndex, given % 2 ? Choice::B : Choice::A, "ada");
                    }
                    return events.finished;
                },
                120000);
            session.wait();
            return done && events.failures.isEmpty();
        };
        QVERIFY(labelToTheEnd(8, 0));
        const std::string db = setup.databasePath;
        // The labelled, untrained pairs the rule holds back, and none it holds back was trained on.
        std::vector<int64_t> heldBack;
        int64_t trainedHeldBack = 0;
        {
            auto d = Database::open(db);
            SqlStatement s(d->connection(),
                              "SELECT pairs.run_index, pairs.trained_step IS NOT NULL FROM pairs JOIN labels l ON l.pair_id = pairs.id "
                              "WHERE l.source = 'human' AND l.choice IN ('a','b') ORDER BY pairs.run_index");
            while (s.step()) {
                if (!heldBackPair(static_cast<uint64_t>(setup.config.seed), s.int64(0), 0.5)) continue;
                if (s.int64(1)) ++trainedHeldBack;
                else heldBack.push_back(s.int64(0));
            }
        }
        QCOMPARE(trainedHeldBack, int64_t(0));
        QVERIFY2(static_cast<int64_t>(heldBack.size()) >= int64_t(8), qPrintable(QString::number(heldBack.size())));
        const auto lastHeldOut = [&] {
            return queryInt64(db, "SELECT CAST(value AS INTEGER) FROM metrics WHERE name = 'eval/held_out_pairs' ORDER BY step DESC LIMIT 1");
        };
        const int64_t before = lastHeldOut();
        QVERIFY2(before >= int64_t(8) && before <= static_cast<int64_t>(heldBack.size()),
                 qPrintable(QString("%1 held out, %2 held back").arg(before).arg(heldBack.size())));
        QVERIFY(queryInt64(db, "SELECT count(*) FROM metrics WHERE name = 'eval/rewards/accuracies'") >= 1);

        // Resumed: the set starts with what was held back before and grows.
        QVERIFY(labelToTheEnd(12, 1));
        QCOMPARE(queryInt64(db, "SELECT max(step) FROM metrics WHERE name = 'eval/held_out_pairs'"), int64_t(12));
        QVERIFY2(lastHeldOut() >= static_cast<int64_t>(heldBack.size()),
                 qPrintable(QString("%1 held out after the resume, %2 held back before").arg(lastHeldOut()).arg(heldBack.size())));
    }

    // Run ids are per database: two databases sharing one data folder each
    // have a run 1, and each keeps, resumes from and reports its own checkpoints.
    void checkpointsBelongToTheirDatabase() {
        QTemporaryDir dir;
        const std::string model = writeTinyModel(dir.path());
        std::vector<SessionSetup> setups;
        for (int i = 0; i < 2; ++i) {
            SessionSetup s = tinySetup(dir, model);
            s.databasePath = (dir.path() + QStringLiteral("/db%1.db").arg(i)).toStdString();
            Database::open(s.databasePath);
            s.config.steps = 3;
            s.config.seed = 1 + i;  // different training, so different weights
            setups.push_back(s);
        }
        auto runToEnd = [this](const SessionSetup& s) {
            TrainingSession session(s);
            RunEvents events(session.worker(), this);
            session.start();
            const bool done = QTest::qWaitFor([&] { return events.finished; }, 120000);
            session.wait();
            return done && events.failures.isEmpty();
        };
        std::vector<std::string> paths;
        for (const SessionSetup& s : setups) {
            QVERIFY(runToEnd(s));
            const auto ck = RunStore(*Database::open(s.databasePath)).latestCheckpoint(1);
            QVERIFY(ck.has_value());
            QCOMPARE(ck->step, int64_t(3));
            QVERIFY(std::filesystem::exists(ck->path));
            paths.push_back(ck->path);
        }
        QVERIFY2(paths[0] != paths[1], paths[0].c_str());
        // Neither overwrote the other: the two step-3 policies differ.
        Transformer a = loadModelFile(paths[0]), b = loadModelFile(paths[1]);
        QVERIFY(!torch::equal(a->named_parameters()["block0.fc.weight"], b->named_parameters()["block0.fc.weight"]));
        // Each resumes from its own: two more steps, saved in its own folder.
        for (size_t i = 0; i < setups.size(); ++i) {
            SessionSetup s = setups[i];
            s.resumeRunId = 1;
            s.config.steps = 5;
            QVERIFY(runToEnd(s));
            const auto ck = RunStore(*Database::open(s.databasePath)).latestCheckpoint(1);
            QCOMPARE(ck->step, int64_t(5));
            QCOMPARE(std::filesystem::path(ck->path).parent_path(), std::filesystem::path(paths[i]).parent_path());
            QCOMPARE(queryInt64(s.databasePath, "SELECT max(step) FROM metrics WHERE name = 'loss'"), int64_t(5));
        }
    }

    // The GUI's first-run pretraining: progress arrives on the owner's thread,
    // the model file appears; a cancelled job leaves no file behind.
    void starterModelJobReportsProgressAndCancels() {
        QTemporaryDir dir;
        const QString path = dir.path() + "/starter.pt";
        StarterModelJob job(path, 6);
        QSignalSpy progress(&job, &StarterModelJob::progress);
        QSignalSpy finished(&job, &StarterModelJob::finished);
        job.start();
        QVERIFY(finished.wait(60000));
        QVERIFY2(finished.first().at(0).toBool(), qPrintable(finished.first().at(1).toString()));
        QVERIFY(!progress.isEmpty());
        QCOMPARE(progress.last().at(0).toLongLong(), qint64(6));  // the last step is always reported
        QCOMPARE(progress.last().at(1).toLongLong(), qint64(6));
        QVERIFY(QFile::exists(path));

        const QString cancelledPath = dir.path() + "/cancelled.pt";
        StarterModelJob cancelled(cancelledPath, 100000);
        QSignalSpy cancelledDone(&cancelled, &StarterModelJob::finished);
        connect(&cancelled, &StarterModelJob::progress, &cancelled, &StarterModelJob::cancel);
        cancelled.start();
        QVERIFY(cancelledDone.wait(60000));
        QVERIFY(!cancelledDone.first().at(0).toBool());
        QVERIFY(!QFile::exists(cancelledPath));
    }

    // A non-finite loss halts the step: nothing is applied, the run pauses,
    // and no checkpoint is written for the halted step. Stopping afterwards
    // saves the unchanged step-0 policy.
    // The path of a warning: metrics reach the recorder, the monitor raises
    // KL runaway once, the recorder stores it with the run (one row even when
    // the stream shows it again) and tells its owner.
    void warningsAreStoredOnceWithTheRun() {
        QTemporaryDir dir;
        const std::string path = (dir.path() + "/w.db").toStdString();
        int64_t runId = 0;
        {
            auto db = Database::open(path);
            RunRow r;
            r.configJson = "{}";
            r.codeVersion = "test";
            runId = RunStore(*db).create(r);
        }
        StorageWriter writer(path);
        RunRecorder recorder(runId, writer);
        std::vector<RunWarning> told;
        recorder.onWarning = [&](const RunWarning& w) { told.push_back(w); };
        for (int64_t step = 0; step <= 100; step += 20) {
            recorder.metricsLogged({{step, "kl/exact", 3.0 * static_cast<double>(step) / 20.0, 0}, {step, "gold/reward", 0.1, 0}});
        }
        QVERIFY(writer.flush());
        QCOMPARE(told.size(), size_t(1));
        QCOMPARE(told[0].kind, std::string("kl_runaway"));
        QCOMPARE(told[0].step, int64_t(80));  // 12 nats, the first above 10
        auto db = Database::open(path);
        const auto events = MetricStore(*db).events(runId);
        QCOMPARE(events.size(), size_t(1));
        QCOMPARE(events[0].kind, std::string("kl_runaway"));
        QCOMPARE(events[0].step, int64_t(80));
        QCOMPARE(events[0].message, told[0].message);
        QVERIFY(!events[0].advice.empty());
        // A resumed run (a fresh monitor) raising it again keeps the first row.
        RunRecorder resumed(runId, writer);
        resumed.metricsLogged({{120, "kl/exact", 20.0, 0}});
        QVERIFY(writer.flush());
        QCOMPARE(MetricStore(*db).events(runId).size(), size_t(1));
        QCOMPARE(MetricStore(*db).events(runId)[0].step, int64_t(80));
    }

    void nonFiniteLossPausesWithoutCheckpoint() {
        QTemporaryDir dir;
        const std::string model = writeTinyModel(dir.path(), 3, /*poison=*/true);
        SessionSetup setup = tinySetup(dir, model);
        setup.config.judge = "self";  // labels every pair A or B, so the NaN reaches the loss
        TrainingSession session(setup);
        qint64 runId = 0;
        connect(session.worker(), &TrainingWorker::runCreated, this, [&](qint64 id) { runId = id; });
        RunEvents events(session.worker(), this);
        session.start();
        QTRY_VERIFY_WITH_TIMEOUT(!events.failures.isEmpty(), 60000);
        QVERIFY2(events.failures.first().contains("non-finite"), qPrintable(events.failures.first()));
        QTRY_VERIFY(!events.states.isEmpty() && events.states.last() == RunState::Paused);
        // Paused by the halt: the loop wrote no checkpoint file (it writes them
        // on the training thread before it reports a state).
        const std::string runDir = runCheckpointDir(setup.dataDir, Database::open(setup.databasePath)->identity(), runId);
        QVERIFY(runId > 0);
        QVERIFY2(!std::filesystem::exists(runDir) || std::filesystem::is_empty(runDir), runDir.c_str());

        session.stop();
        session.wait();
        const auto runs = RunStore(*Database::open(setup.databasePath)).list();
        QCOMPARE(runs[0].run.lastStep, int64_t(0));
        QCOMPARE(queryInt64(setup.databasePath, "SELECT count(*) FROM metrics WHERE name = 'loss'"), int64_t(0));
        // The stop saved step 0, and its weights are the starting ones, bit for bit (NaN where the poison is).
        const auto ck = RunStore(*Database::open(setup.databasePath)).latestCheckpoint(runId);
        QVERIFY(ck.has_value());
        QCOMPARE(ck->step, int64_t(0));
        QCOMPARE(queryInt64(setup.databasePath, "SELECT count(*) FROM checkpoints"), int64_t(1));
        Transformer start = loadModelFile(model), saved = loadModelFile(ck->path);
        auto a = start->named_parameters(), b = saved->named_parameters();
        QCOMPARE(a.size(), b.size());
        for (const auto& item : a) {
            const at::Tensor x = item.value(), y = b[item.key()];
            QVERIFY2(((x == y) | (x.isnan() & y.isnan())).all().item<bool>(), item.key().c_str());
        }
    }
};

PREFLAB_TEST_MAIN(TestTrainingSession)
#include "tst_training_session.moc"
