#include "storage/pair_files.h"
#include "storage/preference_store.h"
#include "storage/rating_files.h"
#include "support/test_main.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>

#include "support/test_database.h"

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
