// `preflab lesson` end to end, the real command: the list (plain and JSON),
// the errors a teacher's lesson folder can give, and one shipped lesson run
// for real on its default seed, whose every check must hold (the others are
// replayed from recorded runs in tst_lessons, and their real runs on seeds
// 1-3 are in the note of issue 29: each takes minutes).
#include "support/test_main.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>

namespace {

struct Result {
    int exitCode = -1;
    QString out, err;
};

Result runPreflab(const QStringList& args) {
    QProcess p;
    p.start(QStringLiteral(PREFLAB_CLI), args);
    Result r;
    if (!p.waitForFinished(-1)) return r;  // bounded by the test's own timeout
    r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = QString::fromUtf8(p.readAllStandardOutput());
    r.err = QString::fromUtf8(p.readAllStandardError());
    return r;
}

QJsonObject lastJsonLine(const QString& out) {
    const QStringList lines = out.trimmed().split('\n');
    return QJsonDocument::fromJson(lines.last().toUtf8()).object();
}

}  // namespace

class TestLessonRun : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void listsTheLessons() {
        const Result r = runPreflab({"lesson", "--list", "--json"});
        QCOMPARE(r.exitCode, 0);
        const QJsonArray lessons = lastJsonLine(r.out).value("lessons").toArray();
        QStringList ids;
        int automatic = 0;
        for (const QJsonValue& v : lessons) {
            ids << v.toObject().value("id").toString();
            automatic += v.toObject().value("automatic").toBool() ? 1 : 0;
        }
        for (const char* id : {"dpo-aligns", "over-optimisation", "reward-hacking", "label-noise", "falling-rewards",
                               "on-policy", "you-are-the-judge"}) {
            QVERIFY2(ids.contains(id), id);
        }
        QVERIFY(automatic >= 6);
        const Result plain = runPreflab({"lesson", "--list"});
        QCOMPARE(plain.exitCode, 0);
        QVERIFY(plain.out.contains("you-are-the-judge") && plain.out.contains("needs a person"));
    }

    void refusesWhatItCannotRun_data() {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("file");  // a lesson file written to the folder first ("" none)
        QTest::addColumn<int>("exitCode");
        QTest::addColumn<QString>("error");
        QTest::newRow("unknown lesson") << QStringList{"lesson", "nope", "--headless"} << "" << 2 << "no lesson 'nope'";
        QTest::newRow("needs a person") << QStringList{"lesson", "you-are-the-judge", "--headless"} << "" << 2
                                        << "needs a person";
        QTest::newRow("bad seed") << QStringList{"lesson", "dpo-aligns", "--seed", "x"} << "" << 2
                                  << "--seed takes a whole number";
        QTest::newRow("bad file in a teacher's folder")
            << QStringList{"lesson", "--list"} << R"({"id": "mine", "title": "t", "summary": "s", "runs": []})" << 1
            << "mine.json: runs: a lesson starts at least one run";
    }
    void refusesWhatItCannotRun() {
        QFETCH(QStringList, args);
        QFETCH(QString, file);
        QFETCH(int, exitCode);
        QFETCH(QString, error);
        QTemporaryDir dir;
        if (!file.isEmpty()) {
            QFile f(dir.filePath("mine.json"));
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(file.toUtf8());
            f.close();
            args << "--lessons" << dir.path();
        }
        const Result r = runPreflab(args);
        QCOMPARE(r.exitCode, exitCode);
        QVERIFY2(r.err.contains(error), qPrintable(r.err));
    }

    // over-optimisation: one of the two lessons issue 29 names, and the
    // cheapest automatic one (two 200-step runs: 92 s on a quiet 2-core
    // machine, about 3 minutes beside other work).
    void cheapestLessonHoldsOnItsDefaultSeed() {
        QTemporaryDir dir;
        const Result r =
            runPreflab({"lesson", "over-optimisation", "--headless", "--json", "--db", dir.filePath("l.db")});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        const QJsonObject o = lastJsonLine(r.out);
        QCOMPARE(o.value("lesson").toString(), QString("over-optimisation"));
        QCOMPARE(o.value("seed").toInt(), 1);
        const QJsonArray checks = o.value("checks").toArray();
        QCOMPARE(checks.size(), 7);
        for (const QJsonValue& v : checks) {
            const QJsonObject c = v.toObject();
            QVERIFY2(c.value("held").toBool(),
                     qPrintable(c.value("claim").toString() + " -- " + c.value("evidence").toString()));
            QVERIFY(!c.value("evidence").toString().isEmpty());
        }
        // Narration at each cue, with the plots' numbers.
        QVERIFY2(r.out.contains("plot "), qPrintable(r.out.left(2000)));
        QVERIFY(!r.out.contains("Not this time"));
    }
};

PREFLAB_TEST_MAIN(TestLessonRun)
#include "tst_lesson_run.moc"
