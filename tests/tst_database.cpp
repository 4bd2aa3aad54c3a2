#include "core/values/label.h"
#include "storage/database.h"
#include "storage/pair_files.h"
#include "storage/pair_identity.h"
#include "storage/postgres_connection.h"
#include "storage/preference_store.h"
#include "storage/metric_store.h"
#include "storage/run_store.h"
#include "storage/schema_migrations.h"
#include "storage/sqlite_connection.h"
#include "support/test_main.h"

#include <QFile>
#include <QFileInfo>
#include <QRegularExpression>
#include <QTemporaryDir>

using namespace preflab;

namespace {

std::string schemaOf(Database& db) {
    std::string out;
    SqlStatement s(db.connection(), "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name");
    while (s.step()) out += s.text(0) + ";\n";
    return out;
}

QByteArray readAll(const QString& path) {
    QFile f(path);
    f.open(QIODevice::ReadOnly);
    return f.readAll();
}

PairRow samplePair(const std::string& prompt) {
    PairRow p;
    p.prompt = prompt;
    p.a.text = "first";
    p.b.text = "second";
    p.createdMs = 1;
    return p;
}

}  // namespace

class TestDatabase : public QObject {
    Q_OBJECT
private Q_SLOTS:
    // From an empty file and from every earlier schema version, open() migrates
    // to the latest schema, identical to a fresh database.
    void migratesFromEveryVersion_data() {
        QTest::addColumn<int>("from");
        for (int v = 0; v < latestSchemaVersion(); ++v) QTest::newRow(qPrintable(QString("v%1").arg(v))) << v;
    }
    void migratesFromEveryVersion() {
        QFETCH(int, from);
        QTemporaryDir dir;
        const std::string fresh = (dir.path() + "/fresh.db").toStdString();
        const std::string old = (dir.path() + "/old.db").toStdString();
        { Database::openAtVersion(old, from); }
        auto migrated = Database::open(old);
        QCOMPARE(migrated->schemaVersion(), latestSchemaVersion());
        auto reference = Database::open(fresh);
        QCOMPARE(schemaOf(*migrated), schemaOf(*reference));
    }

    // v6 rebuilds the labels table (to allow 'adjudicated'): every label of a
    // v5 database comes through with its id, pair, choice, source, annotator and time.
    void labelsSurviveTheV6Rebuild() {
        QTemporaryDir dir;
        const std::string path = (dir.path() + "/v5.db").toStdString();
        {
            auto v5 = Database::openAtVersion(path, 5);
            // The pair as version 5 stores it (insertPair writes v7's text_key).
            v5->connection().exec("INSERT INTO prompts(id, text) VALUES(1, 'p');"
                                  "INSERT INTO responses(id, prompt_id, text) VALUES(1, 1, 'first'), (2, 1, 'second');"
                                  "INSERT INTO pairs(id, prompt_id, response_a, response_b, source, created_ms) "
                                  "VALUES(1, 1, 1, 2, 'generated', 1)");
            // Labels as version 5 stores them (insertLabel writes v9's seconds and shown_first).
            auto label = [&](const char* values) {
                v5->connection().exec(
                    std::string("INSERT INTO labels(pair_id, choice, source, annotator, created_ms) VALUES") + values);
            };
            label("(1, 'a', 'human', 'ann', 11)");
            label("(1, 'tie', 'import', '', 12)");
            v5->connection().exec("DELETE FROM labels WHERE id = 1");  // a gap in the ids
            label("(1, 'b', 'task', '', 13)");
        }
        auto db = Database::open(path);
        SqlStatement s(db->connection(), "SELECT id, pair_id, choice, source, annotator, created_ms FROM labels ORDER BY id");
        QVERIFY(s.step());
        QCOMPARE(s.int64(0), int64_t(2));
        QCOMPARE(s.text(2), std::string("tie"));
        QCOMPARE(s.text(3), std::string("import"));
        QCOMPARE(s.int64(5), int64_t(12));
        QVERIFY(s.step());
        QCOMPARE(s.int64(0), int64_t(3));
        QCOMPARE(s.text(3), std::string("task"));
        QVERIFY(!s.step());
        PreferenceStore(*db).insertAdjudication(1, "a", "rev", 14);  // now allowed
        QCOMPARE(PreferenceStore(*db).countLabels("adjudicated"), int64_t(1));
    }

