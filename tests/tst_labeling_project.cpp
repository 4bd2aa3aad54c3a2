// A labeling project without training (storage/labeling_project.h): pairs go
// to annotators until `overlap` have labelled each, started pairs first, in
// each annotator's own A/B order, and `preflab annotate` labels from stdin.
#include "storage/database.h"
#include "storage/guidelines_store.h"
#include "storage/labeling_project.h"
#include "storage/pair_files.h"
#include "storage/preference_store.h"
#include "storage/run_store.h"
#include "support/test_main.h"

#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>

#include "support/test_database.h"

#include <cmath>
#include <set>

using namespace preflab;

namespace {

// Five imported pairs (the import's own labels carry no annotator: they do not count).
std::string fivePairs(const QTemporaryDir& dir) {
    const QString file = dir.path() + "/pairs.jsonl";
    QFile f(file);
    f.open(QIODevice::WriteOnly);
    for (int i = 1; i <= 5; ++i) {
        f.write(QStringLiteral("{\"prompt\": \"P%1\", \"chosen\": \"good %1\", \"rejected\": \"bad %1\"}\n").arg(i).toUtf8());
    }
    f.close();
    const std::string db = test::testDatabase(dir, "project");
    auto d = Database::open(db);
    importPairsJsonl(*d, file.toStdString());
    return db;
}

// The label `annotator` stored last for the pair.
std::string storedLabel(Database& db, int64_t pair, const std::string& annotator) {
    SqlStatement s(db.connection(), "SELECT choice FROM labels WHERE pair_id = ? AND annotator = ? ORDER BY id DESC LIMIT 1");
    s.bind(1, pair).bind(2, annotator);
    return s.step() ? s.text(0) : std::string();
}

}  // namespace

class TestLabelingProject : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void overlapIsReachedAndThenNothingIsLeft() {
        QTemporaryDir dir;
        auto db = Database::open(fivePairs(dir));
        LabelingProject project(*db, 2);
        QCOMPARE(project.pairCount(), int64_t(5));
        QCOMPARE(project.remainingFor("x"), int64_t(5));
        // x labels every pair "a" as shown, a minute apart.
        std::set<int64_t> seen;
        int64_t t = 1000;
        while (auto pair = project.next("x")) {
            QVERIFY(seen.insert(pair->pairId).second);  // never the same pair twice
            project.label(*pair, "a", "x", t += 60000);
            // Blind order: the stored label is the pair's own side.
            QCOMPARE(storedLabel(*db, pair->pairId, "x"), std::string(pair->swapped ? "b" : "a"));
            QCOMPARE(pair->first, std::string((pair->swapped ? "bad " : "good ") + pair->prompt.substr(1)));
        }
        QCOMPARE(seen.size(), size_t(5));
        QCOMPARE(project.completeCount(), int64_t(0));
        // y skips one pair and labels the rest: the skipped pair is not complete.
        int64_t skipped = 0;
        while (auto pair = project.next("y")) {
            if (skipped == 0) skipped = pair->pairId;
            project.label(*pair, pair->pairId == skipped ? "skip" : "b", "y", t += 30000);
        }
        QCOMPARE(project.completeCount(), int64_t(4));
        // z gets only the pair y skipped; then nothing.
        const auto forZ = project.next("z");
        QVERIFY(forZ);
        QCOMPARE(forZ->pairId, skipped);
        project.label(*forZ, "tie", "z", t += 1000);
        QVERIFY(!project.next("z"));
        QCOMPARE(project.completeCount(), int64_t(5));
        QCOMPARE(project.remainingFor("x"), int64_t(0));

