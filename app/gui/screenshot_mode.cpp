#include "app/gui/screenshot_mode.h"

#include "app/gui/first_run.h"
#include "app/gui/workbench.h"
#include "app/session/starter_model_job.h"
#include "core/values/judge_registry.h"
#include "core/values/method_registry.h"
#include "core/values/metric_names.h"
#include "ui/adjudication_view.h"
#include "ui/agreement_view.h"
#include "ui/completions_view.h"
#include "ui/edit_response_dialog.h"
#include "ui/labeling_view.h"
#include "ui/lesson_panel.h"
#include "ui/main_window.h"
#include "ui/method_frontiers.h"
#include "ui/metric_plots.h"
#include "ui/run_comparison.h"
#include "ui/run_history.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QPainter>
#include <QPushButton>
#include <QTimer>

#include <algorithm>
#include <cstdio>

namespace preflab {

void addScreenshotOptions(QCommandLineParser& p) {
    p.addOption({QStringLiteral("screenshot"),
                 QStringLiteral("Start a short demo run, render the window (--screenshot-size) to FILE once the plots hold 20 steps, and exit."),
                 QStringLiteral("file")});
    p.addOption({QStringLiteral("screenshot-judge"),
                 QStringLiteral("The judge of the --screenshot run (task, or human+task to show the labeling view)."),
                 QStringLiteral("judge"), QString::fromUtf8(judgeName(JudgeKind::Task))});
    p.addOption({QStringLiteral("screenshot-size"), QStringLiteral("The window's size for --screenshot (WIDTHxHEIGHT)."),
                 QStringLiteral("size"), QStringLiteral("1440x900")});
    p.addOption({QStringLiteral("screenshot-tab"),
                 QStringLiteral("What --screenshot renders: live (the run's curves), compare (every run in the database "
                                "overlaid against exact KL), completions (the run's responses across steps), frontiers "
                                "(the method comparison in --comparison DIR; no run), agreement (the database's "
                                "annotators; no run), adjudication (the pairs they disagree on; no run), project (a "
                                "labeling project over the stored pairs; no run) or edit (the project with the editor of "
                                "edit to prefer open; no run)."),
                 QStringLiteral("tab"), QStringLiteral("live")});
    p.addOption({QStringLiteral("screenshot-lesson"),
                 QStringLiteral("Play this lesson in step mode and render the window when it pauses at --screenshot-cue "
                                "(default: its first pause), narration panel and plots mid-run; then stop and exit."),
                 QStringLiteral("lesson")});
    p.addOption({QStringLiteral("screenshot-cue"), QStringLiteral("The cue of --screenshot-lesson to render at."),
                 QStringLiteral("cue")});
    p.addOption({QStringLiteral("screenshot-step"),
                 QStringLiteral("Render the --screenshot run once its plots reach this step (default 20)."),
                 QStringLiteral("step"), QStringLiteral("20")});
    p.addOption({QStringLiteral("screenshot-set"),
                 QStringLiteral("A setting of the --screenshot run, KEY=VALUE as `preflab run` takes it (repeatable; e.g. "
                                "reward_model=rm.pt, steps=120)."),
                 QStringLiteral("key=value")});
    p.addOption({QStringLiteral("screenshot-algorithm"), QStringLiteral("The method of the --screenshot run (e.g. cpo, ppo)."),
                 QStringLiteral("algorithm"), QString::fromUtf8(methodName(Method::OnlineDpo))});
}

int runScreenshot(const QCommandLineParser& p, Workbench& workbench) {
    Workbench* wb = &workbench;
    MainWindow* w = wb->window();
    RunController* c = wb->controller();
    const QString file = p.value("screenshot");
    const QStringList size = p.value("screenshot-size").split(QLatin1Char('x'));
    const int width = size.value(0).toInt(), height = size.value(1).toInt();
    if (size.size() != 2 || width < 320 || height < 240) {
        std::fprintf(stderr, "preflab: --screenshot-size %s: expected WIDTHxHEIGHT, at least 320x240\n",
                     qPrintable(p.value("screenshot-size")));
        return 2;
    }
    w->resize(width, height);
    w->show();
    // Saves the window once a tab has drawn what it loaded (a moment after, so the paint is done).
    auto saveWindow = [w, file = p.value("screenshot")] {
        QTimer::singleShot(100, w, [w, file] {
            const bool ok = w->grab().save(file);
            std::printf("preflab: %s %s\n", ok ? "wrote" : "could not write", qPrintable(file));
            QApplication::exit(ok ? 0 : 1);
        });
    };
    if (p.isSet("screenshot-lesson")) {
        // Answers every question with its first choice, continues past the
        // pauses before the cue, and renders the window at the cue.
        LessonSession* lesson = wb->lesson();
        const QString cue = p.value("screenshot-cue");
        QObject::connect(lesson, &LessonSession::eventsReady, w, [w] {
            const QList<QPushButton*> choices = w->lessonPanel()->choiceButtons();
            if (!choices.isEmpty()) choices.front()->click();
        });
        QObject::connect(lesson, &LessonSession::waitingChanged, w, [w, c, lesson, cue, file](bool waiting) {
            if (!waiting) return;
            if (!cue.isEmpty() && QString::fromStdString(lesson->state().reachedCue) != cue) {
                QTimer::singleShot(0, lesson, &LessonSession::continueLesson);
                return;
            }
            QTimer::singleShot(300, w, [w, c, lesson, file] {
                const bool ok = w->grab().save(file);
                std::printf("preflab: %s %s\n", ok ? "wrote" : "could not write", qPrintable(file));
                lesson->stop();
                if (!c->hasActiveRun()) return QApplication::exit(ok ? 0 : 1);
                QObject::connect(c, &RunController::runEnded, w, [ok] { QApplication::exit(ok ? 0 : 1); });
            });
        });
        QObject::connect(lesson, &LessonSession::stopped, w, [](const QString& reason) {
            std::fprintf(stderr, "preflab: the lesson stopped: %s\n", qPrintable(reason));
            QApplication::exit(1);
        });
        QObject::connect(lesson, &LessonSession::completed, w, [cue] {
            std::fprintf(stderr, "preflab: the lesson ended without pausing at cue %s\n", qPrintable(cue));
            QApplication::exit(1);
        });
        QTimer::singleShot(0, w, [wb, id = p.value("screenshot-lesson")] {
            if (!wb->startLesson(id, -1, true)) QApplication::exit(1);
        });
        return QApplication::exec();
    }
    if (p.value("screenshot-tab") == QLatin1String("agreement")) {
        AgreementView* a = w->agreement();
        QObject::connect(a, &AgreementView::loaded, w, saveWindow, Qt::SingleShotConnection);
        w->showTab(a);
        return QApplication::exec();
    }
    if (p.value("screenshot-tab") == QLatin1String("project")) {
        w->labelingView()->setAnnotator(QStringLiteral("screenshot"));
        if (!wb->startProject(2)) return 1;
        QObject::connect(wb->project(), &LabelingProjectSession::queueChanged, w, saveWindow, Qt::SingleShotConnection);
        return QApplication::exec();
    }
    if (p.value("screenshot-tab") == QLatin1String("edit")) {
        // A project's first pair with the editor open on its right response,
        // drawn over the window as it appears on screen.
        w->labelingView()->setAnnotator(QStringLiteral("screenshot"));
        if (!wb->startProject(2)) return 1;
        QObject::connect(wb->project(), &LabelingProjectSession::queueChanged, w, [w, file = p.value("screenshot")] {
            QTimer::singleShot(100, w, [w, file] {
                w->labelingView()->trigger(LabelAction::Edit);
                auto* dialog = w->labelingView()->findChild<EditResponseDialog*>();
                if (!dialog) return QApplication::exit(1);
                dialog->startFromRight();
                dialog->setText(dialog->text() + QStringLiteral("\n\n(Edited: the answer I would prefer.)"));
                QTimer::singleShot(100, w, [w, dialog, file] {
                    QPixmap shot = w->grab();
                    QPainter painter(&shot);
                    const QPixmap d = dialog->grab();
                    painter.drawPixmap((shot.width() - d.width()) / 2, (shot.height() - d.height()) / 2, d);
                    painter.end();
                    const bool ok = shot.save(file);
                    std::printf("preflab: %s %s\n", ok ? "wrote" : "could not write", qPrintable(file));
                    QApplication::exit(ok ? 0 : 1);
                });
            });
        }, Qt::SingleShotConnection);
        return QApplication::exec();
    }
    if (p.value("screenshot-tab") == QLatin1String("adjudication")) {
        AdjudicationView* a = w->adjudication();
        QObject::connect(a, &AdjudicationView::loaded, w, saveWindow, Qt::SingleShotConnection);
        w->showTab(a);
        return QApplication::exec();
    }
    if (p.value("screenshot-tab") == QLatin1String("frontiers")) {
        if (!p.isSet("comparison")) {
            std::fprintf(stderr, "preflab: --screenshot-tab frontiers needs --comparison DIR\n");
            return 2;
        }
        MethodFrontiers* f = w->methodFrontiers();
        w->showTab(f);
        QObject::connect(f, &MethodFrontiers::failed, w, [](const QString& m) {
            std::fprintf(stderr, "preflab: %s\n", qPrintable(m));
            QApplication::exit(1);
        });
        QObject::connect(f, &MethodFrontiers::loaded, w, saveWindow);
        f->openFolder(p.value("comparison"));
        return QApplication::exec();
    }
    RunConfig demo = demoConfig();
    demo.judge = p.value("screenshot-judge").toStdString();
    if (p.isSet("screenshot-algorithm")) demo.algorithm = p.value("screenshot-algorithm").toStdString();
    if (judgeNeedsPerson(demo.judge)) demo.annotator = "screenshot";
    demo.steps = 60;
    demo.evalEvery = 10;
    demo.evalSamples = 32;
    for (const QString& kv : p.values("screenshot-set")) {
        const qsizetype eq = kv.indexOf(QLatin1Char('='));
        const std::string error = eq <= 0 ? "expected KEY=VALUE"
                                          : setRunConfigValue(demo, kv.left(eq).toStdString(), kv.mid(eq + 1).toStdString());
        if (!error.empty()) {
            std::fprintf(stderr, "preflab: --screenshot-set %s: %s\n", qPrintable(kv), error.c_str());
            return 2;
        }
    }
    auto start = [wb, demo] { wb->startRun(demo); };
    if (c->starterModelReady()) {
        QTimer::singleShot(0, w, start);
    } else {
        std::printf("preflab: pretraining the starter model first (about 3 minutes)\n");
        auto* job = new StarterModelJob(c->starterModelPath(), 0, w);
        QObject::connect(job, &StarterModelJob::finished, w, [start](bool ok, const QString& m) {
            if (!ok) {
                std::fprintf(stderr, "preflab: %s\n", qPrintable(m));
                QApplication::exit(1);
                return;
            }
            start();
        });
        job->start();
    }
    const QString tab = p.value("screenshot-tab");
    if (tab != QLatin1String("live") && tab != QLatin1String("compare") && tab != QLatin1String("completions")) {
        std::fprintf(stderr, "preflab: --screenshot-tab %s: expected live, compare or completions\n", qPrintable(tab));
        return 2;
    }
    // Let a pending replot land, then grab, stop the run and quit.
    auto grab = [w, c, file] {
        QTimer::singleShot(100, w, [w, c, file] {
            const bool ok = w->grab().save(file);
            std::printf("preflab: %s %s\n", ok ? "wrote" : "could not write", qPrintable(file));
            c->stop();
            QObject::connect(c, &RunController::runEnded, w, [ok] { QApplication::exit(ok ? 0 : 1); });
        });
    };
    auto* poll = new QTimer(w);
    const qint64 atStep = std::max(1, p.value("screenshot-step").toInt());
    QObject::connect(poll, &QTimer::timeout, w, [w, poll, tab, grab, atStep] {
        if (w->plots()->maxStep() < atStep || w->plots()->pointCount(Metric::GoldReward) < 3) return;
        poll->stop();
        if (tab == QLatin1String("compare")) {
            RunHistory* history = w->runHistory();
            QObject::connect(w->runComparison(), &RunComparison::loaded, w, [w, grab] {
                w->runComparison()->setXAxis(RunComparison::XAxis::ExactKl);
                grab();
            }, Qt::SingleShotConnection);
            QObject::connect(history, &RunHistory::runsChanged, w, [history](const QVector<RunSummary>& runs) {
                QVector<qint64> ids;
                for (const RunSummary& r : runs) ids << r.run.id;
                history->selectRuns(ids);
                history->compareSelected();
            }, Qt::SingleShotConnection);
            history->refresh();
        } else if (tab == QLatin1String("completions")) {
            QObject::connect(w->completions(), &CompletionsView::loaded, w, grab, Qt::SingleShotConnection);
            w->showTab(w->completions());
        } else {
            grab();
        }
    });
    poll->start(100);
    return QApplication::exec();
}

}  // namespace preflab
