// The workbench window, offscreen, driving real runs of a tiny model: keys
// store the right labels (source "human", the annotator), undo takes a label
// back, rating mode stores ratings, the plots get every point the worker
// emits, and closing the window mid-run keeps every acknowledged label.
#include "app/gui/workbench.h"
#include "storage/database.h"
#include "storage/guidelines_store.h"
#include "storage/pair_files.h"
#include "storage/sql_connection.h"
#include "support/hf_fixtures.h"
#include "support/session_fixture.h"
#include "support/gui_test_main.h"
#include "ui/edit_response_dialog.h"
#include "ui/labeling_view.h"
#include "ui/main_window.h"
#include "ui/guidelines_dialog.h"
#include "ui/guidelines_panel.h"
#include "ui/message_banner.h"
#include "ui/response_panes.h"
#include "ui/metric_plots.h"
#include "ui/run_panel.h"

#include <QComboBox>
#include <QFile>
#include <QLineEdit>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTextBrowser>

#include <map>

using namespace preflab;
using namespace preflab::test;

namespace {

// A window on a fresh database with a tiny model, as the app composes it.
struct Bench {
    QTemporaryDir dir;
    SessionSetup setup;
    std::unique_ptr<Workbench> workbench;
    RunController* controller = nullptr;
    MainWindow* window = nullptr;

    explicit Bench(const std::string& judge, bool poisoned = false) {
        setup = tinySetup(dir, writeTinyModel(dir.path(), 3, poisoned));
        setup.config.judge = judge;
        setup.config.annotator = "ada";
        setup.config.model = setup.modelPath;
        workbench = std::make_unique<Workbench>(QString::fromStdString(setup.databasePath), dir.path());
        controller = workbench->controller();
        window = workbench->window();
        window->resize(1200, 800);
        window->show();
    }
    bool start() const { return workbench->startRun(setup.config); }
    LabelingView* view() const { return window->labelingView(); }
    bool waitForPair() const {
        return QTest::qWaitFor([&] { return view()->currentPairIndex() >= 0; }, 60000);
    }
    bool stopAndWait() const {
        controller->stop();
        return QTest::qWaitFor([&] { return !controller->hasActiveRun(); }, 60000);
    }
    std::string db() const { return setup.databasePath; }
    // Imports n pairs {"P<i>", chosen "good <i>", rejected "bad <i>"} (stored with chosen as a).
    bool importPairs(int n) const {
        const QString file = dir.path() + "/pairs.jsonl";
        QFile f(file);
        if (!f.open(QIODevice::WriteOnly)) return false;
        for (int i = 1; i <= n; ++i) {
            f.write(QStringLiteral("{\"prompt\": \"P%1\", \"chosen\": \"good %1\", \"rejected\": \"bad %1\"}\n").arg(i).toUtf8());
        }
        f.close();
        auto d = Database::open(db());
        return importPairsJsonl(*d, file.toStdString()).stored > 0;
    }
    // The stored choice a key for the left/right response must give.
    std::string expected(bool left) const { return left != view()->shownSwapped() ? "a" : "b"; }
};

// `n` imported pairs P1..Pn, chosen "good i, **in bold**" (stored as a),
// rejected "bad i, **in bold**": Markdown, differing in one word.
void importPairs(const Bench& b, int n) {
    const QString file = b.dir.path() + "/pairs.jsonl";
    QFile f(file);
    QVERIFY(f.open(QIODevice::WriteOnly));
    for (int i = 1; i <= n; ++i) {
        f.write(
            QStringLiteral(
                "{\"prompt\": \"P%1\", \"chosen\": \"good %1, **in bold**\", \"rejected\": \"bad %1, **in bold**\"}\n")
                .arg(i)
                .toUtf8());
    }
    f.close();
    auto db = Database::open(b.db());
    QVERIFY(importPairsJsonl(*db, file.toStdString()).stored);
}

}  // namespace

