// The workbench's lesson view (issue 29), offscreen, driving real runs of a
// tiny model through a teacher's own lesson: step mode pauses the run at each
// cue until Continue (and the cue's plot is the one framed), a prediction is
// asked before the run answers it, the checks shown at the end are the
// engine's, a saved state reopens at its cue, replay runs the lesson again
// with another seed, and stopping the lesson's run stops the lesson with a
// reason. The built-in lessons are listed by Help -> Lessons.
#include "app/gui/workbench.h"
#include "core/values/lesson_state.h"
#include "support/gui_test_main.h"
#include "support/session_fixture.h"
#include "ui/lesson_list_dialog.h"
#include "ui/labeling_view.h"
#include "ui/lesson_panel.h"
#include "ui/main_window.h"
#include "ui/metric_plots.h"

#include <QDockWidget>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QListWidget>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>

using namespace preflab;
using namespace preflab::test;

namespace {

constexpr int kWaitMs = 120000;

// A lesson of one 12-step run of the tiny model, judged by the task, with a
// question at the start, a cue at step 4 that points at the KL plot and a
// cue at the end.
QByteArray tinyLesson(const std::string& model) {
    return QStringLiteral(R"({
  "id": "tiny-lesson", "title": "A tiny lesson", "summary": "Twelve steps of a tiny model.",
  "runs": [{"id": "tiny", "title": "twelve steps",
            "settings": {"model": "%1", "judge": "task", "steps": 12, "batch_size": 2, "generation_batch": 2,
                         "max_new_tokens": 8, "prompts": 16, "eval_every": 4, "eval_samples": 8,
                         "warmup_steps": 0, "checkpoint_every": 0}}],
  "checks": [{"id": "kl-nonnegative", "claim": "exact KL at the end is at least 0",
              "all": [{"left": {"run": "tiny", "metric": "kl/exact", "stat": "last"}, "op": ">=", "right": 0}]}],
  "cues": [
    {"id": "intro", "run": "tiny", "when": {"start": true}, "text": "Watch the loss.",
     "predict": {"question": "Will exact KL end at 0 or above?", "choices": ["yes", "no"],
                 "check": "kl-nonnegative", "if_held": "yes", "if_failed": "no"}},
    {"id": "at4", "run": "tiny", "when": {"step": 4}, "text": "Step four: loss {loss}.", "plot": "kl/exact"},
    {"id": "end", "run": "tiny", "when": {"end": true}, "text": "Done: loss {loss:last}."}
  ],
  "closing": "The end: {check:kl-nonnegative}."
})")
        .arg(QString::fromStdString(model))
        .toUtf8();
}

struct LessonBench {
    QTemporaryDir dir;
    SessionSetup setup;
    std::unique_ptr<Workbench> workbench;
    RunController* controller = nullptr;
    MainWindow* window = nullptr;
    LessonSession* lesson = nullptr;
    LessonPanel* panel = nullptr;

    LessonBench() {
        setup = tinySetup(dir, writeTinyModel(dir.path()));
        QDir(dir.path()).mkpath("lessons");
        QFile f(dir.path() + "/lessons/tiny-lesson.json");
        if (f.open(QIODevice::WriteOnly)) f.write(tinyLesson(setup.modelPath));
        f.close();
        workbench = std::make_unique<Workbench>(QString::fromStdString(setup.databasePath), dir.path());
        workbench->setLessonFolder(dir.path() + "/lessons");
        controller = workbench->controller();
        window = workbench->window();
        lesson = workbench->lesson();
        panel = window->lessonPanel();
        window->resize(1400, 900);
        window->show();
    }
    bool waitForPause() const { return QTest::qWaitFor([&] { return lesson->waiting(); }, kWaitMs); }
    QPushButton* button(const QString& text) const {
        for (QPushButton* b : panel->findChildren<QPushButton*>()) {
            if (b->text() == text) return b;
        }
        return nullptr;
    }
};

}  // namespace

