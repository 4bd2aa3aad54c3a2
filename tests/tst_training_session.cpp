// The training worker on its QThread: start, pause, resume and stop answer
// within one step; labels from a person are stored with their annotator;
// a non-finite loss pauses the run without writing a checkpoint.
#include "app/session/starter_model_job.h"
#include "app/session/training_session.h"
#include "storage/preference_store.h"
#include "storage/run_store.h"
#include "support/session_fixture.h"
#include "support/test_main.h"

#include <QDir>
#include <QSignalSpy>

using namespace preflab;
using namespace preflab::test;


class TestTrainingSession : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { registerRunValueMetaTypes(); }

    void pauseResumeStopWithinOneStep() {
        QTemporaryDir dir;
        SessionSetup setup = tinySetup(dir, writeTinyModel(dir.path()));
        TrainingSession session(setup);
        qint64 step = 0;
        connect(&session, &TrainingSession::progress, this, [&](qint64 s, qint64) { step = s; });
        QSignalSpy states(&session, &TrainingSession::stateChanged);
        QSignalSpy finished(&session, &TrainingSession::finished);
        QSignalSpy metrics(&session, &TrainingSession::metricsReady);
        session.start();
        QTRY_VERIFY_WITH_TIMEOUT(step >= 3, 60000);

        const qint64 atPause = step;
        session.pause();
        QTRY_VERIFY_WITH_TIMEOUT(!states.isEmpty() && states.last().at(0).value<RunState>() == RunState::Paused, 30000);
        QVERIFY2(step <= atPause + 1, qPrintable(QString("paused at %1, requested at %2").arg(step).arg(atPause)));
        const qint64 paused = step;
        QTest::qWait(200);  // while paused, nothing advances (the event loop keeps running)
        QCOMPARE(step, paused);

        session.resume();
        QTRY_VERIFY_WITH_TIMEOUT(step >= paused + 2, 60000);
        const qint64 atStop = step;
        session.stop();
        QVERIFY(finished.wait(30000));
        QVERIFY(step <= atStop + 1);
        QVERIFY(!metrics.isEmpty());

        session.wait();
        const auto runs = RunStore(*Database::open(setup.databasePath)).list();
        QCOMPARE(runs.size(), size_t(1));
        QCOMPARE(runs[0].run.status, std::string("stopped"));
        QCOMPARE(runs[0].run.lastStep, step);
        QCOMPARE(runs[0].latest.count("loss"), size_t(1));
        // Every generated pair has its task label, and the trained ones are marked.
        QCOMPARE(runs[0].labels, runs[0].pairs);
        QVERIFY(queryInt64(setup.databasePath, "SELECT count(*) FROM pairs WHERE trained_step IS NOT NULL") >= 2 * step);
        // The stop wrote a checkpoint of the last step.
        QVERIFY(RunStore(*Database::open(setup.databasePath)).latestCheckpoint(runs[0].run.id)->step == step);
    }

    void humanLabelsAreStoredWithAnnotator() {
        QTemporaryDir dir;
        SessionSetup setup = tinySetup(dir, writeTinyModel(dir.path()));
        setup.config.judge = "human";
        setup.config.annotator = "ada";
        setup.config.steps = 2;
        setup.humanQueue = std::make_shared<HumanLabelQueue>();
        TrainingSession session(setup);
        QSignalSpy states(&session, &TrainingSession::stateChanged);
        QSignalSpy finished(&session, &TrainingSession::finished);
        session.start();
        int labeled = 0;
        // Label whatever is waiting (A), as the GUI would, until the run ends.
        QTRY_VERIFY_WITH_TIMEOUT(
            [&] {
                for (const PairForJudging& p : setup.humanQueue->pending()) {
                    labeled += setup.humanQueue->provide(p.pairIndex, labeled % 3 == 2 ? Choice::Tie : Choice::A, "ada");
                }
                return !finished.isEmpty();
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
        for (const auto& s : states) waited |= s.at(0).value<RunState>() == RunState::WaitingForLabels;
        QVERIFY(waited);
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

    void nonFiniteLossPausesWithoutCheckpoint() {
        QTemporaryDir dir;
        SessionSetup setup = tinySetup(dir, writeTinyModel(dir.path(), 3, /*poison=*/true));
        setup.config.judge = "self";  // labels every pair A or B, so the NaN reaches the loss
        TrainingSession session(setup);
        QSignalSpy failed(&session, &TrainingSession::failed);
        QSignalSpy states(&session, &TrainingSession::stateChanged);
        session.start();
        QVERIFY(failed.wait(60000));
        QVERIFY2(failed.first().at(0).toString().contains("non-finite"), qPrintable(failed.first().at(0).toString()));
        QTRY_VERIFY(states.last().at(0).value<RunState>() == RunState::Paused);
        session.stop();
        session.wait();
        // The stop after a halt saves the (unchanged) step-0 policy; no step was applied.
        const auto runs = RunStore(*Database::open(setup.databasePath)).list();
        QCOMPARE(runs[0].run.lastStep, int64_t(0));
        QCOMPARE(queryInt64(setup.databasePath, "SELECT count(*) FROM metrics WHERE name = 'loss'"), int64_t(0));
    }
};

PREFLAB_TEST_MAIN(TestTrainingSession)
#include "tst_training_session.moc"
