// The data commands as a user runs them (`preflab import`, `export`,
// `agreement`, `adjudicate`, `annotate`): where exports write, what --db
// accepts, what an import says and leaves behind, and that nothing a file
// holds can drive the terminal.
#include "storage/database.h"
#include "storage/preference_store.h"
#include "support/test_main.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QTemporaryDir>

#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace preflab;

namespace {

struct Result {
    int exitCode = -1;
    QByteArray out, err;
};

// `preflab ARGS` with `input` on stdin. `unprivileged`: as user and group
// nobody when the tests run as root, whom file permissions do not stop.
Result runPreflab(const QStringList& args, const QByteArray& input = {}, bool unprivileged = false) {
    QProcess p;
    p.setChildProcessModifier([unprivileged] {
        if (unprivileged && geteuid() == 0) {
            if (setgroups(0, nullptr) != 0 || setgid(65534) != 0 || setuid(65534) != 0) _exit(126);
        }
    });
    p.start(QStringLiteral(PREFLAB_CLI), args);
    p.write(input);
    p.closeWriteChannel();
    Result r;
    if (!p.waitForFinished(120000)) {
        p.kill();
        p.waitForFinished();
    }
    r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = p.readAllStandardOutput();
    r.err = p.readAllStandardError();
    return r;
}

QString write(const QString& path, const QByteArray& content) {
    QFile f(path);
    f.open(QIODevice::WriteOnly);
    f.write(content);
    return path;
}

QByteArray readAll(const QString& path) {
    QFile f(path);
    f.open(QIODevice::ReadOnly);
    return f.readAll();
}

QByteArray labelRows(int pairs, const QString& annotator, const QByteArray& prompt = "prompt") {
    QByteArray out;
    for (int i = 0; i < pairs; ++i) {
        out += QStringLiteral("{\"prompt\":\"%1 %2\",\"response_a\":\"x %2\",\"response_b\":\"y %2\",\"annotator\":\"%3\",\"label\":\"%4\"}\n")
                   .arg(QString::fromUtf8(prompt)).arg(i).arg(annotator, QString(i % 2 ? "a" : "b"))
                   .toUtf8();
    }
    return out;
}

}  // namespace

class TestDataCommands : public QObject {
    Q_OBJECT
private Q_SLOTS:
    // Finding 2: the import says how many pairs were new, merged and unchanged.
    void importSaysWhatWasNewMergedAndUnchanged() {
        QTemporaryDir dir;
        const QString db = dir.path() + "/t.db";
        const QString ann = write(dir.path() + "/ann.jsonl", labelRows(5, "ann"));
        const QString bob = write(dir.path() + "/bob.jsonl", labelRows(5, "bob"));
        Result r = runPreflab({"import", "--db", db, ann});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        QVERIFY2(r.out.contains("5 pairs new, 0 merged, 0 unchanged"), r.out.constData());
        r = runPreflab({"import", "--db", db, bob});
        QVERIFY2(r.out.contains("0 pairs new, 5 merged, 0 unchanged; 5 labels stored"), r.out.constData());
        r = runPreflab({"import", "--db", db, bob});
        QVERIFY2(r.out.contains("0 pairs new, 0 merged, 5 unchanged; 0 labels stored (5 already held)"), r.out.constData());
        r = runPreflab({"import", "--db", db, "--rating-range", "7-1", ann});
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(r.err.contains("--rating-range takes LO-HI"), r.err.constData());
    }

    // Finding 3: an export writes where it is told. A symbolic link's target
    // (the link stays), a 0600 file keeps its mode, standard output as "-"
    // or /dev/stdout (the command's own words then go to stderr), and a
    // refused target says why and is left as it was, as is the target of
    // an export whose --run is not a number.
    void exportWritesWhereItIsTold() {
        QTemporaryDir dir;
        const QString db = dir.path() + "/t.db";
        QCOMPARE(runPreflab({"import", "--db", db, write(dir.path() + "/in.jsonl", R"({"prompt":"p","chosen":"x","rejected":"y"})" "\n")}).exitCode, 0);
        const QByteArray expected = R"({"prompt":"p","chosen":"x","rejected":"y"})" "\n";

        const QString target = write(dir.path() + "/private.jsonl", "keep me");
        QVERIFY(QFile::setPermissions(target, QFile::ReadOwner | QFile::WriteOwner));
        const QString link = dir.path() + "/link.jsonl";
        QVERIFY(QFile::link(target, link));
        Result r = runPreflab({"export", "--db", db, "--pairs", link});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        QVERIFY(QFileInfo(link).isSymLink());
        QCOMPARE(readAll(target), expected);
        QCOMPARE((QFileInfo(target).permissions() & 0x7077).toInt(), (QFile::ReadOwner | QFile::WriteOwner).toInt());

        for (const char* out : {"-", "/dev/stdout"}) {
            r = runPreflab({"export", "--db", db, "--pairs", out});
            QVERIFY2(r.exitCode == 0, r.err.constData());
            QCOMPARE(r.out, expected);
            QVERIFY2(r.err.contains("Wrote 1 pairs to"), r.err.constData());
        }

        write(target, "keep me");
        r = runPreflab({"export", "--db", db, "--run", "abc", "--pairs", target});
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(r.err.contains("--run takes a number, not 'abc'"), r.err.constData());
        QCOMPARE(readAll(target), QByteArray("keep me"));

        r = runPreflab({"export", "--db", db, "--pairs", dir.path() + "/no/such/folder/out.jsonl"});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("the folder " + (dir.path() + "/no/such/folder").toUtf8() + " does not exist"), r.err.constData());