class TestLessonView : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { registerRunValueMetaTypes(); }

    void builtInLessonsAreListed() {
        QTemporaryDir dir;
        const std::string db = (dir.path() + "/l.db").toStdString();
        Database::open(db);
        Workbench wb(QString::fromStdString(db), dir.path());
        QVERIFY(wb.lessons().size() >= 7);
        QStringList ids;
        for (const Lesson& l : wb.lessons()) ids << QString::fromStdString(l.id);
        for (const char* id : {"dpo-aligns", "over-optimisation", "reward-hacking", "label-noise", "falling-rewards",
                               "on-policy", "you-are-the-judge"}) {
            QVERIFY2(ids.contains(QLatin1String(id)), id);
        }
        LessonListDialog dialog(wb.lessons());
        QCOMPARE(dialog.list()->count(), static_cast<int>(wb.lessons().size()));
        QVERIFY(dialog.select(QStringLiteral("reward-hacking")));
        QCOMPARE(QString::fromStdString(dialog.chosenLesson()->id), QStringLiteral("reward-hacking"));
        QCOMPARE(dialog.seed(), dialog.chosenLesson()->seed);
        QVERIFY(!dialog.select(QStringLiteral("no-such-lesson")));
    }

    void stepModePausesAtEachCueUntilContinue() {
        LessonBench b;
        QSignalSpy completed(b.lesson, &LessonSession::completed);
        QVERIFY(b.workbench->startLesson(QStringLiteral("tiny-lesson"), 1, true));
        QVERIFY(b.window->findChild<QDockWidget*>(QStringLiteral("LessonDock"))->isVisible());
        // The intro asks its question and holds the run back until Continue.
        QVERIFY(b.lesson->waiting());
        QVERIFY(!b.controller->hasActiveRun());
        QVERIFY(b.panel->narrationText().contains(QStringLiteral("Watch the loss.")));
        QCOMPARE(b.panel->choiceButtons().size(), 2);
        b.panel->choiceButtons().front()->click();  // "yes"
        QVERIFY(b.panel->narrationText().contains(QStringLiteral("You predicted: yes")));
        QVERIFY(b.panel->choiceButtons().isEmpty());
        QVERIFY(b.panel->continueButton()->isEnabled());
        b.panel->continueButton()->click();
        QVERIFY(!b.lesson->waiting());
        QVERIFY(b.controller->hasActiveRun());

        // The step-4 cue pauses the run, with its numbers filled in and its plot framed.
        QVERIFY(b.waitForPause());
        QTRY_COMPARE_WITH_TIMEOUT(b.controller->state(), RunState::Paused, kWaitMs);
        QCOMPARE(QString::fromStdString(b.lesson->state().reachedCue), QStringLiteral("at4"));
        const QString text = b.panel->narrationText();
        QVERIFY2(text.contains(QStringLiteral("Step four: loss ")), qPrintable(text));
        QVERIFY2(!text.contains(QLatin1Char('{')), qPrintable(text));
        QCOMPARE(b.window->plots()->highlightedMetric(), QStringLiteral("kl/exact"));
        QVERIFY(b.panel->continueButton()->isEnabled());

        // Continue resumes the run; its end cue holds the lesson until Continue.
        b.panel->continueButton()->click();
        QTRY_VERIFY_WITH_TIMEOUT(b.controller->state() != RunState::Paused || !b.controller->hasActiveRun(), kWaitMs);
        QTRY_VERIFY_WITH_TIMEOUT(!b.controller->hasActiveRun() && b.lesson->waiting(), kWaitMs);
        QCOMPARE(QString::fromStdString(b.lesson->state().reachedCue), QStringLiteral("end"));
        QCOMPARE(completed.count(), 0);
        b.panel->continueButton()->click();
        QCOMPARE(completed.count(), 1);

        // The checks shown are the engine's, and the question was answered by the run.
        const auto checks = completed.front().front().value<QVector<LessonCheckResult>>();
        QCOMPARE(checks.size(), 1);
        const QString final = b.panel->narrationText();
        QVERIFY(final.contains(QStringLiteral("Answer:")));
        QVERIFY(final.contains(QStringLiteral("%1 of 1 held").arg(checks.front().held ? 1 : 0)));
        QVERIFY(final.contains(QString::fromStdString(checks.front().evidence)));
        QVERIFY(final.contains(QStringLiteral("The end: ")));
        QVERIFY(!b.panel->continueButton()->isEnabled());
        QCOMPARE(queryInt64(b.setup.databasePath, "SELECT COUNT(*) FROM runs WHERE status = 'finished'"), 1);
    }

    void savedStateReopensAtItsCue() {
        LessonBench b;
        QVERIFY(b.workbench->startLesson(QStringLiteral("tiny-lesson"), 4, true));
        b.panel->continueButton()->click();  // past the intro
        QVERIFY(b.waitForPause());
        QCOMPARE(QString::fromStdString(b.lesson->state().reachedCue), QStringLiteral("at4"));
        const QString file = b.dir.path() + "/saved.preflab-lesson";
        QVERIFY(b.workbench->saveLessonState(file));
        const LessonState saved = readLessonStateFile(file.toStdString());
        QCOMPARE(saved, (LessonState{"tiny-lesson", 4, true, "at4"}));

        // Closing stops the lesson's run; reopening plays it with the same seed
        // and pauses first at the saved cue (the intro's pause is passed).
        b.button(QStringLiteral("Close lesson"))->click();
        QTRY_VERIFY_WITH_TIMEOUT(!b.controller->hasActiveRun(), kWaitMs);
        QVERIFY(!b.window->findChild<QDockWidget*>(QStringLiteral("LessonDock"))->isVisible());
        QSignalSpy waiting(b.lesson, &LessonSession::waitingChanged);
        QVERIFY(b.workbench->openLessonState(file));
        QVERIFY(!b.lesson->waiting());
        QVERIFY(b.controller->hasActiveRun());
        QCOMPARE(b.controller->activeConfig().seed, 4);
        QVERIFY(b.waitForPause());
        QCOMPARE(waiting.count(), 1);
        QCOMPARE(QString::fromStdString(b.lesson->state().reachedCue), QStringLiteral("at4"));
        QVERIFY(b.panel->narrationText().contains(QStringLiteral("Watch the loss.")));
        b.lesson->stop();
        QTRY_VERIFY_WITH_TIMEOUT(!b.controller->hasActiveRun(), kWaitMs);
    }

    void replayRunsTheLessonWithAnotherSeed() {
        LessonBench b;
        QSignalSpy completed(b.lesson, &LessonSession::completed);
        // Out of step mode only the question waits, for its answer.
        QVERIFY(b.workbench->startLesson(QStringLiteral("tiny-lesson"), 1, false));
        QVERIFY(b.lesson->waiting());
        b.panel->choiceButtons().back()->click();  // "no"
        QVERIFY(!b.lesson->waiting());
        QVERIFY(b.controller->hasActiveRun());
        QTRY_COMPARE_WITH_TIMEOUT(completed.count(), 1, kWaitMs);
        QVERIFY(b.panel->narrationText().contains(QStringLiteral("You predicted: no")));
        b.panel->seedBox()->setValue(5);
        b.button(QStringLiteral("Replay"))->click();
        QVERIFY(b.lesson->waiting());
        b.panel->choiceButtons().front()->click();
        QVERIFY(b.controller->hasActiveRun());
        QCOMPARE(b.controller->activeConfig().seed, 5);
        QCOMPARE(b.lesson->seed(), 5);
        QTRY_COMPARE_WITH_TIMEOUT(completed.count(), 2, kWaitMs);
        QCOMPARE(queryInt64(b.setup.databasePath, "SELECT COUNT(*) FROM runs WHERE status = 'finished'"), 2);
    }

    // The lesson that needs a person, as shipped but on the tiny model: the
    // student predicts, labels every pair with the keys, and the lesson ends
    // with its agreement and gold checks evaluated on those labels.
    void youAreTheJudgePlaysWithAPersonsLabels() {
        LessonBench b;
        QFile shipped(QStringLiteral(PREFLAB_LESSONS_DIR "/you-are-the-judge.json"));
        QVERIFY(shipped.open(QIODevice::ReadOnly));
        QJsonObject lesson = QJsonDocument::fromJson(shipped.readAll()).object();
        QJsonArray runs = lesson.value("runs").toArray();
        QJsonObject run = runs.at(0).toObject();
        QJsonObject settings = run.value("settings").toObject();
        // The shipped lesson trains the starter; the bench's tiny model stands in.
        settings.insert("model", QString::fromStdString(b.setup.modelPath));
        settings.insert("max_new_tokens", 8);
        settings.insert("prompts", 16);
        settings.insert("eval_samples", 16);
        settings.insert("checkpoint_every", 0);
        run.insert("settings", settings);
        runs.replace(0, run);
        lesson.insert("runs", runs);
        QFile copy(b.dir.path() + "/lessons/you-are-the-judge.json");
        QVERIFY(copy.open(QIODevice::WriteOnly));
        copy.write(QJsonDocument(lesson).toJson());
        copy.close();
        b.workbench->setLessonFolder(b.dir.path() + "/lessons");
        QVERIFY(b.workbench->startLesson(QStringLiteral("you-are-the-judge"), 1, false));
        QSignalSpy completed(b.lesson, &LessonSession::completed);
        QVERIFY(b.lesson->waiting());
        b.panel->choiceButtons().front()->click();
        QVERIFY(b.controller->hasActiveRun());
        int labels = 0;
        while (completed.isEmpty()) {
            QVERIFY(QTest::qWaitFor([&] { return !completed.isEmpty() || b.window->labelingView()->currentPairIndex() >= 0; },
                                    kWaitMs));
            if (!completed.isEmpty()) break;
            QTest::keyClick(b.window->labelingView(), labels % 2 ? Qt::Key_1 : Qt::Key_2);
            ++labels;
        }
        QVERIFY2(labels >= 40, qPrintable(QString::number(labels)));  // 4 pairs a step for 10 steps
        QCOMPARE(queryInt64(b.setup.databasePath, "SELECT COUNT(*) FROM labels WHERE source = 'human' AND annotator = 'student'"),
                 static_cast<int64_t>(labels));
        const auto checks = completed.front().front().value<QVector<LessonCheckResult>>();
        QCOMPARE(checks.size(), 2);
        QVERIFY(!b.lesson->engine()->series("you", "gold/label_agreement").empty());
        QVERIFY(b.panel->narrationText().contains(QStringLiteral("Agreement with the true reward: ")));
        for (const LessonCheckResult& c : checks) QVERIFY(b.panel->narrationText().contains(QString::fromStdString(c.evidence)));
    }

    void stoppingTheRunStopsTheLesson() {
        LessonBench b;
        QSignalSpy stopped(b.lesson, &LessonSession::stopped);
        QVERIFY(b.workbench->startLesson(QStringLiteral("tiny-lesson"), 1, false));
        b.panel->choiceButtons().front()->click();
        QVERIFY(b.controller->hasActiveRun());
        b.controller->stop();  // the window's Stop
        QTRY_COMPARE_WITH_TIMEOUT(stopped.count(), 1, kWaitMs);
        QVERIFY2(stopped.front().front().toString().contains(QStringLiteral("ended before its last step")),
                 qPrintable(stopped.front().front().toString()));
        QVERIFY(!b.lesson->active());
        QVERIFY(b.panel->narrationText().contains(QStringLiteral("The lesson stopped")));
    }
};

PREFLAB_GUI_TEST_MAIN(TestLessonView)
#include "tst_lesson_view.moc"
