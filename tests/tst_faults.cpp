// Faults a desktop user meets, with the real `preflab` command in a child
// process: a checkpoint that cannot be written (a file size limit, as on a
// full disk: RLIMIT_FSIZE with SIGXFSZ ignored, so it runs without root) is
// an error naming the checkpoint, not an abort; no partial file is left; the
// database stays intact with every step's rows; the previous checkpoint stays
// usable and a later resume goes on from it.
#include "storage/database.h"
#include "support/session_fixture.h"
#include "support/test_main.h"

#include <QCryptographicHash>
#include <QDirIterator>
#include <QProcess>

#include <csignal>
#include <sys/resource.h>

using namespace preflab;
using namespace preflab::test;

namespace {

struct Result {
    int exitCode = -1;
    bool crashed = false;
    QString output;
};

// `preflab run` on the tiny model; fileSizeLimit > 0 caps every file the
// process writes at that many bytes.
Result runPreflab(const QTemporaryDir& dir, const std::string& model, QStringList extra, qint64 fileSizeLimit = 0) {
    QProcess p;
    p.setProcessChannelMode(QProcess::MergedChannels);
    if (fileSizeLimit > 0) {
        p.setChildProcessModifier([fileSizeLimit] {
            const rlimit limit{static_cast<rlim_t>(fileSizeLimit), static_cast<rlim_t>(fileSizeLimit)};
            setrlimit(RLIMIT_FSIZE, &limit);
            std::signal(SIGXFSZ, SIG_IGN);  // a write past the limit fails with EFBIG instead of killing
        });
    }
    QStringList args{"run", "--model", QString::fromStdString(model), "--db", dir.path() + "/faults.db", "--data-dir",
                     dir.path() + "/data", "--batch-size", "2", "--generation-batch", "2", "--max-new-tokens", "8",
                     "--eval-every", "0", "--prompts", "16", "--checkpoint-every", "1", "--warmup-steps", "0", "--quiet"};
    p.start(QStringLiteral(PREFLAB_CLI), args + extra);
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
        // A limit below the checkpoint's size and above the database's.
        const qint64 limit = QFileInfo(step2).size() / 2;
        QVERIFY2(limit > 4 * database, qPrintable(QString("checkpoint %1, database %2").arg(2 * limit).arg(database)));

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
};

PREFLAB_TEST_MAIN(TestFaults)
#include "tst_faults.moc"
