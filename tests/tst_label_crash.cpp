// A person's labels survive kill -9. A child process labels as fast as it can
// through RunController (the GUI's path, without the widgets): it labels
// every pair the run offers, takes some labels back at once (undo) and gives
// them again, and prints each "saved N" the controller reports, which is what
// the labeling view's footer shows. The parent kills it with SIGKILL at
// seeded random moments; afterwards the database is intact, holds at least
// every label the child saw saved, no more than it gave, and no label that
// was taken back.
#include "app/session/run_controller.h"
#include "support/session_fixture.h"
#include "support/test_main.h"

#include <QElapsedTimer>
#include <QProcess>
#include <QTemporaryDir>

#include <cstdio>
#include <cstring>
#include <random>
#include <set>
#include <signal.h>

using namespace preflab;
using namespace preflab::test;

namespace {

int childMain(int argc, char** argv) {
    QCoreApplication app(argc, argv);
    registerRunValueMetaTypes();
    const QString folder = QString::fromLocal8Bit(argv[2]);
    const std::string model = argv[3];
    QTemporaryDir unused;
    SessionSetup s = tinySetup(unused, model);
    s.databasePath = (folder + "/labels.db").toStdString();
    Database::open(s.databasePath);
    RunConfig config = s.config;
    config.model = model;
    config.judge = "human";
    config.annotator = "ada";
    config.checkpointEvery = 4;  // checkpoint writes happen too
    RunController c(QString::fromStdString(s.databasePath), folder + "/data");
    QObject::connect(&c, &RunController::labelsSaved, &app, [](qint64 n) {
        std::printf("saved %lld\n", static_cast<long long>(n));
        std::fflush(stdout);
    });
    int given = 0;  // labels given and not taken back
    std::set<int64_t> labeled;
    QObject::connect(&c, &RunController::labelQueueChanged, &app, [&](const QVector<PairForJudging>& waiting) {
        for (const PairForJudging& p : waiting) {
            if (labeled.count(p.pairIndex)) continue;
            Judgement j;
            j.pairIndex = p.pairIndex;
            j.choice = p.pairIndex % 2 ? Choice::A : Choice::B;
            j.annotator = "ada";
            if (!c.label(j)) continue;
            labeled.insert(p.pairIndex);
            ++given;
            if (p.pairIndex % 3 == 0) {  // a quick undo and a second thought
                PairForJudging back;
                if (c.undoLastLabel(&back) == UndoResult::Retracted) {
                    j.choice = j.choice == Choice::A ? Choice::B : Choice::A;
                    if (!c.label(j)) std::fprintf(stderr, "pair %lld was not waiting again after undo\n",
                                                  static_cast<long long>(p.pairIndex));
                    // With the count of labels given by then: once that many are
                    // saved, the undo and the second label are on disk too (the
                    // writer commits in order).
                    std::printf("flipped %lld %d\n", static_cast<long long>(p.pairIndex), given);
                }
            }
            std::printf("given %d\n", given);
            std::fflush(stdout);
        }
    });
    QString error;
    if (!c.startRun(config, &error)) {
        std::fprintf(stderr, "%s\n", qPrintable(error));
        return 1;
    }
    return app.exec();
}

struct Seen {
    int64_t saved = 0, given = 0;
    // Pairs whose first label was taken back and given the other way, with
    // the number of labels given by then.
    std::vector<std::pair<int64_t, int64_t>> flipped;
};

void readLines(QByteArray& buffer, Seen& seen) {
    int nl;
    while ((nl = buffer.indexOf('\n')) >= 0) {
        const QByteArray line = buffer.left(nl);
        buffer.remove(0, nl + 1);
        if (line.startsWith("saved ")) seen.saved = std::max<int64_t>(seen.saved, line.mid(6).toLongLong());
        if (line.startsWith("given ")) seen.given = std::max<int64_t>(seen.given, line.mid(6).toLongLong());
        if (line.startsWith("flipped ")) {
            const QList<QByteArray> f = line.mid(8).split(' ');
            seen.flipped.emplace_back(f.value(0).toLongLong(), f.value(1).toLongLong());
        }
    }
}

}  // namespace

