// Faults a desktop user meets, with the real `preflab` command in a child
// process: a checkpoint that cannot be written (a file size limit, as on a
// full disk: RLIMIT_FSIZE with SIGXFSZ ignored, so it runs without root) is
// an error naming the checkpoint, not an abort; no partial file is left; the
// database stays intact with every step's rows; the previous checkpoint stays
// usable and a later resume goes on from it.
#include "core/task/starter_model.h"
#include "storage/database.h"
#include "support/session_fixture.h"
#include "support/test_main.h"

#include <QCryptographicHash>
#include <QDirIterator>
#include <QElapsedTimer>
#include <QProcess>

#include <csignal>
#include <random>
#include <grp.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

using namespace preflab;
using namespace preflab::test;

namespace {

struct Result {
    int exitCode = -1;
    bool crashed = false;
    QString output;
};

// Starts `preflab ARGS` with every file it writes capped at fileSizeLimit
// bytes (0: no limit). `unprivileged`: as user and group nobody when the
// tests run as root, whom file permissions do not stop.
void startPreflab(QProcess& p, const QStringList& args, qint64 fileSizeLimit, bool unprivileged = false) {
    p.setProcessChannelMode(QProcess::MergedChannels);
    p.setChildProcessModifier([fileSizeLimit, unprivileged] {
        if (fileSizeLimit > 0) {
            const rlimit limit{static_cast<rlim_t>(fileSizeLimit), static_cast<rlim_t>(fileSizeLimit)};
            setrlimit(RLIMIT_FSIZE, &limit);
            std::signal(SIGXFSZ, SIG_IGN);  // a write past the limit fails with EFBIG instead of killing
        }
        if (unprivileged && geteuid() == 0) {
            const gid_t nogroup = 65534;
            if (setgroups(0, nullptr) != 0 || setgid(nogroup) != 0 || setuid(65534) != 0) _exit(126);
        }
    });
    p.start(QStringLiteral(PREFLAB_CLI), args);
}

Result finish(QProcess& p) {
    Result r;
    if (!p.waitForFinished(180000)) {
        p.kill();
        p.waitForFinished();
    }
    r.crashed = p.exitStatus() != QProcess::NormalExit;
    r.exitCode = p.exitCode();
    r.output = QString::fromUtf8(p.readAll());
    return r;
}

// `preflab ARGS` to its end.
Result runCommand(const QStringList& args, qint64 fileSizeLimit = 0, bool unprivileged = false) {
    QProcess p;
    startPreflab(p, args, fileSizeLimit, unprivileged);
    return finish(p);
}

void setMode(const QString& path, QFile::Permissions mode) {
    QVERIFY2(QFile::setPermissions(path, mode), qPrintable(path));
}

constexpr QFile::Permissions kReadOnly = QFile::ReadOwner | QFile::ReadGroup | QFile::ReadOther;
constexpr QFile::Permissions kReadWrite = kReadOnly | QFile::WriteOwner | QFile::WriteGroup | QFile::WriteOther;
constexpr QFile::Permissions kFolderLocked = kReadOnly | QFile::ExeOwner | QFile::ExeGroup | QFile::ExeOther;  // 0555
constexpr QFile::Permissions kFolderReadOnly = kFolderLocked | QFile::WriteOwner;  // 0755: only its owner writes
constexpr QFile::Permissions kFolderOpen = kFolderReadOnly | QFile::WriteGroup | QFile::WriteOther;  // 0777

QStringList runArgs(const QTemporaryDir& dir, const std::string& model) {
    return {"run", "--model", QString::fromStdString(model), "--db", dir.path() + "/faults.db", "--data-dir",
            dir.path() + "/data", "--batch-size", "2", "--generation-batch", "2", "--max-new-tokens", "8",
            "--eval-every", "0", "--prompts", "16", "--checkpoint-every", "1", "--warmup-steps", "0", "--quiet"};
}

// `preflab run` on `model` with a database and data folder in `dir`.
Result runPreflab(const QTemporaryDir& dir, const std::string& model, QStringList extra, qint64 fileSizeLimit = 0) {
    return runCommand(runArgs(dir, model) + extra, fileSizeLimit);
}

std::string dbPath(const QTemporaryDir& dir) {
    return dir.path().toStdString() + "/faults.db";
}

// A model whose checkpoint (weights and AdamW state, about 5 MB) is far
// larger than the database a short run writes, so a file size limit between
// the two stops only the checkpoint. Random weights: nothing here needs a
// trained model.
std::string writeMidsizeModel(const QString& dir) {
    TransformerConfig c = tinyConfig();
    c.dModel = 128;
    c.nHeads = 4;
    c.dFF = 512;
    torch::manual_seed(11);
    Transformer m(c);
    ModelFileInfo info;
    info.config = c;
    const std::string path = (dir + "/midsize.pt").toStdString();
    saveModelFile(path, m, info);
    return path;
}

qint64 databaseBytes(const QTemporaryDir& dir) {
    return QFileInfo(dir.path() + "/faults.db").size() + QFileInfo(dir.path() + "/faults.db-wal").size();
}

QStringList filesUnder(const QString& folder) {
    QStringList out;
    QDirIterator it(folder, QDir::Files | QDir::Hidden, QDirIterator::Subdirectories);
    while (it.hasNext()) out << it.next();
    out.sort();
    return out;
}

QByteArray sha256(const QString& file) {
    QFile f(file);
    if (!f.open(QIODevice::ReadOnly)) return {};
    return QCryptographicHash::hash(f.readAll(), QCryptographicHash::Sha256);
}

}  // namespace

