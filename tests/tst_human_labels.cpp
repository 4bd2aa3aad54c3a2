// A person's labels on their way to the run: the queue hands labels over once,
// takes back a label not yet collected (undo), a mixed judge passes the pairs
// the person cannot keep up with to its fallback, and ratings become rows.
#include "core/values/human_judge.h"
#include "core/judges/make_judge.h"
#include "storage/database.h"
#include "storage/pair_files.h"
#include "storage/label_rows.h"
#include "storage/preference_store.h"
#include "storage/run_store.h"
#include "storage/storage_writer.h"
#include "support/test_main.h"

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>

#include "support/test_database.h"

using namespace preflab;

namespace {

std::vector<PairForJudging> pairs(int from, int count) {
    std::vector<PairForJudging> out;
    for (int i = from; i < from + count; ++i) {
        PairForJudging p;
        p.pairIndex = i;
        p.prompt = "Tell me about the red fox.";
        p.responseA = "The fox is friendly.";
        p.responseB = "Ugh, fine. The cat is grumpy.";
        out.push_back(p);
    }
    return out;
}

}  // namespace

class TestHumanLabels : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void provideOnceThenCollect() {
        HumanLabelQueue q;
        int changes = 0;
        q.setChangeListener([&](const LabelQueueSnapshot&) { ++changes; });
        q.push(pairs(0, 3));
        QCOMPARE(changes, 1);
        QVERIFY(q.provide(1, Choice::B, "ada"));
        QVERIFY(!q.provide(1, Choice::A, "ada"));  // already labeled
        QVERIFY(!q.provide(9, Choice::A, "ada"));  // never queued
        QCOMPARE(q.pendingCount(), size_t(2));
        const auto judged = q.takeJudged();
        QCOMPARE(judged.size(), size_t(1));
        QVERIFY(judged[0].choice == Choice::B);
        QVERIFY(judged[0].source == LabelSource::Human);
        QCOMPARE(judged[0].annotator, std::string("ada"));
        QVERIFY(judged[0].timeMs > 0);
        QVERIFY(q.takeJudged().empty());
    }

    void retractPutsThePairBackFirst() {
        HumanLabelQueue q;
        q.push(pairs(0, 3));
        QVERIFY(q.provide(1, Choice::A, "ada"));
        QVERIFY(q.retract(1));
        QCOMPARE(q.pending().front().pairIndex, int64_t(1));
        QCOMPARE(q.pendingCount(), size_t(3));
        QVERIFY(q.takeJudged().empty());
        // Once collected, a label cannot be taken back.
        QVERIFY(q.provide(1, Choice::A, "ada"));
        QCOMPARE(q.takeJudged().size(), size_t(1));
        QVERIFY(!q.retract(1));
    }

    void ratingsTravelWithTheJudgement() {
        HumanLabelQueue q;
        q.push(pairs(0, 1));
        Judgement j;
        j.pairIndex = 0;
        j.choice = Choice::A;
        j.annotator = "ada";
        j.ratingA = 6;
        j.ratingB = 2;
        QVERIFY(q.provide(j));
        const auto judged = q.takeJudged();
        QCOMPARE(*judged[0].ratingA, 6.0);
        QCOMPARE(*judged[0].ratingB, 2.0);
    }

    void mixedJudgeHandsTheBacklogToItsFallback() {
        RunConfig c;
        c.judge = "human+task";
        c.annotator = "ada";
        c.generationBatch = 2;  // the person keeps two pairs in view
        auto queue = std::make_shared<HumanLabelQueue>();
        auto judge = makeJudge(c, queue);
        judge->submit(pairs(0, 5));
        QVERIFY(queue->provide(4, Choice::Tie, "ada"));  // the newest one, by the person
        const auto judged = judge->collect();
        // Pairs 0..1 went to the task judge (oldest first), 2..3 wait for the person.
        QCOMPARE(judged.size(), size_t(3));
        int task = 0, human = 0;
        for (const Judgement& j : judged) {
            if (j.source == LabelSource::Task) {
                ++task;
                QVERIFY(j.pairIndex <= 1);
                QVERIFY(j.choice == Choice::A);  // the kind, on-topic answer wins
            } else {
                ++human;
                QCOMPARE(j.pairIndex, int64_t(4));
            }
        }
        QCOMPARE(task, 2);
        QCOMPARE(human, 1);
        QCOMPARE(queue->pendingCount(), size_t(2));
        QCOMPARE(judge->outstanding(), size_t(2));
    }

    void ratingRowsAreStored() {
        QTemporaryDir dir;
        const std::string path = test::testDatabase(dir, "r");
        int64_t runId = 0;
        {
            auto db = Database::open(path);
            RunRow run;
            run.createdMs = 1;
            run.configJson = "{}";
            run.codeVersion = "test";
            runId = RunStore(*db).create(run);
        }
        StorageWriter writer(path);
        PairRow p;
        p.runId = runId;
        p.runIndex = 0;
        p.prompt = "x";
        p.a.text = "a";
        p.b.text = "b";
        writer.enqueue(p);
        writer.enqueue(RatingRow{std::nullopt, runId, 0, "b", 5.0, "human", "ada", 7});
        QVERIFY(writer.flush());
        // A rating for a pair that does not exist is an error naming the file, and is not stored.
        std::string error;
        StorageWriter failing(path, [&](const std::string& e) { error = e; });
        failing.enqueue(RatingRow{std::nullopt, runId, 42, "a", 1.0, "human", "ada", 8});
        QVERIFY(!failing.flush());
        QVERIFY2(error.find(path) != std::string::npos && error.find("42") != std::string::npos, error.c_str());
        auto db = Database::open(path);
        SqlStatement s(db->connection(),
                          "SELECT r.value, r.annotator FROM ratings r JOIN pairs p ON p.response_b = r.response_id");
        QVERIFY(s.step());
        QCOMPARE(s.real(0), 5.0);
        QCOMPARE(s.text(1), std::string("ada"));
        QVERIFY(!s.step());
    }

    // A write the writer sends again (its batch's COMMIT failed as far as it
    // knows, but had reached the server) stores a person's label once: the
    // row carries the key it was given with. Two labels given are two keys,
    // two rows, even with the same pair, annotator and time; a judge's
    // label has no key.
    void aRetriedLabelIsStoredOnce() {
        QTemporaryDir dir;
        const std::string path = test::testDatabase(dir, "k");
        int64_t responseId = 0;
        {
            auto db = Database::open(path);
            PairRow p;
            p.prompt = "x";
            p.a.text = "a";
            p.b.text = "b";
            PreferenceStore(*db).insertPair(p);
            SqlStatement r(db->connection(), "SELECT response_a FROM pairs");
            QVERIFY(r.step());
            responseId = r.int64(0);
        }
        const LabelRow given =
            labelRow(LabelTarget::storedPair(1), Choice::A, LabelSource::Human, "ada", 7, 2.5, Choice::B);
        QVERIFY(!given.idempotencyKey.empty());
        const LabelRow again =
            labelRow(LabelTarget::storedPair(1), Choice::A, LabelSource::Human, "ada", 7, 2.5, Choice::B);
        QVERIFY(again.idempotencyKey != given.idempotencyKey);
        QVERIFY(labelRow(LabelTarget::storedPair(1), Choice::A, LabelSource::Task, "", 7).idempotencyKey.empty());
        const ResponseLabelRow thumb = responseLabelRow(responseId, true, "ada", 9, 1.0);
        {
            StorageWriter writer(path);
            writer.enqueue(given);
            writer.enqueue(thumb);
            QVERIFY(writer.flush());
            writer.enqueue(given);  // the retry
            writer.enqueue(thumb);
            writer.enqueue(again);  // a second label, given at the same millisecond
            QVERIFY(writer.flush());
        }
        auto db = Database::open(path);
        auto count = [&](const std::string& sql) {
            SqlStatement s(db->connection(), sql);
            return s.step() ? s.int64(0) : -1;
        };
        QCOMPARE(count("SELECT count(*) FROM labels WHERE annotator = 'ada'"), int64_t(2));
        QCOMPARE(count("SELECT count(DISTINCT idempotency_key) FROM labels WHERE annotator = 'ada'"), int64_t(2));
        QCOMPARE(count("SELECT count(*) FROM response_labels"), int64_t(1));
        // The store answers a retry with the stored row's id.
        PreferenceStore store(*db);
        const int64_t first = count("SELECT min(id) FROM labels");
        QCOMPARE(store.insertLabel(given), first);
        QCOMPARE(count("SELECT count(*) FROM labels"), int64_t(2));
        // Judges' labels (no key) are never taken for one another.
        store.insertLabel({int64_t(1), std::nullopt, std::nullopt, "b", "task", "", 1});
        store.insertLabel({int64_t(1), std::nullopt, std::nullopt, "b", "task", "", 1});
        QCOMPARE(count("SELECT count(*) FROM labels WHERE source = 'task'"), int64_t(2));
    }

    // Edit to prefer: the edited text becomes a new response naming the one
    // it was made from, in a pair (edited, original) of source 'edit' in the
    // original's run, with its prompt's turns, labelled 'a' by the editor
    // with the seconds taken. A retried write stores it once; exported, the
    // edit is chosen and the original rejected.
    void anEditIsStoredAsACorrectionPair() {
        QTemporaryDir dir;
        const std::string path = test::testDatabase(dir, "edit");
        int64_t runId = 0;
        {
            auto db = Database::open(path);
            RunRow run;
            run.configJson = "{}";
            run.codeVersion = "test";
            runId = RunStore(*db).create(run);
            PairRow p;
            p.runId = runId;
            p.runIndex = 0;
            p.prompt = "User: list two foxes";
            p.promptMessagesJson = R"([{"role":"user","content":"list two foxes"}])";
            p.a.text = "- red fox\n- arctic fox";
            p.b.text = "red fox, grey fox";
            PreferenceStore(*db).insertPair(p);
        }
        const PreferredEditRow edit = preferredEditRow(LabelTarget::runPair(runId, 0), Choice::B,
                                                       "- red fox\n- grey fox", "ada", 11, 3.5);
        QVERIFY(!edit.idempotencyKey.empty());
        QCOMPARE(edit.side, std::string("b"));
        {
            StorageWriter writer(path);
            writer.enqueue(edit);
            QVERIFY(writer.flush());
            writer.enqueue(edit);  // the retry
            QVERIFY(writer.flush());
        }
        auto db = Database::open(path);
        auto text = [&](const std::string& sql) {
            SqlStatement s(db->connection(), sql);
            return s.step() ? (s.isNull(0) ? std::string("NULL") : s.text(0)) : std::string("no row");
        };
        QCOMPARE(text("SELECT count(*) FROM pairs"), std::string("2"));
        QCOMPARE(text("SELECT source FROM pairs WHERE id = 2"), std::string("edit"));
        QCOMPARE(text("SELECT run_id FROM pairs WHERE id = 2"), std::to_string(runId));
        QCOMPARE(text("SELECT r.text FROM pairs JOIN responses r ON r.id = pairs.response_a WHERE pairs.id = 2"),
                 std::string("- red fox\n- grey fox"));
        // The original is the very response of pair 1, not a copy.
        QCOMPARE(text("SELECT CASE WHEN (SELECT response_b FROM pairs WHERE id = 2) = "
                      "(SELECT response_b FROM pairs WHERE id = 1) THEN 1 ELSE 0 END"),
                 std::string("1"));
        QCOMPARE(text("SELECT count(*) FROM responses r JOIN pairs ON pairs.response_a = r.id "
                      "WHERE pairs.id = 2 AND r.edited_from = (SELECT response_b FROM pairs WHERE id = 1)"),
                 std::string("1"));
        QCOMPARE(text("SELECT choice || ' ' || source || ' ' || annotator || ' ' || seconds FROM labels WHERE pair_id = 2"),
                 std::string("a human ada 3.5"));
        QCOMPARE(text("SELECT count(*) FROM labels"), std::string("1"));
        QCOMPARE(text("SELECT prompt_messages || '|' || source_row FROM conversations WHERE pair_id = 2"),
                 std::string(R"([{"role":"user","content":"list two foxes"}]|)"));
        // Exported for training: the edit chosen over the original.
        const std::string out = (dir.path() + "/pairs.jsonl").toStdString();
        QCOMPARE(exportPairsJsonl(*db, out, runId), int64_t(1));
        QFile f(QString::fromStdString(out));
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QJsonObject row = QJsonDocument::fromJson(f.readLine()).object();
        QCOMPARE(row["chosen"].toString(), QStringLiteral("- red fox\n- grey fox"));
        QCOMPARE(row["rejected"].toString(), QStringLiteral("red fox, grey fox"));

        // What cannot be a correction says why, naming the pair, and stores nothing.
        PreferenceStore store(*db);
        auto refused = [&](const PreferredEditRow& e, const char* why) {
            try {
                store.insertPreferredEdit(e);
            } catch (const StorageError& error) {
                return QString(error.what()).contains(why);
            }
            return false;
        };
        QVERIFY(refused(preferredEditRow(LabelTarget::storedPair(1), Choice::A, "- red fox\n- arctic fox", "ada", 12),
                        "pair 1 leaves its text unchanged"));
        QVERIFY(refused(preferredEditRow(LabelTarget::storedPair(99), Choice::A, "x", "ada", 12), "unknown pair 99"));
        QVERIFY(refused(preferredEditRow(LabelTarget::storedPair(1), Choice::A, "x", "", 12), "needs its annotator"));
        QCOMPARE(text("SELECT count(*) FROM pairs"), std::string("2"));
    }
};

PREFLAB_TEST_MAIN(TestHumanLabels)
#include "tst_human_labels.moc"
