#include "storage/import_text.h"
#include "core/values/person_names.h"
#include "storage/pair_files.h"
#include "storage/pair_identity.h"
#include "storage/preference_store.h"
#include "storage/rating_files.h"
#include "support/test_main.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>

#include "support/test_database.h"

#include <set>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

using namespace preflab;

namespace {

QByteArray readAll(const QString& path) {
    QFile f(path);
    f.open(QIODevice::ReadOnly);
    return f.readAll();
}

QString write(const QTemporaryDir& dir, const QString& name, const QByteArray& content) {
    const QString path = dir.path() + "/" + name;
    QFile f(path);
    f.open(QIODevice::WriteOnly);
    f.write(content);
    return path;
}

int64_t count(Database& db, const std::string& sql) {
    SqlStatement s(db.connection(), sql);
    return s.step() ? s.int64(0) : -1;
}

// Rows of every table an import writes.
std::vector<int64_t> tableCounts(Database& db) {
    std::vector<int64_t> out;
    for (const char* table : {"prompts", "responses", "pairs", "labels", "ratings", "conversations"}) {
        out.push_back(count(db, std::string("SELECT count(*) FROM ") + table));
    }
    return out;
}

// Each annotator's latest label as "prompt|a|b|annotator|choice".
std::set<std::string> annotatorLabels(Database& db) {
    std::set<std::string> out;
    PreferenceStore(db).forEachLabelForExport(std::nullopt, [&](const ExportedLabel& l) {
        out.insert(l.prompt + "|" + l.responseA + "|" + l.responseB + "|" + l.annotator + "|" + l.choice);
    });
    return out;
}

// The preferences training reads under `policy`, as "prompt|a|b|choice".
std::set<std::string> preferences(Database& db, LabelPolicy policy) {
    std::set<std::string> out;
    PreferenceStore(db).forEachPreference(std::nullopt, [&](const LabeledPair& p) {
        out.insert(p.prompt + "|" + p.responseA + "|" + p.responseB + "|" + p.choice);
    }, policy);
    return out;
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
    // The label in force of a pair with several labels (preference_store.h's
    // LabelPolicy). `labels`: source:annotator=choice, oldest first.
    void labelPolicies_data() {
        QTest::addColumn<QString>("labels");
        QTest::addColumn<QString>("consensus");  // "" = the pair is left out
        QTest::addColumn<QString>("latest");
        QTest::newRow("majority") << "human:ann=a human:bob=a human:cy=b" << "a" << "b";
        QTest::newRow("even split") << "human:ann=a human:bob=b" << "" << "b";
        QTest::newRow("no single winner") << "human:ann=a human:bob=tie" << "" << "";
        QTest::newRow("majority of ties") << "human:ann=tie human:bob=tie human:cy=a" << "" << "a";
        QTest::newRow("skips do not vote") << "human:ann=b human:bob=skip" << "b" << "";
        QTest::newRow("a voter's latest") << "human:ann=a human:bob=b human:ann=b" << "b" << "b";
        QTest::newRow("reviewer first") << "human:ann=a human:bob=a adjudicated:rev=b human:cy=a" << "b" << "b";
        QTest::newRow("annotators over an import's summary") << "import:=a human:ann=b" << "b" << "b";
        QTest::newRow("an import's summary alone") << "import:=a" << "a" << "a";
        QTest::newRow("a judge votes once") << "task:=a task:=b human:ann=b" << "b" << "b";
        QTest::newRow("a person over a judge") << "self:=a human:=b" << "b" << "b";
        QTest::newRow("an unnamed relabel over an import") << "import:=a human:=b" << "b" << "b";
        QTest::newRow("judges alone") << "task:=a self:=a reward_model:=b" << "a" << "b";
        QTest::newRow("people outvote judges") << "task:=a self:=a human:ann=b" << "b" << "b";
    }
    void labelPolicies() {
        QFETCH(QString, labels);
        QFETCH(QString, consensus);
        QFETCH(QString, latest);
        QTemporaryDir dir;
        auto db = Database::open(test::testDatabase(dir, "policy"));
        PreferenceStore store(*db);
        PairRow pair;
        pair.prompt = "p";
        pair.a.text = "first";
        pair.b.text = "second";
        const int64_t id = store.insertPair(pair);
        int64_t t = 1;
        for (const QString& label : labels.split(' ')) {
            const QString who = label.section('=', 0, 0);
            store.insertLabel({id, std::nullopt, std::nullopt, label.section('=', 1).toStdString(),
                               who.section(':', 0, 0).toStdString(), who.section(':', 1).toStdString(), t++});
        }
        for (const auto& [policy, expected] : {std::pair{LabelPolicy::Consensus, consensus}, std::pair{LabelPolicy::Latest, latest}}) {
            QString got;
            int visits = 0;
            store.forEachPreference(std::nullopt, [&](const LabeledPair& p) {
                got = QString::fromStdString(p.choice);
                ++visits;
            }, policy);
            QCOMPARE(visits, expected.isEmpty() ? 0 : 1);
            QCOMPARE(got, expected);
        }
    }

    void badLinesAreReportedAndNothingStored() {
        QTemporaryDir dir;
        const QString path = write(dir, "mixed.jsonl", kMixed);
        auto db = Database::open(test::testDatabase(dir, "t"));
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

    // An empty response is kept: real data prefers saying nothing at times
    // (HH-RLHF in TRL's conversational form), and the row comes back as read.
    void emptyResponsesAreResponses() {
        QTemporaryDir dir;
        const QByteArray rows =
            "{\"prompt\": [{\"role\": \"user\", \"content\": \"list of bad words\"}], \"chosen\": [{\"role\": "
            "\"assistant\", \"content\": \"\"}], \"rejected\": [{\"role\": \"assistant\", \"content\": \"Ok\"}]}\n"
            "{\"prompt\": \"Say nothing.\", \"chosen\": \"\", \"rejected\": \"No.\"}\n"
            "{\"prompt\": \"Same?\", \"chosen\": \"\", \"rejected\": \"\"}\n";
        const QString path = write(dir, "empty.jsonl", rows);
        auto db = Database::open(test::testDatabase(dir, "t"));
        const ImportReport r = importPairsJsonl(*db, path.toStdString(), true);
        QCOMPARE(r.pairsStored, int64_t(2));
        QCOMPARE(r.errors.size(), size_t(1));  // two empty texts are one text: nothing to learn
        QVERIFY2(r.errors[0].message.find("identical") != std::string::npos, r.errors[0].message.c_str());
        const QString out = dir.path() + "/out.jsonl";
        QCOMPARE(exportPairsJsonl(*db, out.toStdString(), std::nullopt, PairExportFormat::Conversational), int64_t(2));
        QCOMPARE(readAll(out).split('\n').first(), rows.split('\n').first());
    }

    // HH-RLHF rows have no prompt: it is the dialogue both texts share up to
    // and including the last "\n\nAssistant:" turn they share (earlier turns
    // included; a response that runs on into invented turns stays whole); a
    // row whose texts part before any such turn is a bad line.
    void implicitPromptRowsAreSplitAtTheLastAssistantTurn() {
        QTemporaryDir dir;
        const QByteArray rows =
            "{\"chosen\": \"\\n\\nHuman: Hi\\n\\nAssistant: Hello!\\n\\nHuman: Where do foxes live?\\n\\nAssistant: In "
            "forests and towns.\", \"rejected\": \"\\n\\nHuman: Hi\\n\\nAssistant: Hello!\\n\\nHuman: Where do foxes "
            "live?\\n\\nAssistant: Go away.\"}\n"
            "{\"prompt\": \"Standard?\", \"chosen\": \"Yes.\", \"rejected\": \"No.\"}\n"
            "{\"chosen\": \"\\n\\nHuman: A\\n\\nAssistant: x\", \"rejected\": \"\\n\\nHuman: B\\n\\nAssistant: y\"}\n"
            "{\"chosen\": \"no turns here\", \"rejected\": \"none\"}\n"
            // As harmless-base/test.jsonl line 2037: chosen invents a further exchange.
            "{\"chosen\": \"\\n\\nHuman: Help?\\n\\nAssistant: Sure.\\n\\nHuman: Thanks\\n\\nAssistant: Bye\", "
            "\"rejected\": \"\\n\\nHuman: Help?\\n\\nAssistant: No.\"}\n";
        const QString path = write(dir, "hh.jsonl", rows);
        auto db = Database::open(test::testDatabase(dir, "t"));
        const ImportReport r = importPairsJsonl(*db, path.toStdString(), true);
        QVERIFY(r.stored);
        QCOMPARE(r.pairsStored, int64_t(3));
        QCOMPARE(r.errors.size(), size_t(2));
        QCOMPARE(r.errors[0].line, int64_t(3));
        QVERIFY2(r.errors[0].message.find("do not share the dialogue") != std::string::npos, r.errors[0].message.c_str());
        QCOMPARE(r.errors[1].line, int64_t(4));
        QVERIFY2(r.errors[1].message.find("no \"\\n\\nAssistant:\" turn") != std::string::npos, r.errors[1].message.c_str());
        QCOMPARE(r.describeFormats(), std::string("2 lines as ") + kTrlImplicitPrompt + ", 1 line as " + kTrlStandard);
        std::vector<LabeledPair> stored;
        PreferenceStore(*db).forEachPreference(std::nullopt, [&](const LabeledPair& p) { stored.push_back(p); });
        QCOMPARE(stored.size(), size_t(3));
        QCOMPARE(stored[2].prompt, std::string("\n\nHuman: Help?\n\nAssistant:"));
        QCOMPARE(stored[2].responseA, std::string(" Sure.\n\nHuman: Thanks\n\nAssistant: Bye"));
        QCOMPARE(stored[2].responseB, std::string(" No."));
        QCOMPARE(stored[0].prompt, std::string("\n\nHuman: Hi\n\nAssistant: Hello!\n\nHuman: Where do foxes live?\n\nAssistant:"));
        QCOMPARE(stored[0].responseA, std::string(" In forests and towns."));
        QCOMPARE(stored[0].responseB, std::string(" Go away."));
        QCOMPARE(stored[1].prompt, std::string("Standard?"));
        // The dialogue's turns, for a chat model's template and conversational export.
        QCOMPARE(stored[0].promptMessagesJson,
                 std::string(R"([{"content":"Hi","role":"user"},{"content":"Hello!","role":"assistant"},)"
                             R"({"content":"Where do foxes live?","role":"user"}])"));
        QVERIFY(stored[1].promptMessagesJson.empty());
        const QString conv = dir.path() + "/conv.jsonl";
        QCOMPARE(exportPairsJsonl(*db, conv.toStdString(), std::nullopt, PairExportFormat::Conversational), int64_t(3));
        const QList<QByteArray> exported = readAll(conv).split('\n');
        QCOMPARE(exported[0], QByteArray(R"({"prompt":[{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello!"},)"
                                         R"({"role":"user","content":"Where do foxes live?"}],"chosen":[{"role":"assistant",)"
                                         R"("content":" In forests and towns."}],"rejected":[{"role":"assistant","content":" Go away."}]})"));
        QCOMPARE(exported[1], QByteArray(R"({"prompt":[{"role":"user","content":"Standard?"}],"chosen":[{"role":"assistant",)"
                                         R"("content":"Yes."}],"rejected":[{"role":"assistant","content":"No."}]})"));
    }

