// A child process streams labels through the StorageWriter and prints each
// acknowledged count; the parent kills it with SIGKILL mid-stream and checks
// that the database opens intact with at least every acknowledged label.
#include "storage/database.h"
#include "storage/preference_store.h"
#include "storage/storage_writer.h"
#include "support/test_main.h"

#include <QProcess>
#include <QTemporaryDir>

#include <cstdio>
#include <cstring>

using namespace preflab;

namespace {

int childMain(const std::string& path) {
    {
        auto db = Database::open(path);
        PairRow p;
        p.prompt = "prompt";
        p.a.text = "a";
        p.b.text = "b";
        p.runIndex = 0;
        PreferenceStore(*db).insertPair(p);
    }
    StorageWriter writer(path, {}, [](uint64_t acked) {
        std::printf("ack %llu\n", static_cast<unsigned long long>(acked));
        std::fflush(stdout);
    });
    for (int i = 0; i < 1'000'000; ++i) {
        writer.enqueue(LabelRow{int64_t(1), std::nullopt, std::nullopt, i % 2 ? "a" : "b", "human", "child", i});
        if (i % 50 == 49) writer.flush();  // a steady stream of small commits
    }
    return 0;
}

}  // namespace

class TestWriterCrash : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void killedChildKeepsAcknowledgedLabels() {
        QTemporaryDir dir;
        const QString path = dir.path() + "/crash.db";
        QProcess child;
        child.setProgram(QCoreApplication::applicationFilePath());
        child.setArguments({"--child-writer", path});
        child.start();
        QVERIFY(child.waitForStarted());
        uint64_t lastAck = 0;
        QByteArray buffer;
        // Read acknowledgements until a good number have been committed.
        while (lastAck < 500) {
            QVERIFY2(child.waitForReadyRead(30000), "child produced no acknowledgement");
            buffer += child.readAllStandardOutput();
            int nl;
            while ((nl = buffer.indexOf('\n')) >= 0) {
                const QByteArray line = buffer.left(nl);
                buffer.remove(0, nl + 1);
                if (line.startsWith("ack ")) lastAck = line.mid(4).toULongLong();
            }
        }
        child.kill();  // SIGKILL, mid-stream
        QVERIFY(child.waitForFinished(10000));
        // Whatever arrived after our last read was acknowledged too; count only what we saw.
        auto db = Database::open(path.toStdString());  // passes the integrity check
        const int64_t stored = PreferenceStore(*db).countLabels("human");
        QVERIFY2(stored >= static_cast<int64_t>(lastAck),
                 qPrintable(QString("stored %1 < acknowledged %2").arg(stored).arg(lastAck)));
    }
};

int main(int argc, char** argv) {
    if (argc == 3 && std::strcmp(argv[1], "--child-writer") == 0) return childMain(argv[2]);
    preflab::applyLibraryEnvironment(argc, argv);
    QCoreApplication app(argc, argv);
    TestWriterCrash tc;
    return QTest::qExec(&tc, argc, argv);
}
#include "tst_writer_crash.moc"
