#include "storage/pair_files.h"
#include "storage/preference_store.h"
#include "support/test_main.h"

#include <QFile>
#include <QTemporaryDir>

using namespace preflab;

namespace {

QString write(const QTemporaryDir& dir, const QString& name, const QByteArray& content) {
    const QString path = dir.path() + "/" + name;
    QFile f(path);
    f.open(QIODevice::WriteOnly);
    f.write(content);
    return path;
}

const QByteArray kMixed =
    "{\"prompt\": \"Where does the fox live?\", \"chosen\": \"The fox lives in the forest.\", \"rejected\": \"Whatever.\"}\n"
    "{\"prompt\": \"p\", \"chosen\": \"c\"}\n"                                   // line 2: missing rejected
    "not json at all\n"                                                          // line 3
    "\n"                                                                         // blank: allowed
    "{\"prompt\": \"q\", \"chosen\": [{\"role\": \"user\"}], \"rejected\": \"r\"}\n"  // line 5: conversational
    "{\"prompt\": \"What does the cat like?\", \"chosen\": \"The cat likes fish.\", \"rejected\": \"The dog is mean.\"}\n"
    "[1, 2, 3]\n"                                                                // line 7: not an object
    "{\"prompt\": \"x\", \"chosen\": 5, \"rejected\": \"r\"}\n";                 // line 8: not a string

}  // namespace