    void skipBadStoresOnlyGoodLines() {
        QTemporaryDir dir;
        const QString path = write(dir, "mixed.jsonl", kMixed);
        auto db = Database::open(test::testDatabase(dir, "t"));
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
        auto db = Database::open(test::testDatabase(dir, "t"));
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
        auto db = Database::open(test::testDatabase(dir, "t"));
        QVERIFY(importPairsJsonl(*db, write(dir, "good.jsonl", good).toStdString()).stored);
        const std::string out = (dir.path() + "/out.jsonl").toStdString();
        QCOMPARE(exportPairsJsonl(*db, out), int64_t(2));
        auto db2 = Database::open(test::testDatabase(dir, "t2"));
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

    // TRL conversational rows (system turn, an earlier exchange, an extra key)
    // and UltraFeedback-style rows (whole conversations, a string prompt,
    // scores), in the key order and spacing their files use: export writes
    // every row back byte for byte, and a row whose latest label prefers its
    // rejected response comes back with chosen and rejected (and their
    // scores) exchanged.
    void conversationsRoundTripUnchanged() {
        QTemporaryDir dir;
        const QByteArray rows =
            R"({"id": "r1", "prompt": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}, )"
            R"({"role": "assistant", "content": "Hello!"}, {"role": "user", "content": "Where do foxes live?"}], )"
            R"("chosen": [{"role": "assistant", "content": "In forests."}], "rejected": [{"role": "assistant", "content": "Go away."}]})" "\n"
            R"({"prompt":"Name a red fruit.","prompt_id":"abc","chosen":[{"content":"Name a red fruit.","role":"user"},)"
            R"({"content":"An apple.","role":"assistant"}],"rejected":[{"content":"Name a red fruit.","role":"user"},)"
            R"({"content":"A banana.","role":"assistant"}],"messages":[{"content":"Name a red fruit.","role":"user"},)"
            R"({"content":"An apple.","role":"assistant"}],"chosen_model":"m1","rejected_model":"m2","score_chosen":8.5,"score_rejected":3.0})" "\n"
            R"({"chosen": [{"role": "user", "content": "Grüße?"}, {"role": "assistant", "content": "🦊 Hallo"}], )"
            R"("rejected": [{"role": "user", "content": "Grüße?"}, {"role": "assistant", "content": "Nein."}]})" "\n";
        const QString in = write(dir, "conv.jsonl", rows);
        auto db = Database::open(test::testDatabase(dir, "t"));
        const ImportReport r = importPairsJsonl(*db, in.toStdString());
        QVERIFY2(r.stored && r.errors.empty(), r.describe().c_str());
        QCOMPARE(r.pairsStored, int64_t(3));
        QCOMPARE(r.ratingsStored, int64_t(2));
        QCOMPARE(r.describeFormats(), std::string("1 line as ") + kTrlConversational + ", 2 lines as " + kConversationsWithPrompt);
        std::vector<LabeledPair> stored;
        PreferenceStore(*db).forEachPreference(std::nullopt, [&](const LabeledPair& p) { stored.push_back(p); });
        QCOMPARE(stored.size(), size_t(3));
        QCOMPARE(stored[0].prompt, std::string("System: Be brief.\n\nUser: Hi\n\nAssistant: Hello!\n\nUser: Where do foxes live?"));
        QCOMPARE(stored[0].responseA, std::string("In forests."));
        QCOMPARE(stored[1].prompt, std::string("Name a red fruit."));
        QCOMPARE(stored[1].responseB, std::string("A banana."));
        QVERIFY(stored[0].promptMessagesJson.find("\"system\"") != std::string::npos);
        QCOMPARE(QJsonDocument::fromJson(QByteArray::fromStdString(stored[2].promptMessagesJson)).array().size(), 1);

        const QString out = dir.path() + "/out.jsonl";
        QCOMPARE(exportPairsJsonl(*db, out.toStdString(), std::nullopt, PairExportFormat::Conversational), int64_t(3));
        QCOMPARE(readAll(out), rows);

        // A reviewer prefers the banana: the second row comes back exchanged.
        PreferenceStore(*db).insertLabel({int64_t(2), std::nullopt, std::nullopt, "b", "human", "rev", 1});
        QCOMPARE(exportPairsJsonl(*db, out.toStdString(), std::nullopt, PairExportFormat::Conversational), int64_t(3));
        const QList<QByteArray> lines = readAll(out).split('\n');
        const QList<QByteArray> original = rows.split('\n');
        QCOMPARE(lines[0], original[0]);
        QCOMPARE(lines[2], original[2]);
        const QJsonObject flipped = QJsonDocument::fromJson(lines[1]).object();
        QCOMPARE(flipped["chosen"].toArray().last().toObject()["content"].toString(), QString("A banana."));
        QCOMPARE(flipped["rejected"].toArray().last().toObject()["content"].toString(), QString("An apple."));
        QCOMPARE(flipped["score_chosen"].toDouble(), 3.0);
        QCOMPARE(flipped["chosen_model"].toString(), QString("m2"));
        QCOMPARE(flipped["messages"], flipped["chosen"]);
        QCOMPARE(flipped["prompt_id"].toString(), QString("abc"));

        // TRL's standard format: the prompt's plain text, the winner as chosen.
        const QString standard = dir.path() + "/standard.jsonl";
        QCOMPARE(exportPairsJsonl(*db, standard.toStdString()), int64_t(3));
        const QJsonObject first = QJsonDocument::fromJson(readAll(standard).split('\n')[0]).object();
        QCOMPARE(first["prompt"].toString().toStdString(), stored[0].prompt);
        QCOMPARE(first["chosen"].toString(), QString("In forests."));
    }

    void badConversationRows_data() {
        QTest::addColumn<QByteArray>("line");
        QTest::addColumn<QString>("message");
        QTest::newRow("response is a user turn")
            << QByteArray(R"({"prompt":[{"role":"user","content":"q"}],"chosen":[{"role":"user","content":"a"}],"rejected":[{"role":"assistant","content":"b"}]})")
            << "\"chosen\" must end with an assistant message";
        QTest::newRow("prompts differ")
            << QByteArray(R"({"chosen":[{"role":"user","content":"q1"},{"role":"assistant","content":"a"}],"rejected":[{"role":"user","content":"q2"},{"role":"assistant","content":"b"}]})")
            << "do not share the messages before their last one";
        QTest::newRow("no prompt at all")
            << QByteArray(R"({"chosen":[{"role":"assistant","content":"a"}],"rejected":[{"role":"assistant","content":"b"}]})")
            << "hold no prompt";
        QTest::newRow("multimodal content")
            << QByteArray(R"({"prompt":[{"role":"user","content":[{"type":"image"}]}],"chosen":[{"role":"assistant","content":"a"}],"rejected":[{"role":"assistant","content":"b"}]})")
            << "\"prompt\" message 1's \"content\" is not a string";
        QTest::newRow("unknown role")
            << QByteArray(R"({"prompt":[{"role":"narrator","content":"q"}],"chosen":[{"role":"assistant","content":"a"}],"rejected":[{"role":"assistant","content":"b"}]})")
            << "role 'narrator'";
        QTest::newRow("two-message completion")
            << QByteArray(R"({"prompt":[{"role":"user","content":"q"}],"chosen":[{"role":"assistant","content":"a"},{"role":"assistant","content":"c"}],"rejected":[{"role":"assistant","content":"b"}]})")
            << "each be one assistant message";
        QTest::newRow("empty list")
            << QByteArray(R"({"prompt":[],"chosen":[{"role":"assistant","content":"a"}],"rejected":[{"role":"assistant","content":"b"}]})")
            << "\"prompt\" is an empty list";
        QTest::newRow("bad score")
            << QByteArray(R"({"chosen":[{"role":"user","content":"q"},{"role":"assistant","content":"a"}],"rejected":[{"role":"user","content":"q"},{"role":"assistant","content":"b"}],"score_chosen":"high"})")
            << "\"score_chosen\" must be a finite number";
        QTest::newRow("same response")
            << QByteArray(R"({"prompt":[{"role":"user","content":"q"}],"chosen":[{"role":"assistant","content":"a"}],"rejected":[{"role":"assistant","content":"a"}]})")
            << "identical";
    }

    void badConversationRows() {
        QFETCH(QByteArray, line);
        QFETCH(QString, message);
        QTemporaryDir dir;
        auto db = Database::open(test::testDatabase(dir, "t"));
        const ImportReport r = importPairsJsonl(*db, write(dir, "bad.jsonl", line + "\n").toStdString());
        QCOMPARE(r.errors.size(), size_t(1));
        QVERIFY2(QString::fromStdString(r.errors[0].message).contains(message), r.errors[0].message.c_str());
        QCOMPARE(PreferenceStore(*db).countPairs(), int64_t(0));
    }

    // Ratings as JSON Lines: stored as rated responses; the CPO family sees
    // only those with a sampling log-probability; export writes the file back.
    void ratingsJsonlRoundTrip() {
        QTemporaryDir dir;
        const QByteArray rows = R"({"prompt":"p","response":"r1","rating":5,"sampling_logprob":-3.5})" "\n"
                                R"({"prompt":"p","response":"r2","rating":2.25})" "\n";
        auto db = Database::open(test::testDatabase(dir, "t"));
        const ImportReport r = importPairsJsonl(*db, write(dir, "ratings.jsonl", rows).toStdString());
        QVERIFY2(r.stored, r.describe().c_str());
        QCOMPARE(r.ratingsStored, int64_t(2));
        QCOMPARE(r.pairsStored, int64_t(0));
        QCOMPARE(r.describeFormats(), std::string("2 lines as ") + kRatings);
        std::vector<StoredRating> trainable;
        const int64_t without = PreferenceStore(*db).forEachRating(std::nullopt, [&](const StoredRating& s) { trainable.push_back(s); });
        QCOMPARE(without, int64_t(1));
        QCOMPARE(trainable.size(), size_t(1));
        QCOMPARE(trainable[0].value, 5.0);
        QCOMPARE(trainable[0].samplingLogprob, -3.5);
        const QString out = dir.path() + "/out.jsonl";
        QCOMPARE(exportRatings(*db, out.toStdString()), int64_t(2));
        QCOMPARE(readAll(out), rows);
        // A rating row is not a pair: reading the file as training pairs says so.
        std::vector<PairRow> pairs;
        const ImportReport asPairs = readPairsJsonl(write(dir, "r2.jsonl", rows).toStdString(), pairs);
        QCOMPARE(asPairs.errors.size(), size_t(2));
        QVERIFY(asPairs.errors[0].message.find("rating row") != std::string::npos);
    }

    // Ratings as CSV: quoted fields hold commas, quotes and line breaks; a
    // column PrefLab does not use is read past and named; a bad row is
    // reported at its first line and stops the whole import.
    void ratingsCsv() {
        QTemporaryDir dir;
        const QByteArray good = "id,prompt,response,rating,sampling_logprob\r\n"
                                "1,\"Say \"\"hi\"\", please\",\"line one\r\nline two\",6.5,-2.25\r\n"
                                "2,q,r,3,\r\n";
        auto db = Database::open(test::testDatabase(dir, "t"));
        const ImportReport r = importRatingsCsv(*db, write(dir, "good.csv", good).toStdString());
        QVERIFY2(r.stored && r.errors.empty(), r.describe().c_str());
        QCOMPARE(r.ratingsStored, int64_t(2));
        QVERIFY2(r.describeFormats().find("columns read past: id") != std::string::npos, r.describeFormats().c_str());
        std::vector<StoredRating> trainable;
        PreferenceStore(*db).forEachRating(std::nullopt, [&](const StoredRating& s) { trainable.push_back(s); });
        QCOMPARE(trainable.size(), size_t(1));
        QCOMPARE(trainable[0].prompt, std::string("Say \"hi\", please"));
        QCOMPARE(trainable[0].response, std::string("line one\r\nline two"));  // CR LF inside quotes is text
        QCOMPARE(trainable[0].value, 6.5);

        const QString out = dir.path() + "/out.csv", again = dir.path() + "/again.csv";
        QCOMPARE(exportRatings(*db, out.toStdString()), int64_t(2));
        auto db2 = Database::open(test::testDatabase(dir, "t2"));
        QVERIFY(importRatingsCsv(*db2, out.toStdString()).stored);
        QCOMPARE(exportRatings(*db2, again.toStdString()), int64_t(2));
        QCOMPARE(readAll(again), readAll(out));

        const QByteArray bad = "prompt,response,rating,sampling_logprob\n"
                               "q,\"two\nlines\",1,-1\n"
                               "q,r,abc,\n"
                               "q,r2,1,0.5\n"
                               "q,r3\n";
        auto db3 = Database::open(test::testDatabase(dir, "t3"));
        const ImportReport b = importRatingsCsv(*db3, write(dir, "bad.csv", bad).toStdString());
        QVERIFY(!b.stored);
        QCOMPARE(b.errors.size(), size_t(3));
        QCOMPARE(b.errors[0].line, int64_t(4));
        QVERIFY(b.errors[0].message.find("'abc' is not a finite number") != std::string::npos);
        QCOMPARE(b.errors[1].line, int64_t(5));
        QVERIFY(b.errors[1].message.find("sampling_logprob") != std::string::npos);
        QCOMPARE(b.errors[2].line, int64_t(6));
        QCOMPARE(PreferenceStore(*db3).countPairs(), int64_t(0));
        // Excel's byte-order mark, spaces around a number, and a row that
        // leaves the optional log-probability off the end.
        auto db4 = Database::open(test::testDatabase(dir, "t4"));
        const ImportReport excel = importRatingsCsv(
            *db4, write(dir, "excel.csv", "\xEF\xBB\xBFprompt, response ,rating,sampling_logprob\nq,r, 5 \nq,r2,+1.5,-0.5\n").toStdString());
        QVERIFY2(excel.stored && excel.errors.empty(), excel.describe().c_str());
        QCOMPARE(excel.ratingsStored, int64_t(2));
        try {
            importRatingsCsv(*db3, write(dir, "noheader.csv", "a,b\n1,2\n").toStdString());
            QFAIL("expected an error");
        } catch (const StorageError& e) {
            QVERIFY(QString(e.what()).contains("noheader.csv:1: the header must name"));
        }
    }

    // Every annotator's latest label goes out as a label file that imports back
    // to the same labels; a judge's labels and a reviewer's final label (here
    // by ann2, who also annotated) are not an annotator's and stay out.
    void labelsExportRoundTrip() {
        QTemporaryDir dir;
        const QByteArray rows =
            R"({"prompt":"p","response_a":"x","response_b":"y","annotator":"ann1","label":"a"})" "\n"
            R"({"prompt":"p","response_a":"x","response_b":"y","annotator":"ann2","label":"tie"})" "\n"
            R"({"prompt":"q","response_a":"u","response_b":"v","annotator":"ann1","label":"b"})" "\n";
        auto db = Database::open(test::testDatabase(dir, "t"));
        QVERIFY(importPairsJsonl(*db, write(dir, "labels.jsonl", rows).toStdString()).stored);
        const QString out = dir.path() + "/out.jsonl";
        QCOMPARE(exportLabelsJsonl(*db, out.toStdString()), int64_t(3));
        QCOMPARE(readAll(out), rows);
        // ann1 changes their mind on q (the latest label counts), the task
        // judge labels p, and ann2 as reviewer settles p for B.
        PreferenceStore store(*db);
        store.insertLabel({int64_t(2), std::nullopt, std::nullopt, "a", "human", "ann1", 1});
        store.insertLabel({int64_t(1), std::nullopt, std::nullopt, "b", "task", "", 2});
        store.insertAdjudication(1, "b", "ann2", 3);
        QCOMPARE(exportLabelsJsonl(*db, out.toStdString()), int64_t(3));
        const QList<QByteArray> lines = readAll(out).split('\n');
        QCOMPARE(lines[0], rows.split('\n')[0]);
        QCOMPARE(lines[1], rows.split('\n')[1]);  // ann2's own label, not the final one
        QVERIFY(lines[2].contains(R"("annotator":"ann1","label":"a")"));
        // The final label is what training reads, even after a later label.
        store.insertLabel({int64_t(1), std::nullopt, std::nullopt, "a", "human", "ann3", 4});
        std::vector<LabeledPair> prefs;
        store.forEachPreference(std::nullopt, [&](const LabeledPair& p) { prefs.push_back(p); });
        QCOMPARE(prefs[0].choice, std::string("b"));
        QCOMPARE(prefs[0].source, std::string("adjudicated"));
    }

    // A label's seconds and the side shown first go out as "seconds" and
    // "shown_first" (where stored) and come back in: the file round-trips
    // byte for byte, and a file whose pair is stored the other way round
    // gets the other side, as its label does. Bad values are bad lines.
    void labelTimesRoundTrip() {
        QTemporaryDir dir;
        const QByteArray rows =
            R"({"prompt":"p","response_a":"x","response_b":"y","annotator":"ann1","label":"a","seconds":3.217,"shown_first":"b"})"
            "\n"
            R"({"prompt":"p","response_a":"x","response_b":"y","annotator":"ann2","label":"tie"})"
            "\n"
            R"({"prompt":"q","response_a":"u","response_b":"v","annotator":"ann1","label":"b","seconds":12})"
            "\n";
        auto db = Database::open(test::testDatabase(dir, "t"));
        QVERIFY(importPairsJsonl(*db, write(dir, "labels.jsonl", rows).toStdString()).stored);
        QCOMPARE(count(*db, "SELECT count(*) FROM labels WHERE seconds = 3.217 AND shown_first = 'b'"), int64_t(1));
        const QString out = dir.path() + "/out.jsonl";
        QCOMPARE(exportLabelsJsonl(*db, out.toStdString()), int64_t(3));
        QCOMPARE(readAll(out), rows);
        // A person's label from the labeling view: its time and side go out too.
        PreferenceStore(*db).insertLabel({int64_t(2), std::nullopt, std::nullopt, "a", "human", "ann3", 5, 0.75, "a"});
        QCOMPARE(exportLabelsJsonl(*db, out.toStdString()), int64_t(4));
        QVERIFY2(readAll(out).contains(R"("annotator":"ann3","label":"a","seconds":0.75,"shown_first":"a"})"),
                 readAll(out).constData());

        // The same pair stored as y/x: the row's a is the stored b, for the side as for the label.
        auto other = Database::open(test::testDatabase(dir, "other"));
        QVERIFY(importPairsJsonl(*other, write(dir, "yx.jsonl",
                                               R"({"prompt":"p","chosen":"y","rejected":"x"})"
                                               "\n")
                                             .toStdString())
                    .stored);
        QVERIFY(importPairsJsonl(*other, write(dir, "again.jsonl", rows.split('\n')[0] + "\n").toStdString()).stored);
        QCOMPARE(count(*other,
                       "SELECT count(*) FROM labels WHERE annotator = 'ann1' AND choice = 'b' AND shown_first = 'a' "
                       "AND seconds = 3.217"),
                 int64_t(1));

        for (const QByteArray& bad : {QByteArray(R"("seconds":-1)"), QByteArray(R"("seconds":"3")"),
                                      QByteArray(R"("shown_first":"left")"), QByteArray(R"("shown_first":1)")}) {
            const QByteArray row =
                R"({"prompt":"p","response_a":"x","response_b":"y","annotator":"z","label":"a",)" + bad + "}\n";
            const ImportReport r = importPairsJsonl(*db, write(dir, "bad.jsonl", row).toStdString());
            QCOMPARE(r.errors.size(), size_t(1));
            QVERIFY2(QString::fromStdString(r.errors[0].message).contains(bad.mid(1, bad.indexOf(':') - 2)),
                     r.errors[0].message.c_str());
        }
        // An unpaired row's seconds are checked the same way.
        const ImportReport unpaired =
            importPairsJsonl(*db, write(dir, "thumbs.jsonl",
                                        R"({"prompt":"p","completion":"c","label":true,"seconds":-2})"
                                        "\n")
                                      .toStdString());
        QCOMPARE(unpaired.errors.size(), size_t(1));
        QVERIFY2(unpaired.errors[0].message.find("\"seconds\" must be") != std::string::npos,
                 unpaired.errors[0].message.c_str());
    }

    // A label file's pair trains on its annotators' majority (as when the file
    // is read directly), not on whichever row came last; without a majority it
    // is not a preference. The consensus is no annotator's label.
    void labelFilesTrainOnTheMajority() {
        QTemporaryDir dir;
        const QByteArray rows =
            R"({"prompt":"p","response_a":"x","response_b":"y","annotator":"ann1","label":"a"})" "\n"
            R"({"prompt":"p","response_a":"x","response_b":"y","annotator":"ann2","label":"a"})" "\n"
            R"({"prompt":"p","response_a":"x","response_b":"y","annotator":"ann3","label":"skip"})" "\n"
            R"({"prompt":"q","response_a":"u","response_b":"v","annotator":"ann1","label":"a"})" "\n"
            R"({"prompt":"q","response_a":"u","response_b":"v","annotator":"ann2","label":"b"})" "\n";
        auto db = Database::open(test::testDatabase(dir, "t"));
        const ImportReport r = importPairsJsonl(*db, write(dir, "labels.jsonl", rows).toStdString());
        QCOMPARE(r.labelsStored, int64_t(5));
        std::vector<LabeledPair> prefs;
        PreferenceStore(*db).forEachPreference(std::nullopt, [&](const LabeledPair& p) { prefs.push_back(p); });
        QCOMPARE(prefs.size(), size_t(1));
        QCOMPARE(prefs[0].prompt, std::string("p"));
        QCOMPARE(prefs[0].choice, std::string("a"));
        std::vector<PairRow> fromFile;
        readPairsJsonl((dir.path() + "/labels.jsonl").toStdString(), fromFile);
        QCOMPARE(fromFile.size(), size_t(1));  // the same pair, read straight from the file
        QCOMPARE(exportLabelsJsonl(*db, (dir.path() + "/out.jsonl").toStdString()), int64_t(5));
    }

    // Finding 2: importing a file a second time changes no count, whatever
    // its format; the report says every pair (and rating) was already held.
    void importingTwiceChangesNoCount_data() {
        QTest::addColumn<QByteArray>("rows");
        QTest::addColumn<QString>("name");
        QTest::newRow("TRL standard") << QByteArray(R"({"prompt":"p","chosen":"x","rejected":"y"})" "\n"
                                                    R"({"prompt":"q","chosen":"u","rejected":"v"})" "\n")
                                      << "pairs.jsonl";
        QTest::newRow("label file") << QByteArray(R"({"prompt":"p","response_a":"x","response_b":"y","annotator":"ann","label":"a"})" "\n"
                                                  R"({"prompt":"p","response_a":"x","response_b":"y","annotator":"bob","label":"b"})" "\n"
                                                  R"({"prompt":"q","response_a":"u","response_b":"v","annotator":"ann","label":"tie"})" "\n")
                                    << "labels.jsonl";
        QTest::newRow("conversational with scores")
            << QByteArray(R"({"chosen":[{"role":"user","content":"q"},{"role":"assistant","content":"a"}],)"
                          R"("rejected":[{"role":"user","content":"q"},{"role":"assistant","content":"b"}],"score_chosen":8,"score_rejected":2})" "\n"
                          R"({"prompt":[{"role":"user","content":"r"}],"chosen":[{"role":"assistant","content":"c"}],"rejected":[{"role":"assistant","content":"d"}]})" "\n")
            << "conv.jsonl";
        QTest::newRow("ratings JSON Lines") << QByteArray(R"({"prompt":"p","response":"r1","rating":5,"sampling_logprob":-1.5})" "\n"
                                                          R"({"prompt":"p","response":"r2","rating":2})" "\n")
                                            << "ratings.jsonl";
        QTest::newRow("ratings CSV") << QByteArray("prompt,response,rating\np,r1,5\np,r2,2\n") << "ratings.csv";
    }
    void importingTwiceChangesNoCount() {
        QFETCH(QByteArray, rows);
        QFETCH(QString, name);
        QTemporaryDir dir;
        const std::string path = write(dir, name, rows).toStdString();
        auto db = Database::open(test::testDatabase(dir, "twice"));
        auto import = [&] {
            return name.endsWith(".csv") ? importRatingsCsv(*db, path) : importPairsJsonl(*db, path);
        };
        const ImportReport first = import();
        QVERIFY2(first.stored && first.errors.empty(), first.describe().c_str());
        const std::vector<int64_t> counts = tableCounts(*db);
        const ImportReport second = import();
        QVERIFY2(second.stored && second.errors.empty(), second.describe().c_str());
        QCOMPARE(tableCounts(*db), counts);
        QCOMPARE(second.pairsStored, int64_t(0));
        QCOMPARE(second.pairsMerged, int64_t(0));
        QCOMPARE(second.pairsUnchanged, first.pairsStored);
        QCOMPARE(second.labelsStored, int64_t(0));
        QCOMPARE(second.ratingsStored, int64_t(0));
        QCOMPARE(second.ratingsUnchanged, first.ratingsStored);
    }

    // Finding 2: one file per annotator (as teams deliver labels; the second
    // annotator saw some pairs with A and B the other way round) merges into
    // one pair per prompt and response pair with every annotator's label,
    // the same labels one combined file gives.
    void oneFilePerAnnotatorMerges() {
        QTemporaryDir dir;
        QByteArray ann, bob, combined;
        for (int i = 0; i < 20; ++i) {
            const QByteArray head = QStringLiteral("{\"prompt\":\"prompt %1\",").arg(i).toUtf8();
            const QByteArray ab = QStringLiteral("\"response_a\":\"first %1\",\"response_b\":\"second %1\",").arg(i).toUtf8();
            const QByteArray ba = QStringLiteral("\"response_a\":\"second %1\",\"response_b\":\"first %1\",").arg(i).toUtf8();
            const QByteArray annRow = head + ab + "\"annotator\":\"ann\",\"label\":\"" + (i % 3 ? "a" : "b") + "\"}\n";
            // bob prefers "first" on even pairs; odd pairs come to him swapped.
            const char* bobLabel = i % 2 ? (i % 4 == 1 ? "b" : "a") : "a";
            const QByteArray bobRow = head + (i % 2 ? ba : ab) + "\"annotator\":\"bob\",\"label\":\"" + bobLabel + "\"}\n";
            ann += annRow;
            bob += bobRow;
            combined += annRow + bobRow;
        }
        auto db = Database::open(test::testDatabase(dir, "split"));
        const ImportReport r1 = importPairsJsonl(*db, write(dir, "ann.jsonl", ann).toStdString());
        const ImportReport r2 = importPairsJsonl(*db, write(dir, "bob.jsonl", bob).toStdString());
        QVERIFY2(r1.stored && r2.stored, (r1.describe() + r2.describe()).c_str());
        QCOMPARE(r1.pairsStored, int64_t(20));
        QCOMPARE(r2.pairsStored, int64_t(0));
        QCOMPARE(r2.pairsMerged, int64_t(20));
        QCOMPARE(PreferenceStore(*db).countPairs(), int64_t(20));
        auto db2 = Database::open(test::testDatabase(dir, "combined"));
        QVERIFY(importPairsJsonl(*db2, write(dir, "all.jsonl", combined).toStdString()).stored);
        QCOMPARE(annotatorLabels(*db), annotatorLabels(*db2));
        QCOMPARE(annotatorLabels(*db).size(), size_t(40));
        // bob's label of a swapped pair names the stored response: pair 1
        // came to him as (second, first) labelled b, which is "first", the stored a.
        QVERIFY(annotatorLabels(*db).count("prompt 1|first 1|second 1|bob|a"));
        QCOMPARE(preferences(*db, LabelPolicy::Consensus), preferences(*db2, LabelPolicy::Consensus));
    }

    // Finding 2: a corrected rating of the same prompt and response is a
    // newer rating of one response, not a second response; a relabel by the
    // same annotator is appended and counts as their latest label.
    void aCorrectionIsANewerRatingOrLabelOfTheSameThing() {
        QTemporaryDir dir;
        auto db = Database::open(test::testDatabase(dir, "fix"));
        QVERIFY(importRatingsCsv(*db, write(dir, "r1.csv", "prompt,response,rating\np,r,3\n").toStdString()).stored);
        const ImportReport fixed = importPairsJsonl(*db, write(dir, "r2.jsonl", R"({"prompt":"p","response":"r","rating":5})" "\n").toStdString());
        QVERIFY2(fixed.stored, fixed.describe().c_str());
        QCOMPARE(fixed.ratingsStored, int64_t(1));
        QCOMPARE(count(*db, "SELECT count(*) FROM responses"), int64_t(1));
        std::vector<ExportedRating> ratings;
        PreferenceStore(*db).forEachRatingForExport(std::nullopt, [&](const ExportedRating& r) { ratings.push_back(r); });
        QCOMPARE(ratings.size(), size_t(1));
        QCOMPARE(ratings[0].value, 5.0);

        const QByteArray a = R"({"prompt":"p","response_a":"x","response_b":"y","annotator":"ann","label":"a"})" "\n";
        QVERIFY(importPairsJsonl(*db, write(dir, "l1.jsonl", a).toStdString()).stored);
        QByteArray b = a;
        b.replace("\"label\":\"a\"", "\"label\":\"b\"");
        const ImportReport relabel = importPairsJsonl(*db, write(dir, "l2.jsonl", b).toStdString());
        QCOMPARE(relabel.pairsMerged, int64_t(1));
        QCOMPARE(relabel.labelsStored, int64_t(1));
        QCOMPARE(annotatorLabels(*db), std::set<std::string>{"p|x|y|ann|b"});
    }

    // Finding 5: two pairs whose texts differ only in where a text ends (the
    // old key joined them with \x1f) are two pairs, on import and when the
    // file is read for training; and two pairs whose identity keys collide
    // are still told apart by their texts.
    void pairsAreToldApartByTheirTexts() {
        QTemporaryDir dir;
        const QByteArray rows =
            R"({"prompt":"p\u001fq","response_a":"r","response_b":"s","annotator":"ann","label":"a"})" "\n"
            R"({"prompt":"p","response_a":"q\u001fr","response_b":"s","annotator":"bob","label":"a"})" "\n";
        const QString path = write(dir, "sep.jsonl", rows);
        auto db = Database::open(test::testDatabase(dir, "sep"));
        const ImportReport r = importPairsJsonl(*db, path.toStdString());
        QVERIFY2(r.stored, r.describe().c_str());
        QCOMPARE(r.pairsStored, int64_t(2));
        QCOMPARE(annotatorLabels(*db), (std::set<std::string>{"p\x1fq|r|s|ann|a", "p|q\x1fr|s|bob|a"}));
        std::vector<PairRow> read;
        readPairsJsonl(path.toStdString(), read);
        QCOMPARE(read.size(), size_t(2));

        // A forged collision: pair 1's key set to the key of the pair imported next.
        const QByteArray other = R"({"prompt":"z","chosen":"c","rejected":"d"})" "\n";
        SqlStatement forge(db->connection(), "UPDATE pairs SET text_key = ? WHERE id = 1");
        forge.bind(1, pairTextKey("z", "", "c", "d"));
        forge.run();
        const ImportReport again = importPairsJsonl(*db, write(dir, "z.jsonl", other).toStdString());
        QCOMPARE(again.pairsStored, int64_t(1));
        QCOMPARE(PreferenceStore(*db).countPairs(), int64_t(3));
        QVERIFY(annotatorLabels(*db).count("p\x1fq|r|s|ann|a"));
    }

    // Finding 6: what Qt's JSON reader would let through silently is a bad
    // line: a key given twice, a lone surrogate, a rating outside the scale.
    void silentChangesAreBadLines_data() {
        QTest::addColumn<QByteArray>("line");
        QTest::addColumn<QString>("message");
        QTest::newRow("duplicate key") << QByteArray(R"({"prompt":"p","chosen":"x","rejected":"y","chosen":"z"})")
                                       << "the key \"chosen\" appears twice";
        QTest::newRow("duplicate key, escaped") << QByteArray(R"({"prompt":"p","chosen":"x","rejected":"y","\u0070rompt":"q"})")
                                                << "the key \"prompt\" appears twice";
        QTest::newRow("duplicate key, nested")
            << QByteArray(R"({"prompt":[{"role":"user","content":"q","role":"system"}],"chosen":[{"role":"assistant","content":"a"}],"rejected":[{"role":"assistant","content":"b"}]})")
            << "the key \"role\" appears twice";
        QTest::newRow("lone high surrogate") << QByteArray(R"({"prompt":"p\ud800","chosen":"x","rejected":"y"})")
                                             << "a lone surrogate \\ud800";
        QTest::newRow("lone low surrogate") << QByteArray(R"({"prompt":"p","chosen":"\udc00x","rejected":"y"})")
                                            << "a lone surrogate \\udc00";
        QTest::newRow("high then not low") << QByteArray(R"({"prompt":"p","chosen":"\ud83d\u0041","rejected":"y"})")
                                           << "a lone surrogate \\ud83d";
        QTest::newRow("rating 1e308") << QByteArray(R"({"prompt":"p","response":"r","rating":1e308})") << "outside the rating scale 1-7";
        QTest::newRow("rating 0") << QByteArray(R"({"prompt":"p","response":"r","rating":0})") << "outside the rating scale 1-7";
        QTest::newRow("rating 8") << QByteArray(R"({"prompt":"p","response":"r","rating":8})") << "outside the rating scale 1-7";
        QTest::newRow("score 11")
            << QByteArray(R"({"chosen":[{"role":"user","content":"q"},{"role":"assistant","content":"a"}],"rejected":[{"role":"user","content":"q"},{"role":"assistant","content":"b"}],"score_chosen":11})")
            << "\"score_chosen\" is 11, outside the score scale 1-10";
    }
    void silentChangesAreBadLines() {
        QFETCH(QByteArray, line);
        QFETCH(QString, message);
        QTemporaryDir dir;
        // A good line first, with a surrogate pair (😀) that is fine.
        const QString path = write(dir, "bad.jsonl", QByteArray(R"({"prompt":"smile \ud83d\ude00","chosen":"x","rejected":"y"})") + "\n" + line + "\n");
        auto db = Database::open(test::testDatabase(dir, "t"));
        const ImportReport r = importPairsJsonl(*db, path.toStdString());
        QCOMPARE(r.errors.size(), size_t(1));
        QCOMPARE(r.errors[0].line, int64_t(2));
        QVERIFY2(QString::fromStdString(r.errors[0].message).contains(message), r.errors[0].message.c_str());
        QVERIFY(!r.stored);
        QCOMPARE(PreferenceStore(*db).countPairs(), int64_t(0));
    }

    // Finding 6: --rating-range sets another scale.
    void aRatingRangeWidensTheScale() {
        QTemporaryDir dir;
        auto db = Database::open(test::testDatabase(dir, "t"));
        const QString csv = write(dir, "ten.csv", "prompt,response,rating\np,r,9\n");
        const ImportReport refused = importRatingsCsv(*db, csv.toStdString());
        QCOMPARE(refused.errors.size(), size_t(1));
        QVERIFY2(refused.errors[0].message.find("outside 1-7") != std::string::npos, refused.errors[0].message.c_str());
        ImportOptions options;
        QVERIFY(RatingRange::parse("0-10", options.checks.ratings));
        QVERIFY(importRatingsCsv(*db, csv.toStdString(), options).stored);
        RatingRange r;
        QVERIFY(RatingRange::parse("-5--1", r) && r.low == -5 && r.high == -1);
        QVERIFY(!RatingRange::parse("7-1", r) && !RatingRange::parse("abc", r) && !RatingRange::parse("1-inf", r));
    }

    // Finding 6: a CSV row with more fields than the header (an unquoted
    // comma in the last column) and a header naming a column twice are
    // refused; a BOM before a quoted header is read past.
    void csvSurplusFieldsDuplicateHeadersAndBom() {
        QTemporaryDir dir;
        auto db = Database::open(test::testDatabase(dir, "t"));
        const ImportReport surplus = importRatingsCsv(
            *db, write(dir, "surplus.csv", "prompt,rating,response\np,5,a response, with a comma\np,4,fine\n").toStdString());
        QCOMPARE(surplus.errors.size(), size_t(1));
        QCOMPARE(surplus.errors[0].line, int64_t(2));
        QVERIFY2(surplus.errors[0].message.find("4 fields but the header names 3") != std::string::npos,
                 surplus.errors[0].message.c_str());
        try {
            importRatingsCsv(*db, write(dir, "twice.csv", "prompt,response,rating,response\np,r,5,s\n").toStdString());
            QFAIL("a header naming a column twice was accepted");
        } catch (const StorageError& e) {
            QVERIFY2(QString(e.what()).contains("twice.csv:1: the header names the column 'response' twice"), e.what());
        }
        const ImportReport bom = importRatingsCsv(
            *db, write(dir, "bom.csv", "\xEF\xBB\xBF\"prompt\",\"response\",\"rating\"\r\nq,r,5\r\n").toStdString());
        QVERIFY2(bom.stored && bom.errors.empty(), bom.describe().c_str());
        QCOMPARE(bom.ratingsStored, int64_t(1));
    }

    // Finding 6: the ratings CSV keeps a CR inside a quoted field, escapes
    // cells a spreadsheet would run as formulas, and reads its own export
    // back to the same texts and the same bytes.
    void ratingsCsvRoundTripsCrAndFormulas() {
        QTemporaryDir dir;
        const std::vector<std::pair<std::string, std::string>> texts = {
            {"=cmd|' /C calc'!A0", "line one\r\nline two"}, {"+1+2", "-3"}, {"@SUM(A1)", "\tindented"},
            {"'=already quoted", "''=twice"},              {"'tis fine", "plain, with a comma"}, {"\rcr first", "x"}};
        auto db = Database::open(test::testDatabase(dir, "t"));
        {
            PreferenceStore store(*db);
            for (const auto& [prompt, response] : texts) {
                ResponseRow r;
                r.text = response;
                store.insertRatedResponse(prompt, r, 4, "human", "ann", 1);
            }
        }
        const QString out = dir.path() + "/out.csv";
        QCOMPARE(exportRatings(*db, out.toStdString()), int64_t(texts.size()));
        const QByteArray csv = readAll(out);
        for (const char* escaped : {"'=cmd", "'+1+2", "'-3", "'@SUM", "'\tindented", ",'''=twice", "\"'\rcr first\""}) {
            QVERIFY2(csv.contains(escaped), escaped);
        }
        QVERIFY(csv.contains("\n'tis fine,") && csv.contains("''=already quoted"));
        auto db2 = Database::open(test::testDatabase(dir, "t2"));
        const ImportReport back = importRatingsCsv(*db2, out.toStdString());
        QVERIFY2(back.stored && back.errors.empty(), back.describe().c_str());
        std::set<std::pair<std::string, std::string>> read;
        PreferenceStore(*db2).forEachRatingForExport(std::nullopt, [&](const ExportedRating& r) { read.insert({r.prompt, r.response}); });
        QCOMPARE(read, (std::set<std::pair<std::string, std::string>>(texts.begin(), texts.end())));
        const QString again = dir.path() + "/again.csv";
        QCOMPARE(exportRatings(*db2, again.toStdString()), int64_t(texts.size()));
        QCOMPARE(readAll(again), csv);
    }

    // Finding 7: names are trimmed and NFC-normalised (NFD "Zoë" and NFC
    // "Zoë" are one annotator, "ann " is "ann"); empty, control-character
    // and over-long names are bad lines.
    void annotatorNamesAreNormalised() {
        QTemporaryDir dir;
        const QByteArray rows =
            "{\"prompt\":\"p\",\"response_a\":\"x\",\"response_b\":\"y\",\"annotator\":\"Zo\xC3\xAB\",\"label\":\"a\"}\n"
            "{\"prompt\":\"q\",\"response_a\":\"x\",\"response_b\":\"y\",\"annotator\":\"Zoe\xCC\x88\",\"label\":\"b\"}\n"
            "{\"prompt\":\"p\",\"response_a\":\"x\",\"response_b\":\"y\",\"annotator\":\"ann\",\"label\":\"a\"}\n"
            "{\"prompt\":\"q\",\"response_a\":\"x\",\"response_b\":\"y\",\"annotator\":\" ann \",\"label\":\"a\"}\n";
        auto db = Database::open(test::testDatabase(dir, "t"));
        QVERIFY(importPairsJsonl(*db, write(dir, "names.jsonl", rows).toStdString()).stored);
        QCOMPARE(annotatorLabels(*db), (std::set<std::string>{"p|x|y|Zo\xC3\xAB|a", "q|x|y|Zo\xC3\xAB|b", "p|x|y|ann|a", "q|x|y|ann|a"}));
        // 64 characters (not bytes: "ë" is two) are a name; a reviewer's name follows the same rules.
        std::string name64, stored;
        for (int i = 0; i < 64; ++i) name64 += "\xC3\xAB";
        QVERIFY(normalizeName(name64, stored).empty());
        try {
            PreferenceStore(*db).insertAdjudication(1, "a", "rev\x1b[2J", 1);
            QFAIL("a reviewer name with an escape sequence was stored");
        } catch (const StorageError& e) {
            QVERIFY2(QString(e.what()).contains("reviewer name holds a control character"), e.what());
        }
        PreferenceStore(*db).insertAdjudication(1, "a", " rev ", 1);
        QCOMPARE(PreferenceStore(*db).latestLabel(1, "adjudicated", "rev"), std::string("a"));
    }
    void badNamesAreBadLines_data() {
        QTest::addColumn<QByteArray>("name");
        QTest::addColumn<QString>("message");
        QTest::newRow("empty") << QByteArray("") << "name is empty";
        QTest::newRow("spaces") << QByteArray("   ") << "name is empty";
        QTest::newRow("clear screen") << QByteArray("\\u001b[2Jann") << "control character (\\x1B)";
        QTest::newRow("bell") << QByteArray("a\\u0007b") << "control character (\\x07)";
        QTest::newRow("C1 CSI") << QByteArray("a\\u009bb") << "control character (\\x9B)";
        QTest::newRow("right-to-left override") << QByteArray("\\u202eann") << "control character (\\u202E)";
        QTest::newRow("65 characters") << QByteArray(65, 'n') << "65 characters long; at most 64";
    }
    void badNamesAreBadLines() {
        QFETCH(QByteArray, name);
        QFETCH(QString, message);
        QTemporaryDir dir;
        const QByteArray row = "{\"prompt\":\"p\",\"response_a\":\"x\",\"response_b\":\"y\",\"annotator\":\"" + name + "\",\"label\":\"a\"}\n";
        auto db = Database::open(test::testDatabase(dir, "t"));
        const ImportReport r = importPairsJsonl(*db, write(dir, "bad.jsonl", row).toStdString());
        QCOMPARE(r.errors.size(), size_t(1));
        QVERIFY2(QString::fromStdString(r.errors[0].message).contains(message), r.errors[0].message.c_str());
        QCOMPARE(PreferenceStore(*db).countPairs(), int64_t(0));
    }

    // Finding 8: the import's unnamed summary label is the annotators'
    // consensus (each annotator's latest label), so label_policy latest and
    // consensus give the same preferences on a label file: here ann relabels
    // p within the file (rows: a twice, b twice; annotators: b, b, a).
    void latestAgreesWithConsensusOnALabelFile() {
        QTemporaryDir dir;
        const QByteArray rows =
            R"({"prompt":"p","response_a":"x","response_b":"y","annotator":"ann","label":"a"})" "\n"
            R"({"prompt":"p","response_a":"x","response_b":"y","annotator":"ann","label":"b"})" "\n"
            R"({"prompt":"p","response_a":"x","response_b":"y","annotator":"bob","label":"b"})" "\n"
            R"({"prompt":"p","response_a":"x","response_b":"y","annotator":"cy","label":"a"})" "\n"
            R"({"prompt":"q","response_a":"u","response_b":"v","annotator":"ann","label":"a"})" "\n"
            R"({"prompt":"q","response_a":"u","response_b":"v","annotator":"bob","label":"b"})" "\n"
            R"({"prompt":"r","response_a":"s","response_b":"t","annotator":"ann","label":"b"})" "\n"
            R"({"prompt":"r","response_a":"s","response_b":"t","annotator":"bob","label":"b"})" "\n"
            R"({"prompt":"r","response_a":"s","response_b":"t","annotator":"cy","label":"a"})" "\n";
        auto db = Database::open(test::testDatabase(dir, "t"));
        QVERIFY(importPairsJsonl(*db, write(dir, "labels.jsonl", rows).toStdString()).stored);
        const std::set<std::string> consensus = preferences(*db, LabelPolicy::Consensus);
        QCOMPARE(consensus, (std::set<std::string>{"p|x|y|b", "r|s|t|b"}));
        QCOMPARE(preferences(*db, LabelPolicy::Latest), consensus);
        // A later file from a fourth annotator moves both.
        const QByteArray dan =
            R"({"prompt":"q","response_a":"u","response_b":"v","annotator":"dan","label":"a"})" "\n"
            R"({"prompt":"r","response_a":"s","response_b":"t","annotator":"dan","label":"a"})" "\n";
        QVERIFY(importPairsJsonl(*db, write(dir, "dan.jsonl", dan).toStdString()).stored);
        QCOMPARE(preferences(*db, LabelPolicy::Consensus), (std::set<std::string>{"p|x|y|b", "q|u|v|a"}));
        QCOMPARE(preferences(*db, LabelPolicy::Latest), preferences(*db, LabelPolicy::Consensus));
        // Read straight from the file for training: the same consensus.
        std::vector<PairRow> read;
        readPairsJsonl((dir.path() + "/labels.jsonl").toStdString(), read);
        std::set<std::string> fromFile;
        for (const PairRow& p : read) fromFile.insert(p.prompt + "|" + p.a.text + "|" + p.b.text);
        QCOMPARE(fromFile, (std::set<std::string>{"p|y|x", "r|t|s"}));
    }

    // Finding 9: a line over the 16 MiB cap is a bad line, named by number,
    // read past without being held; the lines around it import.
    void anOverlongLineIsABadLine() {
        QTemporaryDir dir;
        const QString path = dir.path() + "/long.jsonl";
        {
            QFile f(path);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(R"({"prompt":"a","chosen":"x","rejected":"y"})" "\n");
            f.write(R"({"prompt":")");
            const QByteArray chunk(1 << 20, 'z');
            for (int i = 0; i < 17; ++i) f.write(chunk);
            f.write(R"(","chosen":"x","rejected":"y"})" "\n");
            f.write(R"({"prompt":"b","chosen":"x","rejected":"y"})" "\n");
        }
        auto db = Database::open(test::testDatabase(dir, "t"));
        const ImportReport r = importPairsJsonl(*db, path.toStdString(), true);
        QCOMPARE(r.errors.size(), size_t(1));
        QCOMPARE(r.errors[0].line, int64_t(2));
        QVERIFY2(r.errors[0].message.find("longer than the 16 MiB") != std::string::npos, r.errors[0].message.c_str());
        QCOMPARE(r.pairsStored, int64_t(2));
        QCOMPARE(r.linesRead, int64_t(3));
        // The reader itself: a line at the cap is read, one byte over is not.
        std::istringstream in(std::string(10, 'a') + "\n" + std::string(11, 'b') + "\r\nc");
        std::string line;
        bool tooLong = false;
        QVERIFY(readBoundedLine(in, line, tooLong, 10) && !tooLong && line == std::string(10, 'a'));
        QVERIFY(readBoundedLine(in, line, tooLong, 10) && tooLong && line.empty());
        QVERIFY(readBoundedLine(in, line, tooLong, 10) && !tooLong && line == "c");
        QVERIFY(!readBoundedLine(in, line, tooLong, 10));
    }

