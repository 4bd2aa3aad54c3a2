// The data browser's table model over the database: it passes
// QAbstractItemModelTester while pages arrive from the reader thread, loads
// every row lazily (page by page, keyset paging), filters by source, label and
// trained step, and shows a relabel at once.
#include "storage/database_reader.h"
#include "storage/preference_store.h"
#include "storage/run_store.h"
#include "support/gui_test_main.h"
#include "ui/pair_table_model.h"

#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QTemporaryDir>

using namespace preflab;

namespace {

constexpr int kPairs = 700;  // not a multiple of the page size

// Pairs 0..kPairs-1 of one run; labels: every 3rd unlabeled, then alternating
// task 'a' / human 'b'; pairs 0..9 trained at step 1.
std::string makeDatabase(const QTemporaryDir& dir) {
    const std::string path = (dir.path() + "/pairs.db").toStdString();
    auto db = Database::open(path);
    RunRow run;
    run.createdMs = 1;
    run.configJson = "{}";
    run.codeVersion = "test";
    const int64_t runId = RunStore(*db).create(run);
    PreferenceStore prefs(*db);
    Transaction t(db->connection());
    for (int i = 0; i < kPairs; ++i) {
        PairRow p;
        p.runId = runId;
        p.runIndex = i;
        p.prompt = "prompt " + std::to_string(i % 7);
        p.a.text = "answer a " + std::to_string(i);
        p.b.text = "answer b " + std::to_string(i);
        p.createdMs = i;
        prefs.insertPair(p);
        if (i % 3 == 0) continue;
        const bool task = i % 2 == 0;
        prefs.insertLabel({std::nullopt, runId, i, task ? "a" : "b", task ? "task" : "human", task ? "" : "ada", i});
    }
    std::vector<int64_t> first10;
    for (int i = 0; i < 10; ++i) first10.push_back(i);
    prefs.markTrained({runId, 1, first10});
    t.commit();
    return path;
}

int expectedCount(const std::function<bool(int)>& keep) {
    int n = 0;
    for (int i = 0; i < kPairs; ++i) n += keep(i) ? 1 : 0;
    return n;
}

// Fetches until the model holds everything.
void loadAll(PairTableModel& model) {
    while (true) {
        QVERIFY(QTest::qWaitFor([&] { return !model.isLoading(); }, 10000));
        if (!model.canFetchMore({})) return;
        model.fetchMore({});
    }
}

}  // namespace

class TestPairTableModel : public QObject {
    Q_OBJECT
private Q_SLOTS:

    void loadsLazilyAndPassesTheModelTester() {
        QTemporaryDir dir;
        DatabaseReader reader(QString::fromStdString(makeDatabase(dir)));
        PairTableModel model(&reader);
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QSignalSpy counted(&model, &PairTableModel::countChanged);
        model.setFilter({});
        // The first page only (the tester itself may already have asked for the next one).
        QVERIFY(QTest::qWaitFor([&] { return model.rowCount() >= PairTableModel::kPageSize; }, 10000));
        QVERIFY(model.rowCount() < kPairs);
        QVERIFY(model.canFetchMore({}) || model.isLoading());
        QVERIFY(QTest::qWaitFor([&] { return !counted.isEmpty(); }, 10000));
        QCOMPARE(model.totalCount(), qint64(kPairs));
        loadAll(model);
        QCOMPARE(model.rowCount(), kPairs);
        QVERIFY(!model.canFetchMore({}));
        // In id order, with text and labels in place.
        QCOMPARE(model.data(model.index(0, PairTableModel::ResponseA)).toString(), QString("answer a 0"));
        QCOMPARE(model.data(model.index(kPairs - 1, PairTableModel::Index)).toLongLong(), qlonglong(kPairs - 1));
        QCOMPARE(model.data(model.index(1, PairTableModel::Source)).toString(), QString("human"));
        QCOMPARE(model.data(model.index(3, PairTableModel::Label)).toString(), QString("unlabeled"));
        QCOMPARE(model.data(model.index(4, PairTableModel::Source)).toString(), QString("task"));
    }

    void filters_data() {
        QTest::addColumn<QString>("source");
        QTest::addColumn<QString>("choice");
        QTest::addColumn<int>("trainedStep");  // -1: any
        QTest::addColumn<int>("expected");
        QTest::newRow("unlabeled") << "none" << "" << -1 << expectedCount([](int i) { return i % 3 == 0; });
        QTest::newRow("task") << "task" << "" << -1 << expectedCount([](int i) { return i % 3 != 0 && i % 2 == 0; });
        QTest::newRow("human b") << "human" << "b" << -1 << expectedCount([](int i) { return i % 3 != 0 && i % 2 == 1; });
        QTest::newRow("human a") << "human" << "a" << -1 << 0;
        QTest::newRow("trained at 1") << "" << "" << 1 << 10;
    }

    void filters() {
        QFETCH(QString, source);
        QFETCH(QString, choice);
        QFETCH(int, trainedStep);
        QFETCH(int, expected);
        QTemporaryDir dir;
        DatabaseReader reader(QString::fromStdString(makeDatabase(dir)));
        PairTableModel model(&reader);
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        PairFilter f;
        f.labelSource = source.toStdString();
        f.choice = choice.toStdString();
        if (trainedStep >= 0) f.trainedStep = trainedStep;
        model.setFilter(f);
        loadAll(model);
        QCOMPARE(model.rowCount(), expected);
        QVERIFY(QTest::qWaitFor([&] { return model.totalCount() >= 0; }, 10000));
        QCOMPARE(model.totalCount(), qint64(expected));
    }

    void aNewFilterDropsTheOldPages() {
        QTemporaryDir dir;
        DatabaseReader reader(QString::fromStdString(makeDatabase(dir)));
        PairTableModel model(&reader);
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setFilter({});
        PairFilter unlabeled;
        unlabeled.labelSource = "none";
        model.setFilter(unlabeled);  // before the first page arrived
        loadAll(model);
        QCOMPARE(model.rowCount(), expectedCount([](int i) { return i % 3 == 0; }));
        for (int r = 0; r < model.rowCount(); ++r) QCOMPARE(model.rowAt(r)->choice, std::string());
    }

    void relabelShowsAtOnce() {
        QTemporaryDir dir;
        DatabaseReader reader(QString::fromStdString(makeDatabase(dir)));
        PairTableModel model(&reader);
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setFilter({});
        QVERIFY(QTest::qWaitFor([&] { return model.rowCount() > 0; }, 10000));
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        model.updateLabel(model.rowAt(0)->pairId, "tie", "human", "bob");
        QCOMPARE(changed.size(), 1);
        QVERIFY(model.data(model.index(0, PairTableModel::Label)).toString().startsWith("tie"));
        QCOMPARE(model.data(model.index(0, PairTableModel::Annotator)).toString(), QString("bob"));
    }

    void aCorruptDatabaseIsReportedNotThrown() {
        QTemporaryDir dir;
        const QString path = dir.path() + "/broken.db";
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(QByteArray(4096, 'x'));
        f.close();
        DatabaseReader reader(path);
        PairTableModel model(&reader);
        QSignalSpy failed(&model, &PairTableModel::loadFailed);
        model.setFilter({});
        QVERIFY(failed.wait(10000));
        QVERIFY2(failed.first().at(0).toString().contains("broken.db"), qPrintable(failed.first().at(0).toString()));
        QCOMPARE(model.rowCount(), 0);
        QVERIFY(!model.canFetchMore({}));
    }
};

PREFLAB_GUI_TEST_MAIN(TestPairTableModel)
#include "tst_pair_table_model.moc"
