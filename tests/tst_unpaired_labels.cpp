// Unpaired labels (thumbs up or down on one response; KTO's data, TRL's
// unpaired format): import, export back byte for byte, re-import changing
// nothing, the terminal's thumbs mode storing what was answered, bad rows
// refused with their line, and the majority of annotators as the training
// example.
#include "app/session/offline_pairs.h"
#include "core/values/run_config.h"
#include "storage/database.h"
#include "storage/pair_files.h"
#include "storage/preference_store.h"
#include "storage/response_label_store.h"
#include "support/test_main.h"

#include <QFile>
#include <QProcess>
#include <QTemporaryDir>

using namespace preflab;

namespace {

QByteArray readAll(const QString& path) {
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

void writeFile(const QString& path, const QByteArray& bytes) {
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
    f.write(bytes);
}

// In export's own form: keys in this order, compact, one row per line.
const QByteArray kUnpaired =
    "{\"prompt\":\"What does the fox like?\",\"completion\":\"The fox likes apples.\",\"label\":true}\n"
    "{\"prompt\":\"What does the fox like?\",\"completion\":\"Ugh. Grumpy fox.\",\"label\":false,\"annotator\":\"ada\"}\n"
    "{\"prompt\":\"Where is the owl?\",\"completion\":\"The owl is in the barn \xc3\xa9t\xc3\xa9.\",\"label\":true,\"annotator\":\"bo\"}\n";

}  // namespace

class TestUnpairedLabels : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void importExportRoundTrip() {
        QTemporaryDir dir;
        const QString in = dir.path() + "/unpaired.jsonl", out = dir.path() + "/out.jsonl";
        writeFile(in, kUnpaired);
        const std::string db = (dir.path() + "/a.db").toStdString();
        {
            auto d = Database::open(db);
            const ImportReport r = importPairsJsonl(*d, in.toStdString());
            QVERIFY2(r.errors.empty(), r.describe().c_str());
            QCOMPARE(r.labelsStored, int64_t(3));
            QCOMPARE(r.pairsStored, int64_t(0));
            QCOMPARE(exportUnpairedJsonl(*d, out.toStdString()), int64_t(3));
            QCOMPARE(readAll(out), kUnpaired);
            // The same file again changes nothing.
            const ImportReport again = importPairsJsonl(*d, in.toStdString());
            QCOMPARE(again.labelsStored, int64_t(0));
            QCOMPARE(again.labelsUnchanged, int64_t(3));
            QCOMPARE(exportUnpairedJsonl(*d, out.toStdString()), int64_t(3));
            QCOMPARE(readAll(out), kUnpaired);
        }
        // Into another database, and out again: the same bytes.
        const std::string other = (dir.path() + "/b.db").toStdString();
        auto d2 = Database::open(other);
        QVERIFY(importPairsJsonl(*d2, out.toStdString()).errors.empty());
        const QString out2 = dir.path() + "/out2.jsonl";
        exportUnpairedJsonl(*d2, out2.toStdString());
        QCOMPARE(readAll(out2), kUnpaired);
    }

    void badRowsNameTheirLine_data() {
        QTest::addColumn<QByteArray>("row");
        QTest::addColumn<QString>("expected");
        QTest::newRow("label not a boolean") << QByteArray("{\"prompt\":\"p\",\"completion\":\"c\",\"label\":\"yes\"}")
                                              << "must be true or false";
        QTest::newRow("no label") << QByteArray("{\"prompt\":\"p\",\"completion\":\"c\"}") << "missing \"label\"";
        QTest::newRow("empty completion") << QByteArray("{\"prompt\":\"p\",\"completion\":\"\",\"label\":true}")
                                           << "must not be empty";
        QTest::newRow("control character in the name")
            << QByteArray("{\"prompt\":\"p\",\"completion\":\"c\",\"label\":true,\"annotator\":\"a\\u001bb\"}") << "annotator";
    }
    void badRowsNameTheirLine() {
        QFETCH(QByteArray, row);
        QFETCH(QString, expected);
        QTemporaryDir dir;
        const QString in = dir.path() + "/bad.jsonl";
        writeFile(in, "{\"prompt\":\"p\",\"completion\":\"fine\",\"label\":true}\n" + row + "\n");
        auto d = Database::open((dir.path() + "/x.db").toStdString());
        const ImportReport r = importPairsJsonl(*d, in.toStdString());
        QCOMPARE(r.errors.size(), size_t(1));
        QCOMPARE(r.errors.front().line, int64_t(2));
        QVERIFY2(QString::fromStdString(r.errors.front().message).contains(expected), r.errors.front().message.c_str());
        QVERIFY(!r.stored);  // nothing of a file with a bad line is kept
    }

