// A labeling project without training (storage/labeling_project.h): pairs go
// to annotators until `overlap` have labelled each, started pairs first, in
// each annotator's own A/B order, and `preflab annotate` labels from stdin.
#include "core/values/proportion_interval.h"
#include "storage/database.h"
#include "storage/gold_pair_store.h"
#include "storage/guidelines_store.h"
#include "storage/labeling_project.h"
#include "storage/pair_files.h"
#include "storage/preference_store.h"
#include "storage/run_store.h"
#include "support/test_main.h"

#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
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

    // About `share` of an annotator's positions are gold slots, and the slots
    // differ between annotators.
    void goldSlotsHoldTheirShare() {
        for (double share : {0.05, 0.2, 0.5}) {
            int slots = 0;
            for (int64_t p = 0; p < 20000; ++p) slots += goldSlot("ada", p, share) ? 1 : 0;
            // Binomial(20000, share): four standard deviations are under 0.015.
            QVERIFY2(std::abs(slots / 20000.0 - share) < 0.015, std::to_string(slots).c_str());
        }
        int differ = 0;
        for (int64_t p = 0; p < 200; ++p) differ += goldSlot("ada", p, 0.2) != goldSlot("ben", p, 0.2);
        QVERIFY(differ > 20);
        QVERIFY(!goldSlot("ada", 0, 0.0));
    }

    // Gold pairs set with `preflab gold` go into `preflab annotate`'s queue
    // at the gold slots, each once, never counted as the project's pairs,
    // never trained on or exported; `preflab agreement --json` scores the
    // annotator on them.
    void goldPairsAreMixedInUnannouncedAndScored() {
        QTemporaryDir dir;
        const QString pairsFile = dir.path() + "/own.jsonl", goldFile = dir.path() + "/gold.jsonl";
        {
            QFile own(pairsFile), gold(goldFile);
            QVERIFY(own.open(QIODevice::WriteOnly) && gold.open(QIODevice::WriteOnly));
            for (int i = 1; i <= 30; ++i)
                own.write(QStringLiteral("{\"prompt\": \"P%1\", \"chosen\": \"good %1\", \"rejected\": \"bad %1\"}\n").arg(i).toUtf8());
            for (int i = 1; i <= 6; ++i)
                gold.write(QStringLiteral("{\"prompt\": \"G%1\", \"chosen\": \"right %1\", \"rejected\": \"wrong %1\"}\n").arg(i).toUtf8());
        }
        const std::string db = test::testDatabase(dir, "gold");
        {
            auto d = Database::open(db);
            QVERIFY(importPairsJsonl(*d, pairsFile.toStdString()).errors.empty());
        }
        auto cli = [&](const QStringList& args, const QByteArray& input = {}) {
            QProcess p;
            p.start(QStringLiteral(PREFLAB_CLI), args + QStringList{"--db", QString::fromStdString(db)});
            p.write(input);
            p.closeWriteChannel();
            p.waitForFinished(60000);
            return std::make_pair(p.exitCode(), p.readAllStandardOutput() + p.readAllStandardError());
        };
        auto [code, out] = cli({"gold", "--import", goldFile, "--share", "0.3", "--author", "lead"});
        QVERIFY2(code == 0 && out.contains("6 gold pairs from") && out.contains("6 stored anew"), out.constData());
        std::tie(code, out) = cli({"gold", "--share", "0.9"});
        QVERIFY2(code == 2 && out.contains("from 0 to 0.5"), out.constData());
        std::tie(code, out) = cli({"gold"});
        QVERIFY2(code == 0 && out.contains("6 gold pairs, gold share 0.3"), out.constData());

        // The annotator answers "a" (the side printed first) to everything.
        std::tie(code, out) = cli({"annotate", "--annotator", "gil", "--overlap", "1"}, QByteArray("a\n").repeated(60));
        QVERIFY2(code == 0 && out.contains("Nothing left"), out.constData());
        auto d = Database::open(db);
        LabelingProject project(*d, 1);
        QCOMPARE(project.pairCount(), int64_t(30));  // gold pairs are not the project's
        QCOMPARE(project.completeCount(), int64_t(30));
        // The printed order: position p held a gold pair exactly at the gold
        // slots, while gold pairs remained.
        SqlStatement order(d->connection(),
                           "SELECT p.text, l.choice, l.pair_id FROM labels l JOIN pairs ON pairs.id = l.pair_id "
                           "JOIN prompts p ON p.id = pairs.prompt_id WHERE l.annotator = 'gil' ORDER BY l.id");
        int64_t position = 0, goldShown = 0, goldRight = 0;
        std::set<std::string> goldSeen;
        while (order.step()) {
            const bool gold = order.text(0)[0] == 'G';
            if (goldShown < 6) QCOMPARE(gold, goldSlot("gil", position, 0.3));
            if (gold) {
                QVERIFY(goldSeen.insert(order.text(0)).second);  // each once
                ++goldShown;
                // Imported anew, each gold pair's a is its right answer: "a"
                // as printed is right where the pair was not swapped for gil.
                goldRight += LabelingProject::swappedFor(order.int64(2), "gil") ? 0 : 1;
                QCOMPARE(order.text(1), std::string(LabelingProject::swappedFor(order.int64(2), "gil") ? "b" : "a"));
            }
            ++position;
        }
        QCOMPARE(position, 30 + goldShown);
        QVERIFY2(goldShown >= 3, std::to_string(goldShown).c_str());  // 36 positions at 0.3: about 11 slots
        QVERIFY(goldRight > 0 && goldRight < goldShown);  // the test can tell right from wrong

        // Never trained on, never exported.
        int64_t trained = 0;
        PreferenceStore(*d).forEachPreference(std::nullopt, [&](const LabeledPair& p) {
            QVERIFY(p.prompt[0] == 'P');
            ++trained;
        });
        QCOMPARE(trained, int64_t(30));
        const std::string labels = (dir.path() + "/labels.jsonl").toStdString();
        QCOMPARE(exportLabelsJsonl(*d, labels), int64_t(30));

        // Scored: accuracy on gold with its Wilson interval.
        std::tie(code, out) = cli({"agreement", "--json"});
        QVERIFY2(code == 0, out.constData());
        const QJsonObject gil = QJsonDocument::fromJson(out.trimmed().split('\n').last()).object()["annotator_quality"].toObject()["gil"].toObject();
        QCOMPARE(gil["gold_labels"].toInteger(), goldShown);
        QCOMPARE(gil["gold_correct"].toInteger(), goldRight);
        const double accuracy = static_cast<double>(goldRight) / static_cast<double>(goldShown);
        QVERIFY(std::abs(gil["gold_accuracy"].toDouble() - accuracy) < 1e-12);
        const ProportionInterval ci = wilsonInterval95(goldRight, goldShown);
        QVERIFY(ci.low < accuracy && accuracy < ci.high);
        QVERIFY(std::abs(gil["gold_accuracy_interval"].toArray()[0].toDouble() - ci.low) < 1e-12);
        std::tie(code, out) = cli({"agreement"});
        QVERIFY2(out.contains(QStringLiteral("%1 of %2 gold pairs right").arg(goldRight).arg(goldShown).toUtf8()), out.constData());
    }

    // Wilson's interval against hand-worked values: 7 of 10, z = 1.96,
    // z^2 = 3.8415: centre (0.7 + 3.8415/20) / (1 + 0.38415) = 0.6445 and
    // half-width 1.96 * sqrt(0.021 + 3.8415/400) / 1.38415 = 0.2477.
    void wilsonIntervalMatchesHandWorkedValues() {
        const ProportionInterval ci = wilsonInterval95(int64_t(7), int64_t(10));
        QVERIFY2(std::abs(ci.low - 0.3968) < 5e-4 && std::abs(ci.high - 0.8922) < 5e-4,
                 (std::to_string(ci.low) + " " + std::to_string(ci.high)).c_str());
        const ProportionInterval all = wilsonInterval95(int64_t(5), int64_t(5));
        QVERIFY(all.high <= 1.0 + 1e-12 && all.low > 0.5 && all.low < 0.6);  // 0.566: not empty at n of n
        QVERIFY(std::isnan(wilsonInterval95(int64_t(0), int64_t(0)).low));
    }
};

PREFLAB_TEST_MAIN(TestLabelingProject)
#include "tst_labeling_project.moc"