    // Every label source a judge stores under is one the schema accepts
    // (a new source widens the CHECK: v6 'adjudicated', v14 'llm'), and v14
    // keeps a v13 database's labels with their later columns.
    void everyLabelSourceIsStorable() {
        QTemporaryDir dir;
        const std::string path = (dir.path() + "/v13.db").toStdString();
        {
            auto v13 = Database::openAtVersion(path, 13);
            v13->connection().exec("INSERT INTO prompts(id, text) VALUES(1, 'p');"
                                   "INSERT INTO responses(id, prompt_id, text) VALUES(1, 1, 'first'), (2, 1, 'second');"
                                   "INSERT INTO pairs(id, prompt_id, response_a, response_b, source, created_ms) "
                                   "VALUES(1, 1, 1, 2, 'generated', 1);"
                                   "INSERT INTO labels(id, pair_id, choice, source, annotator, created_ms, seconds, "
                                   "shown_first, idempotency_key) VALUES(7, 1, 'b', 'human', 'ann', 5, 2.5, 'b', 'k1')");
        }
        auto db = Database::open(path);
        SqlStatement kept(db->connection(),
                          "SELECT id, choice, source, annotator, created_ms, seconds, shown_first, idempotency_key FROM labels");
        QVERIFY(kept.step());
        QCOMPARE(kept.int64(0), int64_t(7));
        QCOMPARE(kept.text(2), std::string("human"));
        QCOMPARE(kept.real(5), 2.5);
        QCOMPARE(kept.text(6), std::string("b"));
        QCOMPARE(kept.text(7), std::string("k1"));
        for (LabelSource source : {LabelSource::Human, LabelSource::Self, LabelSource::RewardModel, LabelSource::Task,
                                   LabelSource::Import, LabelSource::Adjudicated, LabelSource::Llm}) {
            LabelRow row;
            row.pairId = 1;
            row.choice = "a";
            row.source = toString(source);
            row.annotator = "rev";  // an adjudication names its reviewer
            row.createdMs = 10;
            QVERIFY2(PreferenceStore(*db).insertLabel(row) > 0, toString(source).c_str());
            QCOMPARE(PreferenceStore(*db).countLabels(toString(source)), int64_t(source == LabelSource::Human ? 2 : 1));
        }
    }

