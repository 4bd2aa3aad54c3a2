// A team's shared PostgreSQL database (storage/postgres_connection.h), in the
// throwaway cluster CTest starts (tests/support/pg_cluster.sh): clear errors
// that name the server, passwords that stay out of everything PrefLab
// stores or prints, TLS where the server offers it, and two processes
// labeling into one database at once.
#include "storage/database.h"
#include "storage/pair_files.h"
#include "storage/preference_store.h"
#include "storage/schema_migrations.h"
#include "support/session_fixture.h"
#include "support/test_database.h"
#include "support/test_main.h"

#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>

using namespace preflab;
using namespace preflab::test;

namespace {

struct Result {
    int exitCode = -1;
    QString output;
};

Result runPreflab(const QStringList& args, const QProcessEnvironment& env = QProcessEnvironment::systemEnvironment(),
                  const QByteArray& input = {}) {
    QProcess p;
    p.setProcessChannelMode(QProcess::MergedChannels);
    p.setProcessEnvironment(env);
    p.start(QStringLiteral(PREFLAB_CLI), args);
    p.write(input);
    p.closeWriteChannel();
    Result r;
    if (!p.waitForFinished(240000)) {
        p.kill();
        p.waitForFinished();
        r.output = QStringLiteral("(killed after 240 s) ");
    }
    r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.output += QString::fromUtf8(p.readAll());
    return r;
}

// `n` short pairs in TRL's standard format.
QString writePairs(const QTemporaryDir& dir, int n) {
    const QString path = dir.path() + QStringLiteral("/pairs.jsonl");
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly)) return {};
    for (int i = 0; i < n; ++i) {
        f.write(QStringLiteral("{\"prompt\": \"tea %1?\", \"chosen\": \"calm %1\", \"rejected\": \"rain %1\"}\n").arg(i).toUtf8());
    }
    return path;
}

int64_t count(Database& db, const std::string& sql) {
    SqlStatement s(db.connection(), sql);
    return s.step() ? s.int64(0) : -1;
}

// The schema as PostgreSQL's catalog describes it: every column of every
// table with its type, nullability and default, and every index.
std::string schemaOf(Database& db) {
    std::string out;
    SqlStatement columns(db.connection(),
                         "SELECT table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable || ' ' || "
                         "coalesce(column_default, '') FROM information_schema.columns WHERE table_schema = "
                         "current_schema() ORDER BY table_name, column_name");
    while (columns.step()) out += columns.text(0) + "\n";
    SqlStatement indexes(db.connection(), "SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() ORDER BY indexname");
    while (indexes.step()) out += indexes.text(0) + "\n";
    SqlStatement checks(db.connection(), "SELECT conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint WHERE "
                                         "connamespace = current_schema()::regnamespace ORDER BY conname");
    while (checks.step()) out += checks.text(0) + "\n";
    return out;
}

QString clusterPassword() {
    QFile f(postgresCluster().value(QStringLiteral("PREFLAB_TEST_PG_PASSFILE")));
    if (!f.open(QIODevice::ReadOnly)) return {};
    return QString::fromUtf8(f.readAll()).trimmed().section(QLatin1Char(':'), 4);
}

// The environment of a team member who keeps the password in PGPASSWORD
// (`password`) rather than in ~/.pgpass.
QProcessEnvironment withPassword(const QString& password) {
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("PGPASSFILE"), QStringLiteral("/nonexistent/pgpass"));
    env.insert(QStringLiteral("PGPASSWORD"), password);
    return env;
}

}  // namespace