class TestFaults : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void checkpointOnAFullDiskIsAnErrorNotAnAbort() {
        QTemporaryDir dir;
        const std::string model = writeMidsizeModel(dir.path());
        // Two good steps, each checkpointed.
        const Result first = runPreflab(dir, model, {"--steps", "2"});
        QVERIFY2(!first.crashed && first.exitCode == 0, qPrintable(first.output));
        const QStringList before = filesUnder(dir.path() + "/data/runs");
        QCOMPARE(before.size(), 2);  // step-00000001.pt, step-00000002.pt
        const QString step2 = before.last();
        QVERIFY(step2.endsWith("step-00000002.pt"));
        const QByteArray step2Hash = sha256(step2);
        const qint64 database = databaseBytes(dir);
        // A limit below the checkpoint's size and well above the database's
        // (database and WAL, about 0.9 MB since schema v11; two more steps
        // add a few kB of rows), so only the checkpoint can hit it.
        const qint64 limit = QFileInfo(step2).size() / 2;
        QVERIFY2(limit > 2 * database, qPrintable(QString("checkpoint %1, database %2").arg(2 * limit).arg(database)));

        const Result full = runPreflab(dir, model, {"--resume", "1", "--steps", "4"}, limit);
        QVERIFY2(!full.crashed, qPrintable(full.output));
        QVERIFY2(full.exitCode != 0, qPrintable(full.output));
        QVERIFY2(full.output.contains("the checkpoint of step 3 was not written") && full.output.contains("step-00000003.pt"),
                 qPrintable(full.output));
        QVERIFY2(!full.output.contains("terminate called"), qPrintable(full.output));
        // No partial or temporary file; the step-2 checkpoint is untouched.
        QCOMPARE(filesUnder(dir.path() + "/data/runs"), before);
        QCOMPARE(sha256(step2), step2Hash);
        // The database is intact, says why the run stopped, and kept step 3's rows.
        QCOMPARE(queryText(dir.path().toStdString() + "/faults.db", "PRAGMA integrity_check"), std::string("ok"));
        QVERIFY(queryText(dir.path().toStdString() + "/faults.db", "SELECT message FROM runs WHERE id = 1").find("not written") !=
                std::string::npos);
        QCOMPARE(queryInt64(dir.path().toStdString() + "/faults.db", "SELECT max(step) FROM checkpoints"), int64_t(2));
        QCOMPARE(queryInt64(dir.path().toStdString() + "/faults.db", "SELECT count(*) FROM metrics WHERE name = 'loss' AND step = 3"),
                 int64_t(1));