class TestLabelCrash : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void killedLabelingKeepsEverySavedLabel() {
        QTemporaryDir modelDir;
        const std::string model = writeTinyModel(modelDir.path());
        std::mt19937 rng(20261127);
        std::uniform_int_distribution<int> delayMs(0, 1500);
        int64_t savedTotal = 0, storedTotal = 0, givenTotal = 0, flippedTotal = 0, flippedOnDisk = 0;
        for (int trial = 0; trial < 20; ++trial) {
            QTemporaryDir dir;
            QProcess child;
            child.setProgram(QCoreApplication::applicationFilePath());
            child.setArguments({"--child-labeler", dir.path(), QString::fromStdString(model)});
            child.start();
            QVERIFY(child.waitForStarted());
            Seen seen;
            QByteArray buffer;
            // Until the first label is on disk, then a random while longer.
            while (seen.saved < 1) {
                QVERIFY2(child.waitForReadyRead(60000), qPrintable(child.readAllStandardError()));
                buffer += child.readAllStandardOutput();
                readLines(buffer, seen);
            }
            const int delay = delayMs(rng);
            QElapsedTimer t;
            t.start();
            while (t.elapsed() < delay && child.state() == QProcess::Running) {
                child.waitForReadyRead(std::max<int>(1, delay - static_cast<int>(t.elapsed())));
            }
            QVERIFY2(child.state() == QProcess::Running, qPrintable(child.readAllStandardError()));
            ::kill(static_cast<pid_t>(child.processId()), SIGKILL);
            QVERIFY(child.waitForFinished(10000));
            buffer += child.readAllStandardOutput();  // all it printed before it died
            readLines(buffer, seen);

            const std::string db = (dir.path() + "/labels.db").toStdString();
            QCOMPARE(queryText(db, "PRAGMA integrity_check"), std::string("ok"));
            const int64_t stored = queryInt64(db, "SELECT count(*) FROM labels WHERE source = 'human'");
            QVERIFY2(stored >= seen.saved && stored <= seen.given + 1,
                     qPrintable(QString("trial %1: saved %2, stored %3, given %4").arg(trial).arg(seen.saved).arg(stored).arg(seen.given)));
            // A label taken back is gone: one label per pair.
            QVERIFY(queryInt64(db, "SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM labels GROUP BY pair_id)") <= 1);
            // A label taken back and given again is stored as the second choice
            // (pair index odd: "a" first, then "b") once the child saw it saved.
            // Killed before that, the undo may not have reached the disk, and
            // the first label, which was saved, stands: nothing promised more.
            for (const auto& [pair, givenBy] : seen.flipped) {
                const std::string choice = queryText(db, "SELECT l.choice FROM labels l JOIN pairs p ON p.id = l.pair_id "
                                                         "WHERE p.run_index = " + std::to_string(pair));
                if (seen.saved >= givenBy) {
                    QCOMPARE(choice, std::string(pair % 2 ? "b" : "a"));
                    ++flippedOnDisk;
                }
            }
            flippedTotal += static_cast<int64_t>(seen.flipped.size());
            savedTotal += seen.saved, storedTotal += stored, givenTotal += seen.given;
        }
        qInfo("20 kills while labeling: %lld labels acknowledged as saved, %lld stored, %lld given, %lld taken back and "
              "given again (%lld of them seen saved)",
              static_cast<long long>(savedTotal), static_cast<long long>(storedTotal), static_cast<long long>(givenTotal),
              static_cast<long long>(flippedTotal), static_cast<long long>(flippedOnDisk));
        QVERIFY(flippedOnDisk > 0);  // the undo path ran and was checked on disk
    }
};

int main(int argc, char** argv) {
    preflab::applyLibraryEnvironment(argc, argv);
    if (argc == 4 && std::strcmp(argv[1], "--child-labeler") == 0) return childMain(argc, argv);
    QCoreApplication app(argc, argv);
    TestLabelCrash tc;
    return QTest::qExec(&tc, argc, argv);
}
#include "tst_label_crash.moc"