class TestWorkbenchGui : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { registerRunValueMetaTypes(); }

    void keysStoreLabelsWithAnnotator_data() {
        QTest::addColumn<int>("key");
        QTest::addColumn<QString>("expected");  // "left", "right" or a stored choice
        QTest::newRow("1 = left") << int(Qt::Key_1) << "left";
        QTest::newRow("A = left") << int(Qt::Key_A) << "left";
        QTest::newRow("2 = right") << int(Qt::Key_2) << "right";
        QTest::newRow("B = right") << int(Qt::Key_B) << "right";
        QTest::newRow("T = tie") << int(Qt::Key_T) << "tie";
        QTest::newRow("X = both bad") << int(Qt::Key_X) << "both_bad";
        QTest::newRow("S = skip") << int(Qt::Key_S) << "skip";
        QTest::newRow("Space = skip") << int(Qt::Key_Space) << "skip";
    }

    void keysStoreLabelsWithAnnotator() {
        QFETCH(int, key);
        QFETCH(QString, expected);
        Bench b("human");
        QVERIFY(b.start());
        QVERIFY(b.waitForPair());
        const qint64 pair = b.view()->currentPairIndex();
        const std::string want = expected == "left" ? b.expected(true) : expected == "right" ? b.expected(false) : expected.toStdString();
        const std::string shownFirst = b.expected(true);  // the pair's own side of the left response
        QTest::keyClick(b.view(), static_cast<Qt::Key>(key));
        QCOMPARE(b.view()->labeledCount(), 1);
        QVERIFY(b.view()->currentPairIndex() != pair);  // the next pair is on screen at once
        QVERIFY(b.stopAndWait());
        const std::string where = " FROM labels l JOIN pairs p ON p.id = l.pair_id WHERE p.run_index = " + std::to_string(pair);
        QCOMPARE(queryInt64(b.db(), "SELECT count(*)" + where), int64_t(1));
        QCOMPARE(queryText(b.db(), "SELECT l.choice" + where), want);
        QCOMPARE(queryText(b.db(), "SELECT l.source" + where), std::string("human"));
        QCOMPARE(queryText(b.db(), "SELECT l.annotator" + where), std::string("ada"));
        QCOMPARE(queryText(b.db(), "SELECT l.shown_first" + where), shownFirst);
        QCOMPARE(queryInt64(b.db(), "SELECT count(*)" + where + " AND l.seconds >= 0 AND l.seconds < 600"), int64_t(1));
    }

    // Annotators take turns without stopping the run: the footer's box
    // switches the name, and the next label is stored under it.
    void annotatorSwitchesDuringARun() {
        Bench b("human");
        QVERIFY(b.start());
        QVERIFY(b.waitForPair());
        const qint64 first = b.view()->currentPairIndex();
        QTest::keyClick(b.view(), Qt::Key_1);
        QVERIFY(QTest::qWaitFor([&] { return b.view()->currentPairIndex() >= 0; }, 60000));
        auto* box = b.view()->findChild<QComboBox*>();
        QVERIFY(box);
        QSignalSpy switched(b.view(), &LabelingView::annotatorChanged);
        box->setEditText("bea");
        QTest::keyClick(box->lineEdit(), Qt::Key_Return);
        QCOMPARE(switched.size(), 1);
        QCOMPARE(b.view()->annotator(), QString("bea"));
        const qint64 second = b.view()->currentPairIndex();
        QVERIFY(second != first);
        QTest::keyClick(b.view(), Qt::Key_2);  // the keys label again after the switch
        QCOMPARE(b.view()->labeledCount(), 2);
        QVERIFY(b.stopAndWait());
        auto annotatorOf = [&](qint64 pair) {
            return queryText(b.db(), "SELECT l.annotator FROM labels l JOIN pairs p ON p.id = l.pair_id WHERE p.run_index = " +
                                         std::to_string(pair));
        };
        QCOMPARE(annotatorOf(first), std::string("ada"));
        QCOMPARE(annotatorOf(second), std::string("bea"));
        // The name is remembered for the next time.
        QCOMPARE(box->findText("bea"), 0);
    }

    // A labeling project in the window: stored pairs reach the labeling view
    // with no run, each label is stored under the annotator on the pair's own
    // side (through the annotator's and the view's left-right orders), undo
    // takes it back, and when every pair has its annotators the view says so.
    void labelingProjectWithoutARun() {
        Bench b("human");
        QVERIFY(b.importPairs(3));
        b.view()->setAnnotator("ada");
        QVERIFY(b.workbench->startProject(1));
        QVERIFY(b.view()->inProject());
        QVERIFY(b.waitForPair());
        QSignalSpy saved(b.workbench->project(), &LabelingProjectSession::saved);
        std::map<qint64, std::string> expected;
        for (int i = 0; i < 3; ++i) {
            QVERIFY(QTest::qWaitFor([&] { return b.view()->currentPairIndex() >= 0; }, 10000));
            const qint64 pair = b.view()->currentPairIndex();
            QVERIFY(!expected.count(pair));
            // The pair's own side of the left response: "a" when it is the stored response_a.
            const std::string left = b.view()->leftText().toStdString();
            expected[pair] = left.rfind("good", 0) == 0 ? "a" : "b";  // import stores chosen ("good") as a
            QTest::keyClick(b.view(), Qt::Key_1);
            QVERIFY(QTest::qWaitFor([&] { return saved.size() == i + 1; }, 10000));
            if (i == 0) {
                // Undo: the label leaves the database and the pair comes back.
                QTest::keyClick(b.view(), Qt::Key_Z, Qt::ControlModifier);
                QCOMPARE(b.view()->currentPairIndex(), pair);
                QVERIFY(QTest::qWaitFor([&] { return saved.last().at(0).toLongLong() == 0; }, 10000));
                QCOMPARE(queryInt64(b.db(), "SELECT count(*) FROM labels WHERE annotator = 'ada'"), int64_t(0));
                QTest::keyClick(b.view(), Qt::Key_1);
                QVERIFY(QTest::qWaitFor([&] { return saved.last().at(0).toLongLong() == 1; }, 10000));
                saved.clear();
                saved.append(QList<QVariant>{qlonglong(1)});
            }
        }
        QVERIFY(QTest::qWaitFor([&] { return b.view()->currentPairIndex() < 0; }, 10000));
        for (const auto& [pair, choice] : expected) {
            QCOMPARE(queryText(b.db(), "SELECT choice FROM labels WHERE annotator = 'ada' AND source = 'human' AND pair_id = " +
                                           std::to_string(pair)),
                     choice);
        }
        QCOMPARE(queryInt64(b.db(), "SELECT count(*) FROM labels WHERE annotator = 'ada'"), int64_t(3));
        b.workbench->stopProject();
        QVERIFY(!b.view()->inProject());
    }

    // Edit to prefer (E): the response on the right, edited, is stored as
    // preferred to the original (a correction pair labelled by the editor);
    // the pair stays on screen to label, and the correction never enters the
    // project's queue.
    void editToPreferStoresACorrection() {
        Bench b("human");
        QVERIFY(b.importPairs(2));
        b.view()->setAnnotator("ada");
        QVERIFY(b.workbench->startProject(1));
        QVERIFY(b.waitForPair());
        const qint64 pair = b.view()->currentPairIndex();
        const QString right = b.view()->rightText();
        QTest::keyClick(b.view(), Qt::Key_E);
        auto* dialog = b.view()->findChild<EditResponseDialog*>();
        QVERIFY(dialog);
        QCOMPARE(dialog->text(), b.view()->leftText());
        dialog->startFromRight();
        QCOMPARE(dialog->text(), right);
        dialog->setText(right + ", now better");
        dialog->accept();
        const std::string edits = "SELECT count(*) FROM pairs WHERE source = 'edit'";
        QVERIFY(QTest::qWaitFor([&] { return queryInt64(b.db(), edits) == 1; }, 10000));
        const std::string edit = " FROM pairs e JOIN responses r ON r.id = ";
        QCOMPARE(queryText(b.db(), "SELECT r.text" + edit + "e.response_a WHERE e.source = 'edit'"),
                 (right + ", now better").toStdString());
        QCOMPARE(queryText(b.db(), "SELECT r.text" + edit + "e.response_b WHERE e.source = 'edit'"), right.toStdString());
        // The original is the shown pair's own response (import stores "good" as a).
        const std::string side = right.startsWith("good") ? "response_a" : "response_b";
        QCOMPARE(queryInt64(b.db(), "SELECT count(*) FROM pairs e JOIN pairs o ON o.id = " + std::to_string(pair) +
                                        " AND o." + side + " = e.response_b WHERE e.source = 'edit'"),
                 int64_t(1));
        QCOMPARE(queryText(b.db(), "SELECT l.choice || ' ' || l.annotator FROM labels l JOIN pairs e ON e.id = l.pair_id "
                                   "WHERE e.source = 'edit'"),
                 std::string("a ada"));
        QVERIFY(queryInt64(b.db(), "SELECT count(*) FROM labels l JOIN pairs e ON e.id = l.pair_id "
                                   "WHERE e.source = 'edit' AND l.seconds >= 0") == 1);
        // Still the pair to label; then the other one; then nothing (no correction pair).
        QCOMPARE(b.view()->currentPairIndex(), pair);
        QTest::keyClick(b.view(), Qt::Key_1);
        QVERIFY(QTest::qWaitFor([&] { const qint64 c = b.view()->currentPairIndex(); return c >= 0 && c != pair; }, 10000));
        QTest::keyClick(b.view(), Qt::Key_2);
        QVERIFY(QTest::qWaitFor([&] { return b.view()->currentPairIndex() < 0; }, 10000));
        // The last label reaches the disk through the writer, after the view moved on.
        QVERIFY(QTest::qWaitFor(
            [&] { return queryInt64(b.db(), "SELECT count(*) FROM labels WHERE annotator = 'ada'") == 3; }, 10000));
        b.workbench->stopProject();
    }

    // Each label stores the seconds from the pair appearing to the key
    // press, without the time the window was inactive, and the side shown
    // on the left (the clock is the test's: time moves by hand). Five labels
    // far under the annotator's own median raise the soft pace warning.
    void labelTimeLeavesOutAnInactiveWindow() {
        Bench b("human");
        importPairs(b, 16);
        {
            auto db = Database::open(b.db());
            GuidelinesStore(*db).insert(
                {std::nullopt, "# How to judge\n\n- Prefer the **correct** response.", "lead", 1});
        }
        qint64 now = 0;
        b.view()->setTimeSource([&] { return now; });
        b.view()->setAnnotator("ada");
        QVERIFY(b.workbench->startProject(1));
        QVERIFY(b.waitForPair());
        QSignalSpy saved(b.workbench->project(), &LabelingProjectSession::saved);
        const qint64 first = b.view()->currentPairIndex();
        const std::string left = b.view()->leftText().toStdString().rfind("good", 0) == 0 ? "a" : "b";
        // Rendered, with the one differing word marked on each side.
        const ResponsePanes* panes = b.view()->responsePanes();
        QVERIFY(panes->left()->toPlainText().endsWith(", in bold"));
        QCOMPARE(panes->markedLeft(), 1);
        QCOMPARE(panes->markedRight(), 1);
        // The guidelines open beside the pair at the start; G hides them and
        // brings them back (reading them counts as time on the pair).
        QVERIFY(QTest::qWaitFor([&] { return b.view()->guidelinesShown(); }, 10000));
        QVERIFY(b.view()->guidelinesPanel()->renderedText().contains("Prefer the correct response."));
        QTest::keyClick(b.view(), Qt::Key_G);
        QVERIFY(!b.view()->guidelinesShown());
        QTest::keyClick(b.view(), Qt::Key_G);
        QVERIFY(b.view()->guidelinesShown());
        now += 2000;
        QEvent off(QEvent::WindowDeactivate), on(QEvent::WindowActivate);
        QCoreApplication::sendEvent(b.view(), &off);
        now += 60000;  // another window is in front: not counted
        QCoreApplication::sendEvent(b.view(), &on);
        now += 1250;
        QTest::keyClick(b.view(), Qt::Key_2);
        QVERIFY(QTest::qWaitFor([&] { return !saved.isEmpty(); }, 10000));
        const std::string where = " FROM labels WHERE annotator = 'ada' AND pair_id = " + std::to_string(first);
        QCOMPARE(queryText(b.db(), "SELECT CAST(seconds * 1000 AS INTEGER)" + where), std::string("3250"));
        QCOMPARE(queryText(b.db(), "SELECT shown_first" + where), left);
        QCOMPARE(queryText(b.db(), "SELECT choice" + where), std::string(left == "a" ? "b" : "a"));  // 2: the right one

        // The platform's own activation changes pause it too: another window
        // in front for 30 s, then another tab for 20 s, of the second pair's 51.75 s.
        QVERIFY(QTest::qWaitFor(
            [&] { return b.view()->currentPairIndex() >= 0 && b.view()->currentPairIndex() != first; }, 10000));
        const qint64 second = b.view()->currentPairIndex();
        now += 1000;
        QWidget other;
        other.show();
        other.activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(&other, 5000));
        QVERIFY(!b.view()->labelClock().active());
        now += 30000;
        b.window->activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(b.window, 5000));
        QVERIFY(b.view()->labelClock().active());
        now += 500;
        // Another tab in front for 20 s: the pair is not before the person either.
        auto* tabs = b.window->findChild<QTabWidget*>();
        QVERIFY(tabs);
        tabs->setCurrentIndex(tabs->indexOf(b.window->labelingTab()) == 0 ? 1 : 0);
        QVERIFY(!b.view()->isVisible() && !b.view()->labelClock().active());
        now += 20000;
        b.window->showTab(b.window->labelingTab());
        QVERIFY(b.view()->labelClock().active());
        now += 250;
        QTest::keyClick(b.view(), Qt::Key_1);
        QVERIFY(QTest::qWaitFor([&] { return saved.last().at(0).toLongLong() == 2; }, 10000));
        QCOMPARE(queryText(b.db(),
                           "SELECT CAST(seconds * 1000 AS INTEGER) FROM labels WHERE annotator = 'ada' AND pair_id = " +
                               std::to_string(second)),
                 std::string("1750"));

        // Pace: eight more at 9 s (ten labels before the stretch), then quick ones.
        auto label = [&](qint64 ms) {
            QVERIFY(QTest::qWaitFor([&] { return b.view()->currentPairIndex() >= 0; }, 10000));
            now += ms;
            QTest::keyClick(b.view(), Qt::Key_1);
        };
        for (int i = 0; i < 8; ++i) label(9000);
        for (int i = 0; i < 4; ++i) label(1000);
        QVERIFY(!b.view()->paceWarningShown());
        label(1000);
        QVERIFY(b.view()->paceWarningShown());
        label(9000);
        QVERIFY(!b.view()->paceWarningShown());
        QVERIFY(QTest::qWaitFor([&] { return saved.last().at(0).toLongLong() == 16; }, 10000));
        QCOMPARE(queryInt64(b.db(), "SELECT count(*) FROM labels WHERE annotator = 'ada' AND seconds = 1"), int64_t(5));
        // Run → Labeling guidelines opens the editor on the stored text; Save
        // stores it through the writer and the project shows it at once.
        Q_EMIT b.window->guidelinesEditRequested();
        GuidelinesDialog* editor = nullptr;
        QVERIFY(QTest::qWaitFor([&] { return (editor = b.window->findChild<GuidelinesDialog*>()) != nullptr; }, 10000));
        QVERIFY(editor->markdown().startsWith("# How to judge"));
        QVERIFY(editor->importFile(b.dir.path() + "/pairs.jsonl").isEmpty());  // any readable file will do
        editor->accept();
        QVERIFY(b.view()->guidelinesPanel()->markdown().startsWith("{\"prompt\": \"P1\""));
        QVERIFY(b.controller->flushWrites());
        QCOMPARE(queryText(b.db(), "SELECT author FROM guidelines ORDER BY id DESC LIMIT 1"), std::string("ada"));
        QVERIFY(
            queryText(b.db(), "SELECT text FROM guidelines ORDER BY id DESC LIMIT 1").rfind("{\"prompt\": \"P1\"", 0) ==
            0);
        b.workbench->stopProject();
        QVERIFY(!b.view()->guidelinesShown());  // they leave with the session
    }

    // The thumbs mode: the stored pairs' responses one at a time, U / Up a
    // thumbs up and D / Down a thumbs down (stored as unpaired labels under the
    // annotator), S passes one by (nothing stored; undo brings it back), the
    // pair keys do nothing, undo takes a label back; the labels export in
    // TRL's unpaired format (with each label's seconds) and import back identically.
    void thumbsModeStoresUnpairedLabels() {
        Bench b("human");
        QVERIFY(b.importPairs(2));
        b.view()->setAnnotator("ada");
        QVERIFY(b.workbench->startProject(1, LabelingMode::Thumbs));
        QVERIFY(b.view()->thumbsMode());
        QVERIFY(b.waitForPair());
        QSignalSpy saved(b.workbench->project(), &LabelingProjectSession::saved);
        auto next = [&](qint64 after) {
            return QTest::qWaitFor([&] { const qint64 c = b.view()->currentPairIndex(); return c >= 0 && c != after; }, 10000);
        };
        auto savedReaches = [&](qint64 n) {
            return QTest::qWaitFor([&] { return !saved.isEmpty() && saved.last().at(0).toLongLong() == n; }, 10000);
        };
        std::map<qint64, std::pair<std::string, std::string>> expected;  // response id -> (text, label)
        auto give = [&](Qt::Key key, const char* label) {
            const qint64 r = b.view()->currentPairIndex();
            expected[r] = {b.view()->leftText().toStdString(), label};
            QTest::keyClick(b.view(), key);
            return r;
        };
        const qint64 r1 = give(Qt::Key_U, "up");
        QVERIFY(savedReaches(1));
        QVERIFY(next(r1));
        const qint64 r2 = give(Qt::Key_D, "down");
        QVERIFY(r2 != r1);
        QVERIFY(savedReaches(2));
        QVERIFY(next(r2));
        // A skip stores nothing and shows the next; undo brings it back.
        const qint64 r3 = b.view()->currentPairIndex();
        QTest::keyClick(b.view(), Qt::Key_S);
        QVERIFY(b.view()->currentPairIndex() != r3);
        QTest::keyClick(b.view(), Qt::Key_Z, Qt::ControlModifier);
        QCOMPARE(b.view()->currentPairIndex(), r3);
        give(Qt::Key_Down, "down");
        QVERIFY(savedReaches(3));
        QVERIFY(next(r3));
        // The pair keys mean nothing with one response on screen.
        const qint64 r4 = b.view()->currentPairIndex();
        const int before = b.view()->labeledCount();
        QTest::keyClick(b.view(), Qt::Key_1);
        QTest::keyClick(b.view(), Qt::Key_T);
        QCOMPARE(b.view()->labeledCount(), before);
        QCOMPARE(b.view()->currentPairIndex(), r4);
        // Undo takes a stored label back, and the response returns.
        give(Qt::Key_Up, "up");
        QVERIFY(savedReaches(4));
        QTest::keyClick(b.view(), Qt::Key_Z, Qt::ControlModifier);
        QCOMPARE(b.view()->currentPairIndex(), r4);
        QVERIFY(savedReaches(3));
        give(Qt::Key_D, "down");
        QVERIFY(savedReaches(4));
        QVERIFY(QTest::qWaitFor([&] { return b.view()->currentPairIndex() < 0; }, 10000));
        QCOMPARE(expected.size(), size_t(4));
        QCOMPARE(queryInt64(b.db(), "SELECT count(*) FROM response_labels WHERE annotator = 'ada' AND source = 'human'"), int64_t(4));
        for (const auto& [id, want] : expected) {
            const std::string where = " FROM response_labels l JOIN responses r ON r.id = l.response_id WHERE l.response_id = " +
                                      std::to_string(id);
            QCOMPARE(queryText(b.db(), "SELECT r.text" + where), want.first);
            QCOMPARE(queryText(b.db(), "SELECT l.label" + where), want.second);
        }
        QCOMPARE(queryInt64(b.db(), "SELECT count(*) FROM labels WHERE source = 'human'"), int64_t(0));  // no pair label
        b.workbench->stopProject();
        // Export, import into a fresh database, export again: the same file.
        const std::string out = (b.dir.path() + "/thumbs.jsonl").toStdString();
        const std::string again = (b.dir.path() + "/again.jsonl").toStdString();
        {
            auto db = Database::open(b.db());
            QCOMPARE(exportUnpairedJsonl(*db, out), int64_t(4));
        }
        auto fresh = Database::open((b.dir.path() + "/fresh.db").toStdString());
        const ImportReport imported = importPairsJsonl(*fresh, out);
        QVERIFY(imported.errors.empty());
        QCOMPARE(exportUnpairedJsonl(*fresh, again), int64_t(4));
        QFile a(QString::fromStdString(out)), c(QString::fromStdString(again));
        QVERIFY(a.open(QIODevice::ReadOnly) && c.open(QIODevice::ReadOnly));
        const QByteArray first = a.readAll();
        QCOMPARE(c.readAll(), first);
        QCOMPARE(first.count("\"label\":true"), 1);
        QCOMPARE(first.count("\"label\":false"), 3);
        // Each thumbs label kept its seconds, through the file and back.
        QCOMPARE(first.count("\"seconds\":"), 4);
        QCOMPARE(queryInt64(b.db(), "SELECT count(*) FROM response_labels WHERE seconds >= 0"), int64_t(4));
    }

    void undoTakesTheLabelBack() {
        Bench b("human");
        QVERIFY(b.start());
        QVERIFY(b.waitForPair());
        // Paused, the run collects nothing: the label is still in the queue when undone.
        b.controller->pause();
        QVERIFY(QTest::qWaitFor([&] { return b.controller->state() == RunState::Paused; }, 30000));
        const qint64 pair = b.view()->currentPairIndex();
        const std::string right = b.expected(false);
        const std::string where = " FROM labels l JOIN pairs p ON p.id = l.pair_id WHERE p.run_index = " + std::to_string(pair);
        QSignalSpy saved(b.controller, &RunController::labelsSaved);
        QTest::keyClick(b.view(), Qt::Key_1);
        QVERIFY(b.view()->currentPairIndex() != pair);
        // On disk before the (paused) run has used it, and the footer says so.
        QVERIFY(QTest::qWaitFor([&] { return !saved.isEmpty() && saved.last().at(0).toLongLong() == 1; }, 10000));
        QCOMPARE(queryInt64(b.db(), "SELECT count(*)" + where), int64_t(1));
        QTest::keyClick(b.view(), Qt::Key_Z, Qt::ControlModifier);
        QCOMPARE(b.view()->currentPairIndex(), pair);  // back on screen
        QCOMPARE(b.view()->labeledCount(), 0);
        QCOMPARE(saved.last().at(0).toLongLong(), qlonglong(0));
        QVERIFY(b.controller->flushWrites());
        QCOMPARE(queryInt64(b.db(), "SELECT count(*)" + where), int64_t(0));  // the undone label is gone
        QTest::keyClick(b.view(), Qt::Key_2);
        QVERIFY(b.stopAndWait());
        QCOMPARE(queryInt64(b.db(), "SELECT count(*)" + where), int64_t(1));
        QCOMPARE(queryText(b.db(), "SELECT l.choice" + where), right);
    }

    void undoAfterTheRunUsedTheLabelStoresACorrection() {
        Bench b("human");
        QVERIFY(b.start());
        QVERIFY(b.waitForPair());
        // Two labels fill a batch of two; the run trains on them.
        QTest::keyClick(b.view(), Qt::Key_1);
        QVERIFY(QTest::qWaitFor([&] { return b.view()->currentPairIndex() >= 0; }, 60000));
        const qint64 pair = b.view()->currentPairIndex();
        const std::string where = " FROM labels l JOIN pairs p ON p.id = l.pair_id WHERE p.run_index = " + std::to_string(pair);
        QTest::keyClick(b.view(), Qt::Key_1);
        // Wait until the run has used it (the label itself is stored at once).
        QVERIFY(QTest::qWaitFor([&] {
            return queryInt64(b.db(), "SELECT count(*) FROM pairs WHERE trained_step IS NOT NULL AND run_index = " +
                                          std::to_string(pair)) == 1;
        }, 60000));
        QCOMPARE(queryInt64(b.db(), "SELECT count(*)" + where), int64_t(1));
        QTest::keyClick(b.view(), Qt::Key_Z, Qt::ControlModifier);
        QCOMPARE(b.view()->currentPairIndex(), pair);  // shown again for correction
        QTest::keyClick(b.view(), Qt::Key_X);
        QVERIFY(b.stopAndWait());
        QVERIFY(b.controller->flushWrites());
        QCOMPARE(queryInt64(b.db(), "SELECT count(*)" + where), int64_t(2));
        QCOMPARE(queryText(b.db(), "SELECT l.choice" + where + " ORDER BY l.id DESC LIMIT 1"), std::string("both_bad"));
    }

    void ratingModeStoresRatings() {
        Bench b("human");
        QVERIFY(b.start());
        QVERIFY(b.waitForPair());
        const qint64 pair = b.view()->currentPairIndex();
        const bool swapped = b.view()->shownSwapped();
        QTest::keyClick(b.view(), Qt::Key_R);
        QVERIFY(b.view()->ratingMode());
        QTest::keyClick(b.view(), Qt::Key_6);  // left
        QCOMPARE(b.view()->currentPairIndex(), pair);  // waits for the right one's rating
        QTest::keyClick(b.view(), Qt::Key_3);  // right
        QVERIFY(b.view()->currentPairIndex() != pair);
        QVERIFY(b.stopAndWait());
        const std::string pairSql = "(SELECT id FROM pairs WHERE run_index = " + std::to_string(pair) + ")";
        const std::string ratingA = "SELECT r.value FROM ratings r JOIN pairs p ON p.response_a = r.response_id WHERE p.id = " + pairSql;
        const std::string ratingB = "SELECT r.value FROM ratings r JOIN pairs p ON p.response_b = r.response_id WHERE p.id = " + pairSql;
        QCOMPARE(queryInt64(b.db(), ratingA), int64_t(swapped ? 3 : 6));
        QCOMPARE(queryInt64(b.db(), ratingB), int64_t(swapped ? 6 : 3));
        QCOMPARE(queryText(b.db(), "SELECT choice FROM labels WHERE pair_id = " + pairSql), std::string(swapped ? "b" : "a"));
        QCOMPARE(queryText(b.db(), "SELECT annotator FROM ratings LIMIT 1"), std::string("ada"));
    }

    void plotsReceiveEveryPointTheWorkerEmits() {
        Bench b("task");
        // Every batch the worker emits, recorded on this thread.
        QVector<QVector<MetricSample>> metrics;
        connect(b.controller, &RunController::runStarting, this, [&](TrainingWorker* w) {
            connect(w, &TrainingWorker::metricsReady, this, [&](const QVector<MetricSample>& s) { metrics.push_back(s); });
        });
        QVERIFY(b.start());
        QVERIFY(QTest::qWaitFor([&] { return b.window->plots()->pointCount(Metric::Loss) >= 5; }, 60000));
        QVERIFY(b.stopAndWait());
        QCoreApplication::processEvents();
        int losses = 0;
        double lastLoss = 0;
        for (const auto& batch : metrics) {
            for (const MetricSample& s : batch) {
                if (s.name == "loss") {
                    ++losses;
                    lastLoss = s.value;
                }
            }
        }
        QVERIFY(metrics.size() < losses);  // batched: fewer signals than steps
        QCOMPARE(b.window->plots()->pointCount(Metric::Loss), losses);
        QCOMPARE(b.window->plots()->lastValue(Metric::Loss), lastLoss);
        QCOMPARE(int64_t(losses), queryInt64(b.db(), "SELECT count(*) FROM metrics WHERE name = 'loss'"));
    }

    // The win rate against the reference is plotted under its judge's name,
    // and stored with the ends of its interval at every evaluation.
    void winRateIsPlottedAndStoredWithItsInterval() {
        Bench b("task");
        b.setup.config.evalEvery = 2;
        b.setup.config.evalSamples = 8;
        b.setup.config.winRatePrompts = 8;
        QVERIFY(b.start());
        QVERIFY(QTest::qWaitFor([&] { return b.window->plots()->pointCount(Metric::WinRateVsRef) >= 3; }, 60000));
        QVERIFY(b.stopAndWait());
        const QStringList titles = b.window->plots()->plotTitles();
        QVERIFY2(titles.contains("Win rate vs reference (judge: task's true reward)"), qPrintable(titles.join(", ")));
        const int64_t stored = queryInt64(b.db(), "SELECT count(*) FROM metrics WHERE name = 'eval/win_rate_vs_ref'");
        QVERIFY(stored >= 3);
        // Each evaluation's rate lies inside its interval, inside [0, 1].
        QCOMPARE(queryInt64(b.db(),
                            "SELECT count(*) FROM metrics r JOIN metrics lo ON lo.run_id = r.run_id AND lo.step = r.step "
                            "AND lo.name = 'eval/win_rate_vs_ref_low' JOIN metrics hi ON hi.run_id = r.run_id AND "
                            "hi.step = r.step AND hi.name = 'eval/win_rate_vs_ref_high' WHERE r.name = "
                            "'eval/win_rate_vs_ref' AND 0 <= lo.value AND lo.value <= r.value AND r.value <= hi.value "
                            "AND hi.value <= 1"),
                 stored);
    }

    // A CPO run plots its own quantities (value estimate, effective sample
    // size, largest weight) under their own titles, and rates, not chooses.
    void causalRunPlotsItsOwnMetrics() {
        Bench b("task");
        b.setup.config.algorithm = "cpo";
        QVERIFY(b.start());
        QVERIFY(QTest::qWaitFor([&] { return b.window->plots()->pointCount(Metric::CpoValueEstimate) >= 3; }, 60000));
        QVERIFY(b.stopAndWait());
        const QStringList titles = b.window->plots()->plotTitles();
        QVERIFY2(titles.contains("Value estimate") && titles.contains("Effective sample size") &&
                     titles.contains("Largest importance weight") && !titles.contains("Reward margin"),
                 qPrintable(titles.join(", ")));
        QVERIFY(b.window->plots()->pointCount(Metric::CpoEss) >= 3);
        QCOMPARE(b.window->plots()->pointCount(Metric::RewardsMargins), 0);
        QVERIFY(b.view()->ratingMode());
    }

    void closingMidRunKeepsEveryAcknowledgedLabel() {
        Bench b("human");
        QVERIFY(b.start());
        int given = 0;
        while (given < 5) {
            QVERIFY(b.waitForPair());
            QTest::keyClick(b.view(), given % 2 ? Qt::Key_1 : Qt::Key_2);
            ++given;
        }
        QCOMPARE(b.view()->labeledCount(), 5);
        b.window->close();  // mid-run: stops, saves, then closes
        QVERIFY(QTest::qWaitFor([&] { return !b.controller->hasActiveRun(); }, 60000));
        QVERIFY(QTest::qWaitFor([&] { return !b.window->isVisible(); }, 10000));
        QCOMPARE(queryInt64(b.db(), "SELECT count(*) FROM labels WHERE source = 'human' AND annotator = 'ada'"), int64_t(5));
        QCOMPARE(queryText(b.db(), "SELECT status FROM runs"), std::string("stopped"));
    }

    // A training error shows as a banner (no dialog), the run pauses, and the
    // labels and rows stored before it stay.
    void trainingErrorShowsABannerAndPauses() {
        Bench b("self", /*poisoned=*/true);
        QVERIFY(b.start());
        QVERIFY(QTest::qWaitFor([&] { return !b.window->banner()->text().isEmpty(); }, 60000));
        QVERIFY2(b.window->banner()->text().contains("non-finite"), qPrintable(b.window->banner()->text()));
        QVERIFY(QTest::qWaitFor([&] { return b.controller->state() == RunState::Paused; }, 30000));
        QVERIFY(QApplication::activeModalWidget() == nullptr);
        QVERIFY(b.stopAndWait());
        QVERIFY(queryInt64(b.db(), "SELECT count(*) FROM labels") > 0);
    }

    // The Hugging Face cache menu puts a model id into the model field; a run
    // started from the panel with it resolves the id offline and trains.
    void cachedModelIdStartsARun() {
        Bench b("task");
        const QString repo = b.dir.path() + "/hub/models--tiny-org--tiny-gpt2";
        TinyGpt2().write(repo + "/snapshots/0123abcd");
        TinyGpt2::writeTokenizer(repo + "/snapshots/0123abcd");
        const QByteArray saved = qgetenv("HF_HUB_CACHE");
        qputenv("HF_HUB_CACHE", (b.dir.path() + "/hub").toUtf8());
        RunPanel* panel = b.window->runPanel();
        RunConfig c = b.setup.config;
        c.model = "tiny-org/tiny-gpt2";
        c.steps = 2;
        c.maxNewTokens = 6;
        panel->setConfig(c);
        QVERIFY2(panel->problems().isEmpty(), qPrintable(panel->problems().join("; ")));
        QSignalSpy accepted(b.controller, &RunController::runStarted);
        b.window->requestStart(panel->config());  // as the Start button does
        QVERIFY(b.controller->hasActiveRun());
        QVERIFY(QTest::qWaitFor([&] { return !b.controller->hasActiveRun(); }, 120000));
        if (saved.isEmpty()) qunsetenv("HF_HUB_CACHE");
        else qputenv("HF_HUB_CACHE", saved);
        QCOMPARE(accepted.size(), 1);
        QCOMPARE(b.controller->state(), RunState::Finished);
        QCOMPARE(queryInt64(b.db(), "SELECT last_step FROM runs"), int64_t(2));
        QVERIFY(queryText(b.db(), "SELECT model FROM runs").find("snapshots/0123abcd") != std::string::npos);
    }

    void refusedFieldShowsItsReason() {
        Bench b("task");
        RunPanel* panel = b.window->runPanel();
        panel->setFieldText("beta", "-1");
        QVERIFY(!panel->fieldError("beta").isEmpty());
        QVERIFY(!panel->problems().isEmpty());
        panel->setFieldText("beta", "0.2");
        QVERIFY(panel->fieldError("beta").isEmpty());
        panel->setFieldText("lr", "fast");
        QVERIFY(panel->fieldError("lr").contains("lr"));
    }
};

PREFLAB_GUI_TEST_MAIN(TestWorkbenchGui)
#include "tst_workbench_gui.moc"