        const std::vector<AnnotatorProgress> progress = project.progress();
        QCOMPARE(progress.size(), size_t(3));
        QCOMPARE(progress[0].annotator, std::string("x"));
        QCOMPARE(progress[0].labels, int64_t(5));
        QVERIFY(std::abs(progress[0].perMinute - 1.0) < 1e-12);  // 4 intervals of a minute
        QCOMPARE(progress[1].skips, int64_t(1));
        QVERIFY(std::abs(progress[1].perMinute - 2.0) < 1e-12);
        QVERIFY(std::isnan(progress[2].perMinute));  // one label: no speed
    }

    // A pair someone has started comes before a fresh one, so pairs reach
    // their overlap; the order differs between annotators for some pair.
    void startedPairsComeFirstAndOrdersDiffer() {
        QTemporaryDir dir;
        auto db = Database::open(fivePairs(dir));
        LabelingProject project(*db, 3);
        const auto first = project.next("x");
        QVERIFY(first);
        project.label(*first, "a", "x", 1);
        const auto forY = project.next("y");
        QVERIFY(forY);
        QCOMPARE(forY->pairId, first->pairId);
        int differ = 0;
        for (int64_t pair = 1; pair <= 5; ++pair) {
            differ += LabelingProject::swappedFor(pair, "x") != LabelingProject::swappedFor(pair, "y");
        }
        QVERIFY2(differ > 0, "two annotators should not see every pair in the same order");
    }

    // A label keeps the seconds it took and the side shown first, as the
    // pair's own a/b: the project's `first` is shown first, so a swapped
    // pair's first side is b.
    void labelsStoreSecondsAndTheSideShownFirst() {
        QTemporaryDir dir;
        auto db = Database::open(fivePairs(dir));
        LabelingProject project(*db, 1);
        int swapped = 0, straight = 0;
        double seconds = 1.25;
        while (auto pair = project.next("x")) {
            project.label(*pair, "a", "x", 1000, seconds);
            SqlStatement s(db->connection(),
                           "SELECT seconds, shown_first, choice FROM labels WHERE pair_id = ? AND annotator = 'x'");
            s.bind(1, pair->pairId);
            QVERIFY(s.step());
            QCOMPARE(s.real(0), seconds);
            QCOMPARE(s.text(1), std::string(pair->swapped ? "b" : "a"));
            QCOMPARE(s.text(2), s.text(1));  // "a" as shown is the side shown first
            (pair->swapped ? swapped : straight) += 1;
            seconds += 0.5;
        }
        QCOMPARE(swapped + straight, 5);
        // Without seconds (an older caller): NULL, not zero.
        const std::string other = "y";
        const auto pair = LabelingProject(*db, 2).next(other);
        QVERIFY(pair);
        LabelingProject(*db, 2).label(*pair, "b", other, 2000);
        SqlStatement untimed(db->connection(), "SELECT count(*) FROM labels WHERE annotator = 'y' AND seconds IS NULL");
        QVERIFY(untimed.step());
        QCOMPARE(untimed.int64(0), int64_t(1));
    }

    // Guidelines: a run's own come before every pair's; the latest is in
    // force, an empty one takes them away. `preflab guidelines --set` stores
    // a file's; `preflab annotate` prints them first and again for g.
    void guidelinesAreSetAndShownAtTheStart() {
        QTemporaryDir dir;
        const std::string db = fivePairs(dir);
        {
            auto d = Database::open(db);
            RunRow r;
            r.createdMs = 1;
            r.configJson = "{}";
            r.codeVersion = "test";
            const int64_t run = RunStore(*d).create(r);
            GuidelinesStore store(*d);
            QVERIFY(!store.current(std::nullopt));
            store.insert({std::nullopt, "Every pair: prefer the **correct** one.", "lead", 1});
            QCOMPARE(store.current(run)->text, std::string("Every pair: prefer the **correct** one."));
            store.insert({run, "This run: prefer the shorter one.", "lead", 2});
            QCOMPARE(store.current(run)->text, std::string("This run: prefer the shorter one."));
            QCOMPARE(store.current(std::nullopt)->text, std::string("Every pair: prefer the **correct** one."));
            store.insert({std::nullopt, "", "lead", 3});
            QVERIFY(!store.current(std::nullopt));
        }
        const QString file = dir.path() + "/guidelines.md";
        {
            QFile f(file);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write("# How to judge\n\nPrefer the response that is **correct**, then the clearer one.\n");
        }
        QProcess p;
        p.start(QStringLiteral(PREFLAB_CLI),
                {"guidelines", "--db", QString::fromStdString(db), "--set", file, "--author", "lead"});
        QVERIFY(p.waitForFinished(60000));
        QCOMPARE(p.exitCode(), 0);
        p.start(QStringLiteral(PREFLAB_CLI), {"guidelines", "--db", QString::fromStdString(db)});
        QVERIFY(p.waitForFinished(60000));
        QVERIFY2(p.readAllStandardOutput().startsWith("# How to judge\n\nPrefer the response"), "the text as set");
        p.start(QStringLiteral(PREFLAB_CLI),
                {"annotate", "--db", QString::fromStdString(db), "--annotator", "w", "--overlap", "1"});
        QVERIFY(p.waitForStarted());
        p.write("g\na\nq\n");
        p.closeWriteChannel();
        QVERIFY(p.waitForFinished(60000));
        QCOMPARE(p.exitCode(), 0);
        const QByteArray out = p.readAllStandardOutput();
        QVERIFY2(out.count("Prefer the response that is **correct**") == 2 &&
                     out.indexOf("guidelines") < out.indexOf("— pair"),
                 out.constData());
        QVERIFY2(out.contains("1 labels stored for w"), out.constData());
    }

    // The terminal: one answer per line; q stops; every label is stored.
    void annotateCommandLabelsFromStdin() {
        QTemporaryDir dir;
        const std::string db = fivePairs(dir);
        QProcess p;
        QElapsedTimer session;
        session.start();
        p.start(QStringLiteral(PREFLAB_CLI), {"annotate", "--db", QString::fromStdString(db), "--annotator", "w", "--overlap", "1"});
        QVERIFY(p.waitForStarted());
        p.write("a\nmaybe\nx\nq\n");
        p.closeWriteChannel();
        QVERIFY(p.waitForFinished(60000));
        QCOMPARE(p.exitCode(), 0);
        const QByteArray out = p.readAllStandardOutput();
        QVERIFY2(out.contains("'maybe'? a / b / t / x / s / q") && out.contains("2 labels stored for w"), out.constData());
        {
            auto d = Database::open(db);
            QCOMPARE(LabelingProject(*d, 1).completeCount(), int64_t(2));
            // Each label's seconds, from the pair printed to the answer read:
            // known, and no longer than the whole session took.
            SqlStatement s(d->connection(),
                           "SELECT seconds, shown_first, pair_id FROM labels WHERE annotator = 'w' ORDER BY id");
            int rows = 0;
            while (s.step()) {
                ++rows;
                QVERIFY(!s.isNull(0));
                QVERIFY2(s.real(0) >= 0 && s.real(0) <= session.elapsed() / 1000.0, std::to_string(s.real(0)).c_str());
                // A is printed first: the pair's own side of A.
                QCOMPARE(s.text(1), std::string(LabelingProject::swappedFor(s.int64(2), "w") ? "b" : "a"));
            }
            QCOMPARE(rows, 2);
        }
        p.start(QStringLiteral(PREFLAB_CLI), {"annotate", "--db", QString::fromStdString(db), "--progress", "--overlap", "1"});
        QVERIFY(p.waitForFinished(60000));
        const QByteArray progress = p.readAllStandardOutput();
        QVERIFY2(progress.contains("2 of 5 pairs have 1 annotators") && progress.contains("w ") &&
                     progress.contains("3 pairs open to them"),
                 progress.constData());
        p.start(QStringLiteral(PREFLAB_CLI), {"annotate", "--db", QString::fromStdString(db)});
        QVERIFY(p.waitForFinished(60000));
        QCOMPARE(p.exitCode(), 2);  // no annotator name
    }
};

PREFLAB_TEST_MAIN(TestLabelingProject)
#include "tst_labeling_project.moc"