    // Each response once, with the majority of its annotators' latest labels; a tie leaves it out.
    void examplesTakeTheMajority() {
        QTemporaryDir dir;
        auto d = Database::open((dir.path() + "/m.db").toStdString());
        ResponseLabelStore store(*d);
        const ResponseRow good{"good"}, split{"split"}, changed{"changed"};
        store.insertIfChanged("p", good, true, "import", "a", 1);
        store.insertIfChanged("p", good, true, "import", "b", 2);
        store.insertIfChanged("p", good, false, "import", "c", 3);
        store.insertIfChanged("p", split, true, "import", "a", 4);
        store.insertIfChanged("p", split, false, "import", "b", 5);
        store.insertIfChanged("p", changed, true, "import", "a", 6);
        QVERIFY(store.insertIfChanged("p", changed, false, "import", "a", 7));  // a changed their mind
        QVERIFY(!store.insertIfChanged("p", changed, false, "import", "a", 8));  // said already
        const std::vector<UnpairedExample> e = store.examples();
        QCOMPARE(e.size(), size_t(2));
        QCOMPARE(e[0].completion, std::string("good"));
        QVERIFY(e[0].desirable);
        QCOMPARE(e[1].completion, std::string("changed"));
        QVERIFY(!e[1].desirable);
    }

    // KTO's data from the stored labels: each desirable example beside an
    // undesirable one, with its own prompt; the shorter list repeats.
    void ktoTrainsOnTheStoredUnpairedLabels() {
        QTemporaryDir dir;
        auto d = Database::open((dir.path() + "/k.db").toStdString());
        ResponseLabelStore store(*d);
        QVERIFY_THROWS_EXCEPTION(std::runtime_error, loadOfflinePairs(kUnpairedSource, *d));
        store.insertIfChanged("P1", ResponseRow{"good 1"}, true, "import", "", 1);
        store.insertIfChanged("P2", ResponseRow{"good 2"}, true, "import", "", 2);
        store.insertIfChanged("P3", ResponseRow{"good 3"}, true, "import", "", 3);
        try {
            loadOfflinePairs(kUnpairedSource, *d);
            QFAIL("no undesirable example, yet pairs were made");
        } catch (const std::runtime_error& e) {
            QVERIFY2(QString(e.what()).contains("3 desirable and 0 undesirable"), e.what());
        }
        store.insertIfChanged("P4", ResponseRow{"bad 4"}, false, "import", "", 4);
        const std::vector<OfflinePair> pairs = loadOfflinePairs(kUnpairedSource, *d);
        QCOMPARE(pairs.size(), size_t(3));
        for (size_t i = 0; i < pairs.size(); ++i) {
            QCOMPARE(pairs[i].chosen, "good " + std::to_string(i + 1));
            QCOMPARE(pairs[i].prompt, "P" + std::to_string(i + 1));
            QCOMPARE(pairs[i].rejected, std::string("bad 4"));
            QCOMPARE(pairs[i].rejectedPrompt, std::string("P4"));
        }
        RunConfig c;
        c.pairs = kUnpairedSource;
        c.algorithm = methodName(Method::Dpo);
        QVERIFY(!validateRunConfig(c).empty());  // pairs without a shared prompt are KTO's alone
        c.algorithm = methodName(Method::Kto);
        QVERIFY(validateRunConfig(c).empty());
    }

    // The terminal's thumbs mode: each stored response (both sides of each
    // pair) once, u / d stored as the annotator's label, s skipped.
    void thumbsModeOnTheTerminal() {
        QTemporaryDir dir;
        const QString pairs = dir.path() + "/pairs.jsonl";
        writeFile(pairs, "{\"prompt\": \"P1\", \"chosen\": \"good 1\", \"rejected\": \"bad 1\"}\n");
        const std::string db = (dir.path() + "/t.db").toStdString();
        {
            auto d = Database::open(db);
            QVERIFY(importPairsJsonl(*d, pairs.toStdString()).stored);
        }
        auto annotate = [&](const QByteArray& answers) {
            QProcess p;
            p.start(QStringLiteral(PREFLAB_CLI), {"annotate", "--db", QString::fromStdString(db), "--annotator", "ada",
                                                  "--overlap", "1", "--thumbs"});
            if (!p.waitForStarted()) return QString("did not start");
            p.write(answers);
            p.closeWriteChannel();
            if (!p.waitForFinished(60000) || p.exitCode() != 0) return QString("failed: ") + p.readAllStandardError();
            return QString::fromUtf8(p.readAllStandardOutput());
        };
        // Session 1: an unknown answer is asked again; the first response is
        // skipped (it stays open), the second gets a thumbs up.
        const QString first = annotate("maybe\ns\nu\n");
        QVERIFY2(first.contains("'maybe'?") && first.contains("1 labels stored for ada"), qPrintable(first));
        // Session 2: the skipped one comes back and gets a thumbs down; then nothing is left.
        const QString second = annotate("d\n");
        QVERIFY2(second.contains("Nothing left for ada") && second.contains("1 labels stored for ada"), qPrintable(second));
        auto d = Database::open(db);
        const QString out = dir.path() + "/thumbs.jsonl";
        QCOMPARE(exportUnpairedJsonl(*d, out.toStdString()), int64_t(2));
        const QList<QByteArray> rows = readAll(out).trimmed().split('\n');
        QCOMPARE(rows.size(), 2);
        QVERIFY2(rows[0].contains("\"label\":true") && rows[0].contains("\"annotator\":\"ada\""), rows[0].constData());
        QVERIFY2(rows[1].contains("\"label\":false") && rows[1].contains("\"prompt\":\"P1\""), rows[1].constData());
        // Both sides of the pair, each once.
        QVERIFY(rows[0].contains("1\"") && rows[1].contains("1\""));
        QVERIFY(rows[0] != rows[1]);
    }
};

PREFLAB_TEST_MAIN(TestUnpairedLabels)
#include "tst_unpaired_labels.moc"