    // Each database has its own identity (checkpoint folders are keyed by
    // it), made once and stable across openings.
    void identityIsMadeOnceAndDiffersAcrossDatabases() {
        QTemporaryDir dir;
        const std::string one = (dir.path() + "/one.db").toStdString(), two = (dir.path() + "/two.db").toStdString();
        const std::string id1 = Database::open(one)->identity();
        QCOMPARE(Database::open(one)->identity(), id1);
        QVERIFY(id1 != Database::open(two)->identity());
        // A UUID's shape: 8-4-4-4-12 lower-case hex digits, version 4.
        const QRegularExpression uuid("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
        QVERIFY2(uuid.match(QString::fromStdString(id1)).hasMatch(), id1.c_str());
    }

    // A version-1 database (before identities) keeps its checkpoint rows and
    // their paths when it is migrated: nothing already saved moves.
    void migrationKeepsCheckpointRows() {
        QTemporaryDir dir;
        const std::string path = (dir.path() + "/v1.db").toStdString();
        {
            auto v1 = Database::openAtVersion(path, 1);
            RunRow r;
            r.configJson = "{}";
            r.codeVersion = "test";
            const int64_t id = RunStore(*v1).create(r);
            MetricStore(*v1).insertCheckpoint({id, 100, "/data/runs/1/step-00000100.pt", "{}", 5});
        }
        auto db = Database::open(path);
        QCOMPARE(db->schemaVersion(), latestSchemaVersion());
        QVERIFY(!db->identity().empty());
        const auto ck = RunStore(*db).latestCheckpoint(1);
        QVERIFY(ck.has_value());
        QCOMPARE(ck->path, std::string("/data/runs/1/step-00000100.pt"));
        QCOMPARE(ck->step, int64_t(100));
    }

    // v7 adds each pair's identity key (pair_identity.h) and computes it for
    // the pairs a v6 database already holds, so that importing the same pair
    // after the upgrade finds it instead of storing a copy.
    void v7KeysThePairsAlreadyStored() {
        QTemporaryDir dir;
        const std::string path = (dir.path() + "/v6.db").toStdString();
        {
            auto v6 = Database::openAtVersion(path, 6);
            v6->connection().exec(
                "INSERT INTO prompts(id, text) VALUES(1, 'p');"
                "INSERT INTO responses(id, prompt_id, text) VALUES(1, 1, 'x'), (2, 1, 'y');"
                "INSERT INTO pairs(id, prompt_id, response_a, response_b, source, created_ms) VALUES(1, 1, 1, 2, 'import', 1);"
                "INSERT INTO labels(pair_id, choice, source, annotator, created_ms) VALUES(1, 'a', 'import', 'ann', 1);");
        }
        auto db = Database::open(path);
        QCOMPARE(db->schemaVersion(), latestSchemaVersion());
        SqlStatement key(db->connection(), "SELECT text_key FROM pairs WHERE id = 1");
        QVERIFY(key.step());
        QCOMPARE(key.int64(0), pairTextKey("p", "", "x", "y"));
        // ann's label again, given with A and B the other way round: nothing new.
        const QString file = dir.path() + "/again.jsonl";
        QFile f(file);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(R"({"prompt":"p","response_a":"y","response_b":"x","annotator":"ann","label":"b"})" "\n");
        f.close();
        const ImportReport r = importPairsJsonl(*db, file.toStdString());
        QVERIFY2(r.stored, r.describe().c_str());
        QCOMPARE(r.pairsUnchanged, int64_t(1));
        QCOMPARE(r.labelsStored, int64_t(0));
        QCOMPARE(PreferenceStore(*db).countPairs(), int64_t(1));
    }

    // Finding 1: a PostgreSQL URL that carries a password, in any spelling
    // libpq would read as one (it percent-decodes query keys: pass%77ord is
    // its password) or that a user meant as one (spellings libpq refuses and
    // then quotes), is refused before any connection, and no message, title
    // or redacted form shows the secret. The server is never reached (port
    // 1 on loopback refuses at once where a URL got through).
    void aPasswordInTheUrlIsRefusedInEverySpelling_data() {
        QTest::addColumn<QString>("url");
        const QString base = QStringLiteral("postgresql://ann@127.0.0.1:1/db");
        QTest::newRow("user:password@") << "postgresql://ann:S3CRET@127.0.0.1:1/db";
        QTest::newRow("postgres://") << "postgres://ann:S3CRET@127.0.0.1:1/db";
        QTest::newRow(":password@, no user") << "postgresql://:S3CRET@127.0.0.1:1/db";
        QTest::newRow("@ in the user part") << "postgresql://a@b:S3CRET@127.0.0.1:1/db";
        QTest::newRow("two hosts") << "postgresql://ann:S3CRET@127.0.0.1:1,127.0.0.2:1/db";
        QTest::newRow("user:password@, percent-encoded") << "postgresql://ann:S3%43RET@127.0.0.1:1/db";
        QTest::newRow("password=") << base + "?password=S3CRET";
        QTest::newRow("password= after another") << base + "?sslmode=disable&password=S3CRET";
        QTest::newRow("pass%77ord=") << base + "?pass%77ord=S3CRET";
        QTest::newRow("%70assword=") << base + "?%70assword=S3CRET";
        QTest::newRow("every letter, lower-case hex") << base + "?%70%61%73%73%77%6f%72%64=S3CRET";
        QTest::newRow("every letter, upper-case hex") << base + "?%70%61%73%73%77%6F%72%64=S3CRET";
        QTest::newRow("mixed") << base + "?p%61ss%57ord=S3CRET";
        QTest::newRow("PASSWORD= (libpq refuses)") << base + "?PASSWORD=S3CRET";
        QTest::newRow("%50ASSWORD= (libpq refuses)") << base + "?%50ASSWORD=S3CRET";
        QTest::newRow("%2570assword= (encoded twice)") << base + "?%2570assword=S3CRET";
        QTest::newRow("sslpassword=") << base + "?sslpassword=S3CRET";
        QTest::newRow("ssl%70assword=") << base + "?ssl%70assword=S3CRET";
        QTest::newRow("a bad escape in the value") << base + "?password=%zzS3CRET";
        QTest::newRow("no '=' libpq sees") << base + "?pass%77ord%3DS3CRET";
        QTest::newRow("an extra '='") << base + "?password=S3CRET=x";
        QTest::newRow("empty password=") << base + "?password=";
    }
    void aPasswordInTheUrlIsRefusedInEverySpelling() {
        QFETCH(QString, url);
        const std::string u = url.toStdString();
        QVERIFY(carriesPassword(u));
        QVERIFY2(withoutPassword(u).find("S3CRET") == std::string::npos, withoutPassword(u).c_str());
        QVERIFY2(withoutPassword(u).find("S3%43RET") == std::string::npos, withoutPassword(u).c_str());
        try {
            Database::open(u);
            QFAIL("a URL with a password was accepted");
        } catch (const StorageError& e) {
            QVERIFY2(QString(e.what()).contains("~/.pgpass"), e.what());
            QVERIFY2(!QString(e.what()).contains("S3CRET") && !QString(e.what()).contains("S3%43RET"), e.what());
        }
        const PostgresLocation where = describePostgresUrl(u);
        QVERIFY((where.database + where.host + databaseTitle(u)).find("S3CRET") == std::string::npos);
    }
    // URLs without a password are neither refused for one nor changed.
    void urlsWithoutAPasswordAreLeftAlone() {
        for (const char* url : {"postgresql://ann@db.lab/preflab?sslmode=verify-full&sslrootcert=ca.crt",
                                "postgresql://db.lab/preflab?user=a:b&passfile=/home/ann/.pgpass",
                                "postgresql://ann@[::1]:5432/preflab", "postgresql://u%3Ax@db.lab/preflab",
                                "postgresql:///preflab?host=/var/run/postgresql"}) {
            QVERIFY2(!carriesPassword(url), url);
            QCOMPARE(withoutPassword(url), std::string(url));
        }
    }

    // Finding 4: an empty database path (an unset variable in --db "$DB") and
    // a path in a folder that does not exist are errors, and nothing is created.
    void anEmptyOrHomelessPathIsRefused() {
        QTemporaryDir dir;
        try {
            Database::open("");
            QFAIL("an empty path was opened");
        } catch (const StorageError& e) {
            QVERIFY2(QString(e.what()).contains("empty"), e.what());
        }
        const std::string homeless = (dir.path() + "/missing/preflab.db").toStdString();
        try {
            Database::open(homeless);
            QFAIL("a path in a missing folder was opened");
        } catch (const StorageError& e) {
            QVERIFY2(QString(e.what()).contains("does not exist"), e.what());
        }
        QVERIFY(!QFileInfo::exists(dir.path() + "/missing"));
    }

    void emptyFileBecomesDatabase() {
        QTemporaryDir dir;
        const QString path = dir.path() + "/empty.db";
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.close();
        auto db = Database::open(path.toStdString());
        QCOMPARE(db->schemaVersion(), latestSchemaVersion());
    }

    void pragmas() {
        QTemporaryDir dir;
        auto db = Database::open((dir.path() + "/p.db").toStdString());
        SqlStatement jm(db->connection(), "PRAGMA journal_mode");
        QVERIFY(jm.step());
        QCOMPARE(jm.text(0), std::string("wal"));
        SqlStatement fk(db->connection(), "PRAGMA foreign_keys");
        QVERIFY(fk.step());
        QCOMPARE(fk.int64(0), int64_t(1));
        // Foreign keys are enforced: a label for a missing pair is refused.
        QVERIFY_THROWS_EXCEPTION(StorageError,
                                 PreferenceStore(*db).insertLabel({int64_t(999), std::nullopt, std::nullopt, "a", "human", "x", 1}));
    }

    void rejectsBadFiles_data() {
        QTest::addColumn<QByteArray>("content");
        QTest::addColumn<QString>("mentions");
        QTest::newRow("text file") << QByteArray("hello, this is not a database\n") << "not SQLite";
        QTest::newRow("short garbage") << QByteArray("\x01\x02") << "not SQLite";
    }
    void rejectsBadFiles() {
        QFETCH(QByteArray, content);
        QFETCH(QString, mentions);
        QTemporaryDir dir;
        const QString path = dir.path() + "/bad.db";
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(content);
        f.close();
        try {
            Database::open(path.toStdString());
            QFAIL("expected an error");
        } catch (const StorageError& e) {
            QVERIFY2(QString(e.what()).contains(mentions) && QString(e.what()).contains(path), e.what());
        }
        QCOMPARE(readAll(path), content);  // untouched
        QVERIFY(!QFile::exists(path + "-wal"));
    }

    void rejectsCorruptDatabase() {
        QTemporaryDir dir;
        const QString path = dir.path() + "/corrupt.db";
        {
            auto db = Database::open(path.toStdString());
            PreferenceStore store(*db);
            Transaction tx(db->connection());
            for (int i = 0; i < 300; ++i) store.insertPair(samplePair("prompt " + std::to_string(i) + std::string(200, 'x')));
            tx.commit();
            db->connection().exec("PRAGMA wal_checkpoint(TRUNCATE)");
            db->connection().exec("PRAGMA journal_mode = DELETE");
        }
        // Overwrite pages 3 to 5 with garbage, keeping the valid header.
        QFile f(path);
        QVERIFY(f.open(QIODevice::ReadWrite));
        QByteArray bytes = f.readAll();
        const int page = (static_cast<unsigned char>(bytes[16]) << 8 | static_cast<unsigned char>(bytes[17])) == 1
                             ? 65536
                             : (static_cast<unsigned char>(bytes[16]) << 8 | static_cast<unsigned char>(bytes[17]));
        QVERIFY(bytes.size() > page * 6);
        for (int i = page * 2; i < page * 5; ++i) bytes[i] = static_cast<char>((i * 7919) & 0xff);
        f.seek(0);
        f.write(bytes);
        f.close();
        try {
            Database::open(path.toStdString());
            QFAIL("expected an integrity error");
        } catch (const StorageError& e) {
            QVERIFY2(QString(e.what()).contains("integrity") || QString(e.what()).contains("damaged"), e.what());
        }
        QCOMPARE(readAll(path), bytes);
    }

    void rejectsForeignAndNewerDatabases() {
        QTemporaryDir dir;
        const std::string foreign = (dir.path() + "/foreign.db").toStdString();
        { SqliteConnection c(foreign, true); c.exec("CREATE TABLE t(x)"); }
        QVERIFY_THROWS_EXCEPTION(StorageError, Database::open(foreign));
        const std::string newer = (dir.path() + "/newer.db").toStdString();
        { auto db = Database::open(newer); db->connection().exec("PRAGMA user_version = 999"); }
        try {
            Database::open(newer);
            QFAIL("expected an error");
        } catch (const StorageError& e) {
            QVERIFY2(QString(e.what()).contains("newer PrefLab"), e.what());
        }
        QVERIFY_THROWS_EXCEPTION(StorageError, Database::open((dir.path() + "/missing.db").toStdString(),
                                                             Database::Mode::OpenExisting));
        QVERIFY(!QFile::exists(dir.path() + "/missing.db"));
    }

    // A full disk (simulated with max_page_count) fails the transaction as a
    // whole with a clear message; nothing stored before is lost.
    void diskFullRollsBack() {
        QTemporaryDir dir;
        auto db = Database::open((dir.path() + "/full.db").toStdString());
        PreferenceStore store(*db);
        store.insertPair(samplePair("kept"));
        SqlStatement pc(db->connection(), "PRAGMA page_count");
        pc.step();
        db->connection().exec("PRAGMA max_page_count = " + std::to_string(pc.int64(0) + 2));
        try {
            Transaction tx(db->connection());
            for (int i = 0; i < 200; ++i) store.insertPair(samplePair(std::to_string(i) + std::string(500, 'y')));
            tx.commit();
            QFAIL("expected SQLITE_FULL");
        } catch (const StorageError& e) {
            QVERIFY2(QString(e.what()).contains("disk is full"), e.what());
        }
        QCOMPARE(store.countPairs(), int64_t(1));
    }

    void runsAndCheckpoints() {
        QTemporaryDir dir;
        auto db = Database::open((dir.path() + "/r.db").toStdString());
        RunStore runs(*db);
        RunRow r;
        r.name = "demo";
        r.configJson = "{}";
        r.codeVersion = "test";
        const int64_t id = runs.create(r);
        QCOMPARE(runs.find(id)->name, std::string("demo"));
        QCOMPARE(runs.nextPairIndex(id), int64_t(0));
        runs.update({id, "paused", 17, "why"});
        QCOMPARE(runs.find(id)->lastStep, int64_t(17));
        QCOMPARE(runs.find(id)->status, std::string("paused"));
        QVERIFY(!runs.latestCheckpoint(id));
    }

    // The CPO family's data: each rated response's latest rating with the
    // sampling log-probability stored at generation; responses without one
    // (imports) are counted, not visited; the run filter applies.
    void ratingsWithPropensities() {
        QTemporaryDir dir;
        auto db = Database::open((dir.path() + "/r.db").toStdString());
        RunStore runs(*db);
        RunRow r;
        r.name = "rated";
        r.configJson = "{}";
        r.codeVersion = "test";
        const int64_t run = runs.create(r);
        PreferenceStore store(*db);
        PairRow generated = samplePair("Tell me about the fox.");
        generated.runId = run;
        generated.runIndex = 0;
        generated.a.samplingLogprob = -3.5;
        generated.a.endedWithEos = 1;
        generated.b.samplingLogprob = -7.25;
        generated.b.endedWithEos = 0;
        store.insertPair(generated);
        const int64_t imported = store.insertPair(samplePair("Where does the owl live?"));
        auto rate = [&](std::optional<int64_t> pairId, std::string side, double value) {
            RatingRow row;
            if (pairId) row.pairId = pairId;
            else {
                row.runId = run;
                row.runIndex = 0;
            }
            row.side = std::move(side);
            row.value = value;
            row.source = "human";
            row.createdMs = 2;
            store.insertRating(row);
        };
        rate(std::nullopt, "a", 2);
        rate(std::nullopt, "a", 6);  // a correction: the latest counts
        rate(std::nullopt, "b", 1);
        rate(imported, "a", 5);
        std::vector<StoredRating> seen;
        const int64_t skipped = store.forEachRating(std::nullopt, [&](const StoredRating& s) { seen.push_back(s); });
        QCOMPARE(skipped, int64_t(1));
        QCOMPARE(seen.size(), size_t(2));
        QCOMPARE(seen[0].response, std::string("first"));
        QCOMPARE(seen[0].value, 6.0);
        QCOMPARE(seen[0].samplingLogprob, -3.5);
        QVERIFY(seen[0].endedWithEos);
        QCOMPARE(seen[1].value, 1.0);
        QCOMPARE(seen[1].samplingLogprob, -7.25);
        QVERIFY(!seen[1].endedWithEos);
        seen.clear();
        store.forEachRating(run + 1, [&](const StoredRating& s) { seen.push_back(s); });
        QVERIFY(seen.empty());
    }
};

PREFLAB_TEST_MAIN(TestDatabase)
#include "tst_database.moc"