class TestTeamDatabase : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void connectionErrorsNameTheServer_data() {
        QTest::addColumn<QString>("url");
        QTest::addColumn<QString>("password");  // PGPASSWORD for the attempt; empty: the cluster's pgpass
        QTest::addColumn<QString>("expected");
        const QString base = postgresCluster().value(QStringLiteral("PREFLAB_TEST_PG_TCP_URL"));
        QTest::newRow("refused") << QStringLiteral("postgresql://preflab@127.0.0.1:1/team") << QString()
                                 << QStringLiteral("Connection refused");
        QTest::newRow("wrong password") << base + QStringLiteral("/postgres") << QStringLiteral("not-the-password")
                                        << QStringLiteral("password authentication failed");
        QTest::newRow("no such database") << base + QStringLiteral("/no_such_db") << QString()
                                          << QStringLiteral("\"no_such_db\" does not exist");
        QTest::newRow("bad URL") << QStringLiteral("postgresql://preflab@127.0.0.1:5432/team?sslmode=sometimes")
                                 << QString() << QStringLiteral("sslmode");
    }
    void connectionErrorsNameTheServer() {
        QFETCH(QString, url);
        QFETCH(QString, password);
        QFETCH(QString, expected);
        QTemporaryDir dir;
        const QProcessEnvironment env =
            password.isEmpty() ? QProcessEnvironment::systemEnvironment() : withPassword(password);
        // The real command, as a user would meet it: an import that must
        // store nothing and say which server refused.
        const Result r = runPreflab({"import", "--db", url, writePairs(dir, 3)}, env);
        QVERIFY2(r.exitCode != 0, qPrintable(r.output));
        QVERIFY2(r.output.contains(expected), qPrintable(r.output));
        QVERIFY2(r.output.contains(url.section(QLatin1Char('?'), 0, 0)), qPrintable(r.output));  // names the server
        QVERIFY2(r.output.count(QLatin1Char('\n')) <= 4, qPrintable(r.output));  // a message, not a trace
        if (!password.isEmpty()) QVERIFY(!r.output.contains(password));
    }

    // The same migrations as a file's: from every earlier version, open()
    // reaches the schema a new database gets, keeping what was stored.
    void migratesFromEveryVersion_data() {
        QTest::addColumn<int>("from");
        for (int v = 1; v < latestSchemaVersion(); ++v) QTest::newRow(qPrintable(QString("v%1").arg(v))) << v;
    }
    void migratesFromEveryVersion() {
        QFETCH(int, from);
        const std::string old = createPostgresDatabase("v" + std::to_string(from));
        {
            auto db = Database::openAtVersion(old, from);
            SqlStatement s(db->connection(), "INSERT INTO prompts(text) VALUES('kept')");
            s.run();
        }
        auto migrated = Database::open(old);
        QCOMPARE(migrated->schemaVersion(), latestSchemaVersion());
        auto fresh = Database::open(createPostgresDatabase("fresh"));
        const std::string schema = schemaOf(*migrated);
        QVERIFY(schema.find("labels.source") != std::string::npos);
        QCOMPARE(schema, schemaOf(*fresh));
        QCOMPARE(count(*migrated, "SELECT count(*) FROM prompts WHERE text = 'kept'"), int64_t(1));
        // Ids keep counting after the migration (the v6 label check changed in place).
        PairRow p;
        p.prompt = "after";
        p.a.text = "x";
        p.b.text = "y";
        const int64_t pair = PreferenceStore(*migrated).insertPair(p);
        QVERIFY(PreferenceStore(*migrated).insertLabel({pair, std::nullopt, std::nullopt, "a", "adjudicated", "rev", 1}) > 0);
    }

    // A database that is not PrefLab's, or is a newer PrefLab's, is refused
    // and left as it was.
    void refusesForeignAndNewerDatabases() {
        const std::string foreign = createPostgresDatabase("foreign");
        {
            PostgresConnection c(foreign);
            c.exec("CREATE TABLE invoices(id BIGINT)");
        }
        try {
            Database::open(foreign);
            QFAIL("a foreign database was opened");
        } catch (const StorageError& e) {
            QVERIFY2(std::string(e.what()).find("not PrefLab's") != std::string::npos, e.what());
        }
        {
            PostgresConnection c(foreign);
            SqlStatement s(c, "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()");
            QVERIFY(s.step());
            QCOMPARE(s.int64(0), int64_t(1));  // still only its own table
        }
        const std::string newer = createPostgresDatabase("newer");
        Database::open(newer)->connection().exec("UPDATE preflab_schema_version SET version = 999");
        try {
            Database::open(newer);
            QFAIL("a newer database was opened");
        } catch (const StorageError& e) {
            QVERIFY2(std::string(e.what()).find("newer PrefLab") != std::string::npos, e.what());
        }
    }

    // A server that drops the connection (a restart, an idle timeout) costs
    // one failed statement; the next one reconnects.
    void aDroppedConnectionIsReestablished() {
        auto db = Database::open(createPostgresDatabase("dropped"));
        SqlStatement pid(db->connection(), "SELECT pg_backend_pid()");
        QVERIFY(pid.step());
        const int64_t backend = pid.int64(0);
        pid.reset();
        {
            auto admin = Database::open(createPostgresDatabase("admin"));
            SqlStatement kill(admin->connection(), "SELECT pg_terminate_backend(CAST(? AS integer))");
            kill.bind(1, backend);
            QVERIFY(kill.step());
        }
        try {
            count(*db, "SELECT count(*) FROM pairs");
            QFAIL("a statement on a terminated connection succeeded");
        } catch (const StorageError& e) {
            QVERIFY2(std::string(e.what()).find("connection") != std::string::npos, e.what());
        }
        QCOMPARE(count(*db, "SELECT count(*) FROM pairs"), int64_t(0));
        PairRow p;
        p.prompt = "after";
        p.a.text = "x";
        p.b.text = "y";
        Transaction tx(db->connection());
        QVERIFY(PreferenceStore(*db).insertPair(p) > 0);
        tx.commit();
    }

    // A writer that holds the write lock makes another wait at most 10 s,
    // then fail with a message that says why; nothing of it is stored.
    void aHeldWriteLockIsAwaitedThenNamed() {
        const std::string url = createPostgresDatabase("locked");
        auto holder = Database::open(url);
        auto waiter = Database::open(url);
        Transaction held(holder->connection());
        QElapsedTimer t;
        t.start();
        try {
            Transaction tx(waiter->connection());
            QFAIL("the write lock was granted twice");
        } catch (const StorageError& e) {
            QVERIFY2(std::string(e.what()).find("write lock") != std::string::npos, e.what());
        }
        QVERIFY2(t.elapsed() >= 9000, qPrintable(QString::number(t.elapsed())));
        held.commit();
        Transaction now(waiter->connection());  // free again
        now.commit();
    }

    void aPasswordInTheUrlIsRefusedUnseen() {
        const QString url = postgresCluster().value(QStringLiteral("PREFLAB_TEST_PG_TCP_URL"))
                                .replace(QStringLiteral("preflab@"), QStringLiteral("preflab:hunter2@")) +
                            QStringLiteral("/postgres");
        try {
            Database::open(url.toStdString());
            QFAIL("a URL with a password was accepted");
        } catch (const StorageError& e) {
            const std::string what = e.what();
            QVERIFY2(what.find("hunter2") == std::string::npos, e.what());
            QVERIFY2(what.find("~/.pgpass") != std::string::npos, e.what());
        }
    }

    void tlsWhereTheServerOffersIt() {
        const std::string tcp = createPostgresDatabase("tls", true);
        QVERIFY2(Database::open(tcp)->transportDescription().rfind("TLS", 0) == 0,
                 Database::open(tcp)->transportDescription().c_str());
        // sslmode passes through to libpq.
        const std::string plain = Database::open(tcp + "?sslmode=disable")->transportDescription();
        QVERIFY2(plain.find("not encrypted") != std::string::npos, plain.c_str());
        const std::string socket = Database::open(createPostgresDatabase("socket"))->transportDescription();
        QVERIFY2(socket.find("Unix socket") != std::string::npos, socket.c_str());
    }

    // A password given the usual way (PGPASSWORD) never reaches what PrefLab
    // stores, prints or exports, through a whole session of commands.
    void thePasswordStaysPrivate() {
        QTemporaryDir dir;
        const std::string url = createPostgresDatabase("private");
        const QString db = QString::fromStdString(url);
        const QString password = clusterPassword();
        QVERIFY(password.size() >= 16);
        const QProcessEnvironment env = withPassword(password);
        const std::string model = writeTinyModel(dir.path());
        QString everything;
        auto run = [&](const QStringList& args, const QByteArray& input = {}) {
            const Result r = runPreflab(args, env, input);
            everything += r.output;
            return r;
        };
        QVERIFY2(run({"import", "--db", db, writePairs(dir, 12)}).exitCode == 0, qPrintable(everything));
        QVERIFY2(run({"annotate", "--db", db, "--annotator", "ann", "--overlap", "1"}, "a\nb\nt\nq\n").exitCode == 0,
                 qPrintable(everything));
        const Result trained = run({"run", "--model", QString::fromStdString(model), "--db", db, "--data-dir",
                                    dir.path() + "/data", "--algorithm", "dpo", "--pairs", "db", "--batch-size", "4",
                                    "--steps", "2", "--eval-every", "0", "--warmup-steps", "0"});
        QVERIFY2(trained.exitCode == 0, qPrintable(trained.output));
        QVERIFY2(run({"export", "--db", db, "--pairs", dir.path() + "/p.jsonl", "--labels", dir.path() + "/l.jsonl",
                      "--metrics", dir.path() + "/m.csv", "--run", "1"})
                         .exitCode == 0,
                 qPrintable(everything));
        run({"runs", "--db", db});
        run({"agreement", "--db", db, "--json"});
        QVERIFY2(!everything.contains(password), "the password was printed");
        for (const char* file : {"/p.jsonl", "/l.jsonl", "/m.csv"}) {
            QFile f(dir.path() + file);
            QVERIFY(f.open(QIODevice::ReadOnly));
            QVERIFY2(!f.readAll().contains(password.toUtf8()), file);
        }
        // Every text the database holds, the run's stored config among them.
        qputenv("PGPASSWORD", password.toUtf8());
        auto d = Database::open(url);
        qunsetenv("PGPASSWORD");
        QCOMPARE(count(*d, "SELECT count(*) FROM runs"), int64_t(1));
        SqlStatement texts(d->connection(),
                           "SELECT config_json || message || code_version || model FROM runs UNION ALL "
                           "SELECT message || advice FROM run_events UNION ALL SELECT path || metrics_json FROM checkpoints");
        int rows = 0;
        while (texts.step()) {
            ++rows;
            QVERIFY2(texts.text(0).find(password.toStdString()) == std::string::npos, texts.text(0).c_str());
        }
        QVERIFY(rows >= 1);
    }

    // Two annotators label 500 pairs each at the same moment, in two
    // processes: 1,000 label rows, none lost, none twice.
    void twoProcessesLabelAtOnce() {
        QTemporaryDir dir;
        const std::string url = createPostgresDatabase("concurrent");
        {
            auto d = Database::open(url);
            const ImportReport report = importPairsJsonl(*d, writePairs(dir, 500).toStdString());
            QVERIFY2(report.stored && report.pairsStored == 500, report.describe().c_str());
        }
        QByteArray answers;
        for (int i = 0; i < 500; ++i) answers += (i % 3 == 0) ? "b\n" : "a\n";
        QProcess one, two;
        for (QProcess* p : {&one, &two}) p->setProcessChannelMode(QProcess::MergedChannels);
        one.start(QStringLiteral(PREFLAB_CLI), {"annotate", "--db", QString::fromStdString(url), "--annotator", "ann1"});
        two.start(QStringLiteral(PREFLAB_CLI), {"annotate", "--db", QString::fromStdString(url), "--annotator", "ann2"});
        for (QProcess* p : {&one, &two}) {
            QVERIFY(p->waitForStarted());
            p->write(answers);
            p->closeWriteChannel();
        }
        for (QProcess* p : {&one, &two}) {
            QVERIFY(p->waitForFinished(240000));
            const QString out = QString::fromUtf8(p->readAll());
            QVERIFY2(p->exitCode() == 0, qPrintable(out.right(2000)));
            QVERIFY2(out.contains(QStringLiteral("500 labels stored")), qPrintable(out.right(2000)));
        }
        auto d = Database::open(url);
        QCOMPARE(count(*d, "SELECT count(*) FROM labels WHERE source = 'human'"), int64_t(1000));
        QCOMPARE(count(*d, "SELECT count(*) FROM (SELECT DISTINCT pair_id, annotator FROM labels WHERE source = 'human') u"),
                 int64_t(1000));
        QCOMPARE(count(*d, "SELECT count(*) FROM (SELECT pair_id FROM labels WHERE source = 'human' GROUP BY pair_id "
                           "HAVING count(*) = 2) full_pairs"),
                 int64_t(500));
    }

    // A training run reads the labels another process wrote: before anyone
    // labels, the stored pairs hold no preference and the run refuses; after
    // an annotator's labels arrive from another process, it trains on them.
    void aRunTrainsOnLabelsAnotherProcessWrote() {
        QTemporaryDir dir;
        const std::string url = createPostgresDatabase("handoff");
        const QString db = QString::fromStdString(url);
        const std::string model = writeTinyModel(dir.path());
        // Ten pairs that one annotator skipped: no preference yet.
        QFile ties(dir.path() + QStringLiteral("/ties.jsonl"));
        QVERIFY(ties.open(QIODevice::WriteOnly));
        for (int i = 0; i < 10; ++i) {
            ties.write(QStringLiteral("{\"prompt\": \"fox %1?\", \"response_a\": \"blue %1\", \"response_b\": \"moon\", "
                                      "\"annotator\": \"first\", \"label\": \"skip\"}\n")
                           .arg(i)
                           .toUtf8());
        }
        ties.close();
        QVERIFY(runPreflab({"import", "--db", db, ties.fileName()}).exitCode == 0);
        const QStringList train{"run", "--model", QString::fromStdString(model), "--db", db, "--data-dir",
                                dir.path() + "/data", "--algorithm", "dpo", "--pairs", "db", "--batch-size", "4",
                                "--steps", "2", "--eval-every", "0", "--warmup-steps", "0", "--quiet"};
        const Result before = runPreflab(train);
        QVERIFY2(before.exitCode != 0 && before.output.contains(QStringLiteral("holds no labeled preferences")),
                 qPrintable(before.output));
        // A second annotator, in another process, prefers one response of
        // each of the first four pairs; the reviewer's rule (adjudicated, else
        // majority) now finds them.
        const Result labelled = runPreflab({"annotate", "--db", db, "--annotator", "second", "--overlap", "2"},
                                           QProcessEnvironment::systemEnvironment(), "a\na\nb\na\nq\n");
        QVERIFY2(labelled.exitCode == 0 && labelled.output.contains(QStringLiteral("4 labels stored")),
                 qPrintable(labelled.output));
        const Result after = runPreflab(train);
        QVERIFY2(after.exitCode == 0, qPrintable(after.output));
        auto d = Database::open(url);
        QCOMPARE(count(*d, "SELECT count(*) FROM metrics WHERE name = 'loss'"), int64_t(2));
    }
};

PREFLAB_TEST_MAIN(TestTeamDatabase)
#include "tst_team_database.moc"