    // Finding 3: an export writes through a symbolic link to its target
    // (the link stays a link) and keeps a file's permissions; a FIFO is
    // written, not replaced; a missing folder or a folder is refused by name.
    void exportsWriteWhereTheyAreTold() {
        QTemporaryDir dir;
        auto db = Database::open(test::testDatabase(dir, "t"));
        QVERIFY(importPairsJsonl(*db, write(dir, "in.jsonl", R"({"prompt":"p","chosen":"x","rejected":"y"})" "\n").toStdString()).stored);
        const QByteArray expected = R"({"prompt":"p","chosen":"x","rejected":"y"})" "\n";
        const QString target = write(dir, "private.jsonl", "old");
        QVERIFY(QFile::setPermissions(target, QFile::ReadOwner | QFile::WriteOwner));
        const QString link = dir.path() + "/link.jsonl";
        QVERIFY(QFile::link(target, link));
        QCOMPARE(exportPairsJsonl(*db, link.toStdString()), int64_t(1));
        QVERIFY(QFileInfo(link).isSymLink());
        QCOMPARE(readAll(target), expected);
        QCOMPARE((QFileInfo(target).permissions() & 0x7077).toInt(), (QFile::ReadOwner | QFile::WriteOwner).toInt());
        QCOMPARE(QDir(dir.path()).entryList({"private.jsonl*"}, QDir::Files | QDir::Hidden), QStringList{"private.jsonl"});
        // Its owner and group stay: another user's file when the tests run as
        // root (who may give it back), else this user's own.
        const QByteArray local = target.toLocal8Bit();
        const uid_t owner = ::geteuid() == 0 ? 65534 : ::geteuid();
        const gid_t group = ::geteuid() == 0 ? 65534 : ::getegid();
        QCOMPARE(::chown(local.constData(), owner, group), 0);
        QCOMPARE(exportPairsJsonl(*db, target.toStdString()), int64_t(1));
        struct stat owned {};
        QCOMPARE(::stat(local.constData(), &owned), 0);
        QCOMPARE(owned.st_uid, owner);
        QCOMPARE(owned.st_gid, group);

        const QString fifo = dir.path() + "/fifo";
        QCOMPARE(::mkfifo(fifo.toLocal8Bit().constData(), 0600), 0);
        QProcess reader;
        reader.start("cat", {fifo});
        QVERIFY(reader.waitForStarted());
        QCOMPARE(exportPairsJsonl(*db, fifo.toStdString()), int64_t(1));
        QVERIFY2(reader.waitForFinished(20000), "the reader never saw the end of the export");
        QCOMPARE(reader.readAllStandardOutput(), expected);
        struct stat st {};
        QCOMPARE(::stat(fifo.toLocal8Bit().constData(), &st), 0);
        QVERIFY(S_ISFIFO(st.st_mode));

        for (const auto& [where, message] : {std::pair{dir.path() + "/missing/out.jsonl", QString("does not exist")},
                                             std::pair{dir.path(), QString("is a folder")}}) {
            try {
                exportPairsJsonl(*db, where.toStdString());
                QFAIL("a refused target was written");
            } catch (const StorageError& e) {
                QVERIFY2(QString(e.what()).contains(message) && QString(e.what()).contains(where), e.what());
            }
        }
    }

    void missingFileIsAClearError() {
        QTemporaryDir dir;
        auto db = Database::open(test::testDatabase(dir, "t"));
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