        // With room again, the run resumes from step 2 and finishes.
        const Result resumed = runPreflab(dir, model, {"--resume", "1", "--steps", "4"});
        QVERIFY2(!resumed.crashed && resumed.exitCode == 0, qPrintable(resumed.output));
        QCOMPARE(queryInt64(dir.path().toStdString() + "/faults.db", "SELECT max(step) FROM checkpoints"), int64_t(4));
        QCOMPARE(filesUnder(dir.path() + "/data/runs").size(), 4);
    }

    // The database cannot grow (its writer fails): the run pauses and the
    // command ends non-zero saying so; what was stored before stays, intact.
    void databaseOnAFullDiskStopsTheRunAndKeepsWhatWasStored() {
        QTemporaryDir dir;
        const std::string model = writeTinyModel(dir.path());
        const Result first = runPreflab(dir, model, {"--steps", "2"});
        QVERIFY2(!first.crashed && first.exitCode == 0, qPrintable(first.output));
        const int64_t pairs = queryInt64(dbPath(dir), "SELECT count(*) FROM pairs");
        const int64_t losses = queryInt64(dbPath(dir), "SELECT count(*) FROM metrics WHERE name = 'loss'");
        QVERIFY(pairs > 0 && losses == 2);
        // No room for a second run's rows (the database file as it is, plus a little).
        const qint64 limit = QFileInfo(QString::fromStdString(dbPath(dir))).size() + 4096;
        const Result full = runPreflab(dir, model, {"--steps", "50"}, limit);
        QVERIFY2(!full.crashed, qPrintable(full.output));
        QVERIFY2(full.exitCode != 0, qPrintable(full.output));
        QVERIFY2(full.output.contains("preflab:"), qPrintable(full.output));
        QCOMPARE(queryText(dbPath(dir), "PRAGMA integrity_check"), std::string("ok"));
        QVERIFY(queryInt64(dbPath(dir), "SELECT count(*) FROM pairs WHERE run_id = 1") == pairs);
        QCOMPARE(queryInt64(dbPath(dir), "SELECT count(*) FROM metrics WHERE run_id = 1 AND name = 'loss'"), losses);
    }

    // An export that cannot be written fails with the file's name and leaves
    // neither a partial file nor a changed earlier export.
    void exportOnAFullDiskLeavesNoPartialFile() {
        QTemporaryDir dir;
        const std::string model = writeTinyModel(dir.path());
        // Enough metric rows that the CSV outgrows a limit the database's own
        // files (its 32 KB shared-memory index) stay under.
        QVERIFY(runPreflab(dir, model, {"--steps", "60", "--eval-every", "2", "--eval-samples", "8"}).exitCode == 0);
        const QString csv = dir.path() + "/metrics.csv";
        const QStringList exportArgs{"export", "--db", dir.path() + "/faults.db", "--run", "1", "--metrics", csv};
        const Result good = runCommand(exportArgs);
        QVERIFY2(good.exitCode == 0, qPrintable(good.output));
        const QByteArray before = sha256(csv);
        const qint64 size = QFileInfo(csv).size();
        const qint64 limit = 40000;
        QVERIFY2(size > limit + 4096, qPrintable(QString::number(size)));
        const Result full = runCommand(exportArgs, limit);
        QVERIFY2(!full.crashed && full.exitCode != 0, qPrintable(full.output));
        QVERIFY2(full.output.contains(csv), qPrintable(full.output));
        QCOMPARE(sha256(csv), before);
        QCOMPARE(QDir(dir.path()).entryList({"metrics.csv*"}, QDir::Files), QStringList{"metrics.csv"});
    }

    // A checkpoint cut short (a copy interrupted, a disk error) is refused by
    // --resume with an error naming the file; nothing in the database changes.
    void truncatedCheckpointIsRefusedByName() {
        QTemporaryDir dir;
        const std::string model = writeTinyModel(dir.path());
        QVERIFY(runPreflab(dir, model, {"--steps", "2"}).exitCode == 0);
        const QString last = QString::fromStdString(queryText(dbPath(dir), "SELECT path FROM checkpoints ORDER BY step DESC LIMIT 1"));
        QVERIFY(QFile::resize(last, QFileInfo(last).size() / 2));
        const int64_t metrics = queryInt64(dbPath(dir), "SELECT count(*) FROM metrics");
        const Result resumed = runPreflab(dir, model, {"--resume", "1", "--steps", "4"});
        QVERIFY2(!resumed.crashed && resumed.exitCode != 0, qPrintable(resumed.output));
        QVERIFY2(resumed.output.contains(last) && resumed.output.contains("truncated"), qPrintable(resumed.output));
        QCOMPARE(queryText(dbPath(dir), "PRAGMA integrity_check"), std::string("ok"));
        QCOMPARE(queryInt64(dbPath(dir), "SELECT count(*) FROM metrics"), metrics);
    }

    // A database this user may not write (the file, or the folder where
    // SQLite keeps its -wal and -shm files): refused at once with the file's
    // name and what to do; nothing in it changes.
    void readOnlyDatabaseIsRefusedByName_data() {
        QTest::addColumn<bool>("folderOnly");
        QTest::newRow("file read-only") << false;
        QTest::newRow("folder read-only") << true;
    }

    void readOnlyDatabaseIsRefusedByName() {
        QFETCH(bool, folderOnly);
        QTemporaryDir dir;
        const std::string model = writeTinyModel(dir.path());
        QVERIFY(runPreflab(dir, model, {"--steps", "2"}).exitCode == 0);
        const QString db = QString::fromStdString(dbPath(dir));
        const QByteArray before = sha256(db);
        const int64_t metrics = queryInt64(dbPath(dir), "SELECT count(*) FROM metrics");
        setMode(dir.path(), folderOnly ? kFolderLocked : kFolderOpen);
        setMode(db, folderOnly ? kReadWrite : kReadOnly);
        setMode(QString::fromStdString(model), kReadOnly);
        const Result r = runCommand(runArgs(dir, model) + QStringList{"--steps", "2"}, 0, true);
        setMode(dir.path(), kFolderReadOnly);
        setMode(db, kReadWrite | QFile::WriteOwner);
        QVERIFY2(!r.crashed && r.exitCode != 0, qPrintable(r.output));
        QVERIFY2(r.output.contains(db) && r.output.contains("read-only") && !r.output.contains("integrity"),
                 qPrintable(r.output));
        QCOMPARE(sha256(db), before);
        QCOMPARE(queryText(dbPath(dir), "PRAGMA integrity_check"), std::string("ok"));
        QCOMPARE(queryInt64(dbPath(dir), "SELECT count(*) FROM metrics"), metrics);
    }

    // A data folder this user may not write: the run stops before its first
    // step (checkpoints go there) and before pretraining (the starter model
    // is cached there), naming the folder; no run is recorded.
    void unwritableDataFolderFailsBeforeAnyWork_data() {
        QTest::addColumn<bool>("starter");
        QTest::newRow("checkpoints") << false;
        QTest::newRow("starter model") << true;
    }

    void unwritableDataFolderFailsBeforeAnyWork() {
        QFETCH(bool, starter);
        QTemporaryDir dir;
        const std::string model = writeTinyModel(dir.path());
        QVERIFY(QDir().mkpath(dir.path() + "/data") && QDir().mkpath(dir.path() + "/db"));
        setMode(dir.path(), kFolderReadOnly);
        setMode(dir.path() + "/data", kFolderLocked);
        setMode(dir.path() + "/db", kFolderOpen);
        setMode(QString::fromStdString(model), kReadOnly);
        const QString db = dir.path() + "/db/faults.db";
        QStringList args = runArgs(dir, starter ? "starter" : model) + QStringList{"--steps", "2"};
        args[args.indexOf("--db") + 1] = db;
        const Result r = runCommand(args, 0, true);
        setMode(dir.path() + "/db", kFolderReadOnly);
        setMode(dir.path() + "/data", kFolderReadOnly);
        QVERIFY2(!r.crashed && r.exitCode != 0, qPrintable(r.output));
        QVERIFY2(r.output.contains(dir.path() + "/data") && r.output.contains("not writable") &&
                     r.output.contains(starter ? "starter model" : "checkpoints"),
                 qPrintable(r.output));
        QVERIFY2(!r.output.contains("Starter model ready") && !r.output.contains("Summary of run"), qPrintable(r.output));
        if (QFile::exists(db)) {
            QCOMPARE(queryText(db.toStdString(), "PRAGMA integrity_check"), std::string("ok"));
            QCOMPARE(queryInt64(db.toStdString(), "SELECT count(*) FROM runs"), int64_t(0));
        }
        QCOMPARE(filesUnder(dir.path() + "/data"), QStringList{});
    }

    // Import stores pairs whole and says how many a model will see cut: a
    // prompt or a response far past the context, and one pair that fits.
    void importSaysHowManyPairsTrainingWillCut() {
        QTemporaryDir dir;
        const QString file = dir.path() + "/long.jsonl";
        QFile f(file);
        QVERIFY(f.open(QIODevice::WriteOnly));
        const int context = static_cast<int>(PretrainSpec{}.model.maxSeqLen);
        const QByteArray longText(3 * context, 'x');
        f.write("{\"prompt\": \"Say hi\", \"chosen\": \"hi\", \"rejected\": \"no\"}\n");
        f.write("{\"prompt\": \"" + longText + "\", \"chosen\": \"hi\", \"rejected\": \"no\"}\n");
        f.write("{\"prompt\": \"Say hi\", \"chosen\": \"" + longText + "\", \"rejected\": \"no\"}\n");
        f.close();
        const Result r = runCommand({"import", file, "--db", dir.path() + "/import.db"});
        QVERIFY2(!r.crashed && r.exitCode == 0, qPrintable(r.output));
        QVERIFY2(r.output.contains(QString("2 of them are longer than the %1-token context of the built-in starter model").arg(context)),
                 qPrintable(r.output));
        // Stored whole: the cut happens in training, by the stated rule.
        QCOMPARE(queryInt64((dir.path() + "/import.db").toStdString(), "SELECT max(length(text)) FROM prompts"),
                 int64_t(3 * context));
    }

    // Only the newest --keep-checkpoints stay on disk, rows and files alike,
    // across a resume too.
    void onlyTheNewestCheckpointsAreKept() {
        QTemporaryDir dir;
        const std::string model = writeTinyModel(dir.path());
        QVERIFY(runPreflab(dir, model, {"--steps", "6", "--keep-checkpoints", "3"}).exitCode == 0);
        auto steps = [&] {
            QStringList out;
            auto d = Database::open(dbPath(dir));
            SqlStatement s(d->connection(), "SELECT step, path FROM checkpoints ORDER BY step");
            while (s.step()) {
                out << QString::number(s.int64(0));
                if (!QFile::exists(QString::fromStdString(s.text(1)))) out << "missing";
            }
            return out;
        };
        QCOMPARE(steps(), (QStringList{"4", "5", "6"}));
        QCOMPARE(filesUnder(dir.path() + "/data/runs").size(), 3);
        QVERIFY(runPreflab(dir, model, {"--resume", "1", "--steps", "8", "--keep-checkpoints", "3"}).exitCode == 0);
        QCOMPARE(steps(), (QStringList{"6", "7", "8"}));
        QCOMPARE(filesUnder(dir.path() + "/data/runs").size(), 3);
    }

    // Two processes training into one database at once: both finish, each
    // run keeps its own rows, the file stays intact.
    void twoProcessesOnOneDatabase() {
        QTemporaryDir dir;
        const std::string model = writeTinyModel(dir.path());
        QProcess a, b;
        startPreflab(a, runArgs(dir, model) + QStringList{"--steps", "6", "--seed", "1"}, 0);
        startPreflab(b, runArgs(dir, model) + QStringList{"--steps", "6", "--seed", "2"}, 0);
        const Result ra = finish(a), rb = finish(b);
        QVERIFY2(!ra.crashed && ra.exitCode == 0, qPrintable(ra.output));
        QVERIFY2(!rb.crashed && rb.exitCode == 0, qPrintable(rb.output));
        QCOMPARE(queryText(dbPath(dir), "PRAGMA integrity_check"), std::string("ok"));
        QCOMPARE(queryInt64(dbPath(dir), "SELECT count(*) FROM runs WHERE status = 'finished'"), int64_t(2));
        for (int run = 1; run <= 2; ++run) {
            const std::string where = " WHERE run_id = " + std::to_string(run);
            QCOMPARE(queryInt64(dbPath(dir), "SELECT count(*) FROM metrics" + where + " AND name = 'loss'"), int64_t(6));
            QCOMPARE(queryInt64(dbPath(dir), "SELECT max(step) FROM checkpoints" + where), int64_t(6));
        }
    }

    // kill -9 at seeded random moments of a run (generation, database writes,
    // checkpoint writes all happen within the first seconds): afterwards the
    // database is intact, every checkpoint row names a complete, loadable
    // checkpoint, and --resume goes on from the last one to the end. (The
    // random-weight model and the self judge, which always prefers one of two
    // different samples, keep a resumed run from halting on ties: a reason
    // that is not the fault.)
    void killAtRandomMomentsLosesNothing() {
        QTemporaryDir dir;
        const std::string model = writeMidsizeModel(dir.path());
        const QStringList args = QStringList{"--steps", "30", "--checkpoint-every", "3", "--judge", "self"};
        // The kill moments spread over a whole run on this machine, timed once.
        QElapsedTimer clock;
        clock.start();
        {
            QTemporaryDir t;
            QVERIFY(runCommand(runArgs(t, model) + args).exitCode == 0);
        }
        const int runMs = static_cast<int>(clock.elapsed());
        std::mt19937 rng(20261127);
        std::uniform_int_distribution<int> delayMs(runMs / 20, runMs * 19 / 20);
        int killed = 0, finishedFirst = 0, leftovers = 0;
        for (int trial = 0; trial < 20; ++trial) {
            QTemporaryDir t;
            int delay = delayMs(rng);
            QProcess p;
            // On a busy machine a run can finish before its kill: the trial is
            // then repeated, in a fresh folder, with half the delay.
            for (bool done = false; !done;) {
                t.remove();
                QVERIFY(QDir().mkpath(t.path()));
                startPreflab(p, runArgs(t, model) + args, 0);
                QVERIFY(p.waitForStarted(10000));
                if (p.waitForFinished(delay)) {
                    ++finishedFirst;
                    delay /= 2;
                    QVERIFY2(delay > 10, "the run finishes before any kill");
                    continue;
                }
                ::kill(static_cast<pid_t>(p.processId()), SIGKILL);
                QVERIFY(p.waitForFinished(10000));
                ++killed;
                done = true;
            }
            const std::string db = dbPath(t);
            // A checkpoint being written when the kill came leaves its
            // temporary file (QSaveFile's step-N.pt.XXXXXX); no lookup reads it.
            for (const QString& f : filesUnder(t.path() + "/data")) leftovers += f.endsWith(".pt") ? 0 : 1;
            if (!QFile::exists(QString::fromStdString(db))) continue;  // killed before the database existed
            QCOMPARE(queryText(db, "PRAGMA integrity_check"), std::string("ok"));
            // The run trained only on stored labels: no pair marked trained lacks one.
            QCOMPARE(queryInt64(db, "SELECT count(*) FROM pairs WHERE trained_step IS NOT NULL AND NOT EXISTS "
                                    "(SELECT 1 FROM labels WHERE labels.pair_id = pairs.id)"),
                     int64_t(0));
            // No checkpoint row names a file that is gone (old ones are pruned rows first).
            {
                auto d = Database::open(db);
                SqlStatement paths(d->connection(), "SELECT path FROM checkpoints");
                while (paths.step()) QVERIFY2(QFile::exists(QString::fromStdString(paths.text(0))), paths.text(0).c_str());
            }
            // Each checkpoint row's file is complete: it loads.
            const int64_t rows = queryInt64(db, "SELECT count(*) FROM checkpoints");
            if (rows > 0) {
                const std::string last = queryText(db, "SELECT path FROM checkpoints ORDER BY step DESC LIMIT 1");
                try {
                    (void)readModelInfo(last);
                } catch (const std::exception& e) {
                    QFAIL(qPrintable(QString("trial %1 (kill after %2 ms): %3").arg(trial).arg(delay).arg(e.what())));
                }
            }
            if (queryInt64(db, "SELECT count(*) FROM runs") < 1) continue;  // killed before the run's row
            const int64_t from = rows > 0 ? queryInt64(db, "SELECT max(step) FROM checkpoints") : 0;
            const Result resumed = runCommand(runArgs(t, model) + args + QStringList{"--resume", "1"});
            QVERIFY2(!resumed.crashed && resumed.exitCode == 0,
                     qPrintable(QString("trial %1: %2").arg(trial).arg(resumed.output)));
            QCOMPARE(queryInt64(db, "SELECT max(step) FROM checkpoints"), int64_t(30));
            QCOMPARE(queryText(db, "SELECT status FROM runs WHERE id = 1"), std::string("finished"));
            QVERIFY(from <= 30);
        }
        qInfo("20 trials over a %d ms run: %d killed mid-run (%d runs finished before their kill and were repeated), "
              "%d temporary files left",
              runMs, killed, finishedFirst, leftovers);
        QCOMPARE(killed, 20);
    }
};

PREFLAB_TEST_MAIN(TestFaults)
#include "tst_faults.moc"