        // A folder this user cannot write in (as nobody when the tests run
        // as root): refused, saying so; the file there keeps its content.
        const QString locked = dir.path() + "/locked";
        QVERIFY(QDir().mkpath(locked));
        const QString inLocked = write(locked + "/out.jsonl", "keep me");
        QVERIFY(QFile::setPermissions(inLocked, QFile::ReadOwner | QFile::WriteOwner | QFile::ReadGroup | QFile::WriteGroup |
                                                    QFile::ReadOther | QFile::WriteOther));
        QVERIFY(QFile::setPermissions(locked, QFile::ReadOwner | QFile::ExeOwner | QFile::ReadOther | QFile::ExeOther |
                                                  QFile::ReadGroup | QFile::ExeGroup));
        // nobody opens the database (SQLite writes its -shm file beside it).
        const QFile::Permissions all = QFile::ReadOwner | QFile::WriteOwner | QFile::ReadGroup | QFile::WriteGroup |
                                       QFile::ReadOther | QFile::WriteOther;
        QVERIFY(QFile::setPermissions(dir.path(), all | QFile::ExeOwner | QFile::ExeGroup | QFile::ExeOther));
        QVERIFY(QFile::setPermissions(db, all));
        r = runPreflab({"export", "--db", db, "--pairs", inLocked}, {}, true);
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("cannot write in the folder " + locked.toUtf8()), r.err.constData());
        QCOMPARE(readAll(inLocked), QByteArray("keep me"));
        QVERIFY(QFile::setPermissions(locked, QFile::permissions(locked) | QFile::WriteOwner));
    }

    // Finding 4: --db '' (an unset variable) and a --db in a missing folder
    // are errors; an import that fails (no input file, refused lines)
    // creates no database file.
    void dbOptionAndFailedImportsLeaveNothing() {
        QTemporaryDir dir;
        const QString good = write(dir.path() + "/good.jsonl", labelRows(2, "ann"));
        Result r = runPreflab({"import", "--db", "", good});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("the database path is empty"), r.err.constData());
        r = runPreflab({"import", "--db", dir.path() + "/missing/t.db", good});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("does not exist"), r.err.constData());
        QVERIFY(!QFileInfo::exists(dir.path() + "/missing"));
        r = runPreflab({"agreement", "--db", ""});
        QCOMPARE(r.exitCode, 1);

        const QString db = dir.path() + "/new.db";
        r = runPreflab({"import", "--db", db, dir.path() + "/nope.jsonl"});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("nope.jsonl: no such file"), r.err.constData());
        QVERIFY(!QFileInfo::exists(db));
        r = runPreflab({"import", "--db", db, write(dir.path() + "/bad.jsonl", "not json\n")});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("bad.jsonl:1: not valid JSON"), r.err.constData());
        QCOMPARE(QDir(dir.path()).entryList({"new.db*"}, QDir::Files), QStringList());
        r = runPreflab({"import", "--db", db, write(dir.path() + "/bad.csv", "prompt,response\n")});
        QCOMPARE(r.exitCode, 1);
        QCOMPARE(QDir(dir.path()).entryList({"new.db*"}, QDir::Files), QStringList());
        // A database that existed before a failed import stays.
        QCOMPARE(runPreflab({"import", "--db", db, good}).exitCode, 0);
        QCOMPARE(runPreflab({"import", "--db", db, dir.path() + "/bad.jsonl"}).exitCode, 1);
        QVERIFY(QFileInfo::exists(db));
    }

    // Finding 7: names and prompts with control characters never reach the
    // terminal raw: a prompt that would clear the screen, and a name stored
    // before names were checked (written here straight into the table), are
    // printed escaped by agreement, adjudicate and annotate; a bad
    // --annotator is refused.
    void terminalOutputEscapesControlCharacters() {
        QTemporaryDir dir;
        const QString db = dir.path() + "/t.db";
        QByteArray rows = labelRows(2, "ann", "\\u001b[2J\\u001b]0;owned\\u0007");
        rows += labelRows(2, "bob", "\\u001b[2J\\u001b]0;owned\\u0007").replace("\"label\":\"a\"", "\"label\":\"x\"")
                    .replace("\"label\":\"b\"", "\"label\":\"a\"").replace("\"label\":\"x\"", "\"label\":\"b\"");
        Result r = runPreflab({"import", "--db", db, write(dir.path() + "/esc.jsonl", rows)});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        {
            auto d = Database::open(db.toStdString());
            d->connection().exec("UPDATE labels SET annotator = 'bob' || char(27) || '[31m' WHERE annotator = 'bob'");
        }
        for (const QStringList& args : {QStringList{"agreement", "--db", db}, QStringList{"adjudicate", "--db", db},
                                        QStringList{"annotate", "--db", db, "--progress"},
                                        QStringList{"annotate", "--db", db, "--annotator", "cy", "--overlap", "3"}}) {
            r = runPreflab(args, "q\n");
            QVERIFY2(r.exitCode == 0, (args.join(' ') + ": " + r.err).toUtf8().constData());
            QVERIFY2(!r.out.contains('\x1b') && !r.out.contains('\x07'), (args.join(' ') + ": " + r.out).toUtf8().constData());
            if (!args.contains("--progress")) {  // progress names only annotators who labelled here
                QVERIFY2(r.out.contains("\\x1B"), (args.join(' ') + ": " + r.out).toUtf8().constData());
            }
        }
        r = runPreflab({"annotate", "--db", db, "--annotator", "cy\x1b[2J"}, "q\n");
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(r.err.contains("control character"), r.err.constData());
        r = runPreflab({"adjudicate", "--db", db, "--pair", "1", "--label", "a", "--reviewer", "   "});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("reviewer name is empty"), r.err.constData());
    }
};

PREFLAB_TEST_MAIN(TestDataCommands)
#include "tst_data_commands.moc"