class TestPairFiles : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void badLinesAreReportedAndNothingStored() {
        QTemporaryDir dir;
        const QString path = write(dir, "mixed.jsonl", kMixed);
        auto db = Database::open((dir.path() + "/t.db").toStdString());
        const ImportReport r = importPairsJsonl(*db, path.toStdString());
        QVERIFY(!r.stored);
        QCOMPARE(r.pairsStored, int64_t(0));
        QCOMPARE(PreferenceStore(*db).countPairs(), int64_t(0));
        QCOMPARE(r.errors.size(), size_t(5));
        const std::vector<int64_t> lines{2, 3, 5, 7, 8};
        for (size_t i = 0; i < lines.size(); ++i) QCOMPARE(r.errors[i].line, lines[i]);
        QVERIFY(r.errors[0].message.find("rejected") != std::string::npos);
        QVERIFY(r.errors[2].message.find("conversation") != std::string::npos);
        // Each reported line names the file.
        QVERIFY(QString::fromStdString(r.describe()).contains(path + ":3: not valid JSON"));
    }

    // HH-RLHF rows have no prompt: it is the dialogue both texts share up to
    // and including chosen's final "\n\nAssistant:" turn (earlier turns
    // included); a row whose texts part before that is a bad line.
    void implicitPromptRowsAreSplitAtTheLastAssistantTurn() {
        QTemporaryDir dir;
        const QByteArray rows =
            "{\"chosen\": \"\\n\\nHuman: Hi\\n\\nAssistant: Hello!\\n\\nHuman: Where do foxes live?\\n\\nAssistant: In "
            "forests and towns.\", \"rejected\": \"\\n\\nHuman: Hi\\n\\nAssistant: Hello!\\n\\nHuman: Where do foxes "
            "live?\\n\\nAssistant: Go away.\"}\n"
            "{\"prompt\": \"Standard?\", \"chosen\": \"Yes.\", \"rejected\": \"No.\"}\n"
            "{\"chosen\": \"\\n\\nHuman: A\\n\\nAssistant: x\", \"rejected\": \"\\n\\nHuman: B\\n\\nAssistant: y\"}\n"
            "{\"chosen\": \"no turns here\", \"rejected\": \"none\"}\n";
        const QString path = write(dir, "hh.jsonl", rows);
        auto db = Database::open((dir.path() + "/t.db").toStdString());
        const ImportReport r = importPairsJsonl(*db, path.toStdString(), true);
        QVERIFY(r.stored);
        QCOMPARE(r.pairsStored, int64_t(2));
        QCOMPARE(r.errors.size(), size_t(2));
        QCOMPARE(r.errors[0].line, int64_t(3));
        QVERIFY2(r.errors[0].message.find("do not share the dialogue") != std::string::npos, r.errors[0].message.c_str());
        QCOMPARE(r.errors[1].line, int64_t(4));
        QVERIFY2(r.errors[1].message.find("no \"\\n\\nAssistant:\" turn") != std::string::npos, r.errors[1].message.c_str());
        QCOMPARE(r.describeFormats(), std::string("1 line as ") + kTrlImplicitPrompt + ", 1 line as " + kTrlStandard);
        std::vector<LabeledPair> stored;
        PreferenceStore(*db).forEachPreference(std::nullopt, [&](const LabeledPair& p) { stored.push_back(p); });
        QCOMPARE(stored.size(), size_t(2));
        QCOMPARE(stored[0].prompt, std::string("\n\nHuman: Hi\n\nAssistant: Hello!\n\nHuman: Where do foxes live?\n\nAssistant:"));
        QCOMPARE(stored[0].responseA, std::string(" In forests and towns."));
        QCOMPARE(stored[0].responseB, std::string(" Go away."));
        QCOMPARE(stored[1].prompt, std::string("Standard?"));
    }

    void skipBadStoresOnlyGoodLines() {
        QTemporaryDir dir;
        const QString path = write(dir, "mixed.jsonl", kMixed);
        auto db = Database::open((dir.path() + "/t.db").toStdString());
        const ImportReport r = importPairsJsonl(*db, path.toStdString(), true, "importer");
        QVERIFY(r.stored);
        QCOMPARE(r.pairsStored, int64_t(2));
        QCOMPARE(PreferenceStore(*db).countPairs(), int64_t(2));
        QCOMPARE(PreferenceStore(*db).countLabels("import"), int64_t(2));
        QCOMPARE(r.errors.size(), size_t(5));
    }

    // Input hygiene: invalid UTF-8 is a bad line with its byte offset, and a
    // pair whose two texts are identical teaches nothing.
    void invalidUtf8AndIdenticalTextsAreBadLines_data() {
        QTest::addColumn<QByteArray>("line");
        QTest::addColumn<QString>("message");
        const QByteArray head = "{\"prompt\": \"p\", \"chosen\": \"";
        QTest::newRow("lone continuation byte") << head + "ab\x80\", \"rejected\": \"r\"}" << "not valid UTF-8 (byte 30 ";
        QTest::newRow("overlong slash") << head + "\xC0\xAF\", \"rejected\": \"r\"}" << "not valid UTF-8 (byte 28 ";
        QTest::newRow("surrogate") << head + "\xED\xA0\x80\", \"rejected\": \"r\"}" << "not valid UTF-8 (byte 28 ";
        QTest::newRow("above U+10FFFF") << head + "\xF4\x90\x80\x80\", \"rejected\": \"r\"}" << "not valid UTF-8 (byte 28 ";
        QTest::newRow("cut short") << head + "\xE2\x82\", \"rejected\": \"r\"}" << "not valid UTF-8 (byte 28 ";
        QTest::newRow("identical") << QByteArray("{\"prompt\": \"p\", \"chosen\": \"same\", \"rejected\": \"same\"}")
                                   << "identical";
    }

    void invalidUtf8AndIdenticalTextsAreBadLines() {
        QFETCH(QByteArray, line);
        QFETCH(QString, message);
        QTemporaryDir dir;
        // A good line with multi-byte characters (é, €, 😀) before the bad one: valid UTF-8 passes.
        const QString path = write(dir, "bad.jsonl",
                                   "{\"prompt\": \"caf\xC3\xA9\", \"chosen\": \"5 \xE2\x82\xAC \xF0\x9F\x98\x80\", \"rejected\": \"no\"}\n" +
                                       line + "\n");
        auto db = Database::open((dir.path() + "/t.db").toStdString());
        const ImportReport r = importPairsJsonl(*db, path.toStdString());
        QCOMPARE(r.errors.size(), size_t(1));
        QCOMPARE(r.errors[0].line, int64_t(2));
        QVERIFY2(QString::fromStdString(r.errors[0].message).contains(message), r.errors[0].message.c_str());
        QCOMPARE(PreferenceStore(*db).countPairs(), int64_t(0));
    }

    void exportRoundTrip() {
        QTemporaryDir dir;
        const QByteArray good =
            "{\"prompt\": \"a \\\"quoted\\\" prompt\", \"chosen\": \"yes\\nmulti-line\", \"rejected\": \"no\"}\n"
            "{\"prompt\": \"Grüße\", \"chosen\": \"🦊\", \"rejected\": \"x\"}\n";
        auto db = Database::open((dir.path() + "/t.db").toStdString());
        QVERIFY(importPairsJsonl(*db, write(dir, "good.jsonl", good).toStdString()).stored);
        const std::string out = (dir.path() + "/out.jsonl").toStdString();
        QCOMPARE(exportPairsJsonl(*db, out), int64_t(2));
        auto db2 = Database::open((dir.path() + "/t2.db").toStdString());
        const ImportReport again = importPairsJsonl(*db2, out);
        QVERIFY(again.stored && again.errors.empty());
        QCOMPARE(again.pairsStored, int64_t(2));
        QCOMPARE(exportPairsJsonl(*db2, (dir.path() + "/out2.jsonl").toStdString()), int64_t(2));
        QFile a(QString::fromStdString(out)), b(dir.path() + "/out2.jsonl");
        a.open(QIODevice::ReadOnly);
        b.open(QIODevice::ReadOnly);
        QCOMPARE(a.readAll(), b.readAll());
        QVERIFY(!QFile::exists(QString::fromStdString(out) + ".partial"));
    }

    void missingFileIsAClearError() {
        QTemporaryDir dir;
        auto db = Database::open((dir.path() + "/t.db").toStdString());
        try {
            importPairsJsonl(*db, (dir.path() + "/nope.jsonl").toStdString());
            QFAIL("expected an error");
        } catch (const StorageError& e) {
            QVERIFY(QString(e.what()).contains("nope.jsonl"));
        }
    }
};

PREFLAB_TEST_MAIN(TestPairFiles)
#include "tst_pair_files.moc"
