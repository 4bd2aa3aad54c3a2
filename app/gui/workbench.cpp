#include "app/gui/workbench.h"

#include "app/gui/first_run.h"
#include "app/session/training_worker.h"
#include "core/values/model_names.h"
#include "ui/lesson_list_dialog.h"
#include "ui/lesson_panel.h"
#include "ui/message_banner.h"
#include "ui/metric_plots.h"
#include "ui/adjudication_view.h"
#include "ui/data_browser.h"
#include "ui/guidelines_dialog.h"
#include "ui/labeling_view.h"

#include <QFileDialog>
#include <QMessageBox>
#include <QStatusBar>

namespace preflab {

Workbench::Workbench(const QString& databasePath, const QString& dataDir, QObject* parent)
    : QObject(parent),
      m_controller(std::make_unique<RunController>(databasePath, dataDir)),
      m_reader(std::make_unique<DatabaseReader>(databasePath)),
      m_window(std::make_unique<MainWindow>(m_reader.get(), databasePath, dataDir)) {
    RunController* c = m_controller.get();
    MainWindow* w = m_window.get();
    LabelingView* labeling = w->labelingView();

    // Requests from the widgets.
    connect(w, &MainWindow::startRequested, this, &Workbench::startRun);
    connect(w, &MainWindow::pauseRequested, c, &RunController::pause);
    connect(w, &MainWindow::resumeRequested, c, &RunController::resume);
    connect(w, &MainWindow::stopRequested, c, &RunController::stop);
    // A person's labels go to the labeling project when one is on, else to the run.
    connect(labeling, &LabelingView::labelGiven, this, [this, c, labeling](const Judgement& j) {
        if (m_project) return m_project->label(j);
        if (!c->label(j)) labeling->refuseLabel(j.pairIndex);
    });
    connect(labeling, &LabelingView::responseLabelGiven, this,
            [this](qint64 responseId, bool desirable, const QString& annotator, qint64 timeMs, double seconds) {
                if (m_project) m_project->labelResponse(responseId, desirable, annotator, timeMs, seconds);
            });
    connect(labeling, &LabelingView::editGiven, this,
            [this, c, labeling](const PairForJudging& pair, Choice side, const QString& text, const QString& annotator,
                                qint64 timeMs, double seconds) {
                if (m_project) m_project->edit(pair.pairIndex, side, text, annotator, timeMs, seconds);
                else c->edit(pair.pairIndex, side, text, annotator, timeMs, seconds);
            });
    connect(labeling, &LabelingView::responseSkipped, this, [this](qint64 responseId) {
        if (m_project) m_project->skipResponse(responseId);
    });
    connect(labeling, &LabelingView::undoRequested, this, [this, c, labeling] {
        if (m_project) return m_project->undoLast();  // answered through undone()
        PairForJudging pair;
        const UndoResult result = c->undoLastLabel(&pair);
        labeling->answerUndo(result, pair);
    });
    connect(labeling, &LabelingView::annotatorChanged, this, [this](const QString& name) {
        if (m_project) m_project->setAnnotator(name);
    });
    connect(w, &MainWindow::projectRequested, this, &Workbench::startProject);
    connect(w, &MainWindow::projectStopRequested, this, &Workbench::stopProject);
    connect(labeling, &LabelingView::correctionGiven, c, &RunController::correct);
    connect(w->dataBrowser(), &DataBrowser::relabelRequested, c, &RunController::relabel);
    connect(w->adjudication(), &AdjudicationView::adjudicateRequested, c, &RunController::adjudicate);

    // What the run does.
    connect(c, &RunController::runStarting, this, &Workbench::wireRun);
    connect(c, &RunController::runStarted, w, &MainWindow::runStarted);
    connect(c, &RunController::runEnded, w, &MainWindow::runEnded);
    connect(c, &RunController::labelQueueChanged, labeling, &LabelingView::setLabelQueue);
    connect(c, &RunController::labelsSaved, labeling, &LabelingView::setSavedLabels);
    connect(c, &RunController::writeFailed, w, &MainWindow::showWriteError);

    // The guidelines in force open beside the pair when a session starts
    // (a run's own, else every stored pair's), and close when it ends.
    connect(m_reader.get(), &DatabaseReader::guidelinesLoaded, labeling,
            [this, labeling](quint64 request, const QString& text) {
                if (request == m_guidelinesRequest) labeling->setGuidelines(text);
                if (request != m_guidelinesEditRequest) return;
                // Opened on the guidelines as stored; saved through the writer.
                auto* dialog = new GuidelinesDialog(text, m_window.get());
                dialog->setAttribute(Qt::WA_DeleteOnClose);
                connect(dialog, &QDialog::accepted, this, [this, dialog] { saveGuidelines(dialog->markdown()); });
                dialog->open();
            });
    connect(w, &MainWindow::guidelinesEditRequested, this,
            [this] { m_guidelinesEditRequest = m_reader->loadGuidelines(0); });
    connect(c, &RunController::runStarted, this,
            [this](qint64 runId, const RunConfig&) { m_guidelinesRequest = m_reader->loadGuidelines(runId); });
    connect(c, &RunController::runEnded, labeling, [this, labeling] {
        m_guidelinesRequest = 0;
        labeling->setGuidelines({});
    });

    wireLesson();
    setLessonFolder(QStringLiteral(":/lessons"));
}

void Workbench::setLessonFolder(const QString& folder) {
    try {
        m_lessons = readLessonFolder(folder.toStdString());
    } catch (const std::exception& e) {
        m_lessons.clear();
        m_window->showTrainingError(tr("The lessons could not be read: %1").arg(QString::fromUtf8(e.what())));
    }
}

void Workbench::wireLesson() {
    MainWindow* w = m_window.get();
    LessonPanel* panel = w->lessonPanel();
    m_lesson = std::make_unique<LessonSession>(m_controller.get(), [this](const RunConfig& c) { return startRun(c); });
    LessonSession* l = m_lesson.get();
    connect(w, &MainWindow::lessonsRequested, this, &Workbench::openLessons);
    connect(l, &LessonSession::started, panel, [panel, l](const QString& title, const QString& summary, qint64 seed) {
        panel->begin(title, summary, seed, l->stepMode());
    });
    connect(l, &LessonSession::runBegins, panel, &LessonPanel::beginRun);
    connect(l, &LessonSession::runBegins, w, [w] { w->plots()->highlightMetric({}); });
    connect(l, &LessonSession::preparing, panel, &LessonPanel::setPreparing);
    connect(l, &LessonSession::eventsReady, panel, &LessonPanel::showEvents);
    connect(l, &LessonSession::eventsReady, w, [w](const QVector<LessonEvent>& events) {
        for (const LessonEvent& e : events) {
            if (!e.plot.empty()) w->plots()->highlightMetric(QString::fromStdString(e.plot));
        }
    });
    connect(l, &LessonSession::bestOfNReady, panel, &LessonPanel::showBestOfN);
    connect(l, &LessonSession::waitingChanged, panel, &LessonPanel::setWaiting);
    connect(l, &LessonSession::completed, panel, &LessonPanel::showChecks);
    connect(l, &LessonSession::stopped, panel, &LessonPanel::showStopped);
    connect(panel, &LessonPanel::continueRequested, l, &LessonSession::continueLesson);
    connect(panel, &LessonPanel::answerGiven, l, &LessonSession::answer);
    connect(panel, &LessonPanel::stepModeChanged, l, &LessonSession::setStepMode);
    connect(panel, &LessonPanel::replayRequested, this, [this](qint64 seed) {
        const LessonState s = m_lesson->state();
        if (!s.lesson.empty()) startLesson(QString::fromStdString(s.lesson), seed, m_lesson->stepMode());
    });
    connect(panel, &LessonPanel::saveRequested, this, [this] {
        const QString file = QFileDialog::getSaveFileName(
            m_window.get(), tr("Save the lesson"),
            QString::fromStdString(m_lesson->state().lesson) + QStringLiteral(".preflab-lesson"),
            tr("PrefLab lessons (*.preflab-lesson)"));
        if (!file.isEmpty()) saveLessonState(file);
    });
    connect(panel, &LessonPanel::closeRequested, this, [this] {
        m_lesson->stop();
        m_window->plots()->highlightMetric({});
        m_window->showLessonPanel(false);
    });
}

void Workbench::openLessons() {
    LessonListDialog dialog(m_lessons, m_window.get());
    if (dialog.exec() != QDialog::Accepted) return;
    if (!dialog.savedStatePath().isEmpty()) {
        openLessonState(dialog.savedStatePath());
        return;
    }
    if (const Lesson* l = dialog.chosenLesson()) startLesson(*l, dialog.seed(), dialog.stepMode());
}

bool Workbench::startLesson(const QString& id, qint64 seed, bool stepMode) {
    for (const Lesson& l : m_lessons) {
        if (QString::fromStdString(l.id) == id) return startLesson(l, seed < 0 ? l.seed : seed, stepMode);
    }
    m_window->runRefused(tr("There is no lesson “%1” (Help → Lessons lists them).").arg(id));
    return false;
}

bool Workbench::startLesson(const Lesson& lesson, qint64 seed, bool stepMode, const std::string& resumeAt) {
    // The starter model first, where a run or a preparation uses it.
    bool needsStarter = false;
    for (const LessonRun& run : lesson.runs) {
        needsStarter |= run.kind == LessonRunKind::BestOfN || run.prepare.rewardModelPairs > 0 ||
                        run.prepare.offlinePairs > 0 || isStarterModel(lessonRunConfig(lesson, run, seed).model);
    }
    if (needsStarter && !m_controller->starterModelReady()) {
        pretrainWithDialog(m_window.get(), m_controller.get(), [this, lesson, seed, stepMode, resumeAt](bool ok) {
            if (ok) startLesson(lesson, seed, stepMode, resumeAt);
        });
        return true;  // it starts once the starter model is ready
    }
    if (m_controller->hasActiveRun()) {
        m_window->runRefused(tr("Stop the run first: a lesson starts runs of its own."));
        return false;
    }
    stopProject();
    m_window->showLessonPanel(true);
    m_lesson->start(lesson, seed, stepMode, resumeAt);
    return true;
}

bool Workbench::openLessonState(const QString& path) {
    try {
        const LessonState s = readLessonStateFile(path.toStdString());
        for (const Lesson& l : m_lessons) {
            if (l.id != s.lesson) continue;
            if (!s.reachedCue.empty() &&
                std::none_of(l.cues.begin(), l.cues.end(), [&](const LessonCue& c) { return c.id == s.reachedCue; })) {
                throw LessonError(path.toStdString() + ": reached_cue: lesson " + l.id + " has no cue '" +
                                  s.reachedCue + "'");
            }
            return startLesson(l, s.seed, s.stepMode, s.reachedCue);
        }
        throw LessonError(path.toStdString() + ": lesson: no lesson '" + s.lesson + "' in this PrefLab");
    } catch (const std::exception& e) {
        QMessageBox::warning(m_window.get(), tr("PrefLab"), QString::fromUtf8(e.what()));
        return false;
    }
}

bool Workbench::saveLessonState(const QString& path) {
    try {
        writeLessonStateFile(m_lesson->state(), path.toStdString());
        m_window->statusBar()->showMessage(tr("Saved the lesson to %1").arg(path), 6000);
        return true;
    } catch (const std::exception& e) {
        QMessageBox::warning(m_window.get(), tr("PrefLab"), QString::fromUtf8(e.what()));
        return false;
    }
}

Workbench::~Workbench() {
    m_lesson.reset();  // before the window and the controller it drives
    m_window.reset();
    m_controller.reset();
    m_reader.reset();
}

void Workbench::wireRun(TrainingWorker* worker) {
    // The worker lives on the training thread: these connections are queued,
    // and they end with it.
    MainWindow* w = m_window.get();
    connect(worker, &TrainingWorker::metricsReady, w, &MainWindow::addLiveMetrics);
    connect(worker, &TrainingWorker::pairGenerated, w->labelingView(), &LabelingView::showWatchedPair);
    connect(worker, &TrainingWorker::progress, w, &MainWindow::showProgress);
    connect(worker, &TrainingWorker::stateChanged, w, &MainWindow::showRunState);
    connect(worker, &TrainingWorker::failed, w, &MainWindow::showTrainingError);
    connect(worker, &TrainingWorker::warningRaised, w, &MainWindow::showRunWarning);
}

void Workbench::saveGuidelines(const QString& markdown) {
    m_controller->saveGuidelines(markdown, m_window->labelingView()->annotator());
    // A project reads every stored pair's guidelines: it shows the new ones
    // now (a run keeps its own, if it has them, until it ends).
    if (m_project) m_window->labelingView()->setGuidelines(markdown.trimmed());
}

bool Workbench::startProject(int overlap, LabelingMode mode) {
    MainWindow* w = m_window.get();
    LabelingView* labeling = w->labelingView();
    if (m_controller->hasActiveRun()) {
        w->statusBar()->showMessage(tr("Stop the run first: a labeling project labels stored pairs without training."), 6000);
        return false;
    }
    stopProject();
    m_project = std::make_unique<LabelingProjectSession>(m_reader.get(), m_controller->sharedWriter(), overlap, mode);
    LabelingProjectSession* project = m_project.get();
    connect(project, &LabelingProjectSession::queueChanged, labeling, &LabelingView::setLabelQueue);
    connect(project, &LabelingProjectSession::saved, labeling, &LabelingView::setSavedLabels);
    connect(project, &LabelingProjectSession::undone, labeling, [labeling](bool retracted, const PairForJudging& pair) {
        labeling->answerUndo(retracted ? UndoResult::Retracted : UndoResult::Nothing, pair);
    });
    connect(project, &LabelingProjectSession::progress, w, [w, overlap, mode](qint64 complete, qint64 total) {
        w->statusBar()->showMessage(mode == LabelingMode::Thumbs
                                        ? tr("Thumbs mode: %1 of %2 responses have %3 annotators").arg(complete).arg(total).arg(overlap)
                                        : tr("Labeling project: %1 of %2 pairs have %3 annotators").arg(complete).arg(total).arg(overlap));
    });
    connect(project, &LabelingProjectSession::failed, w, &MainWindow::showWriteError);
    labeling->setProject(overlap, mode);
    m_guidelinesRequest = m_reader->loadGuidelines(0);
    w->showProjectLayout(true);
    project->setAnnotator(labeling->annotator());
    w->showTab(w->labelingTab());
    labeling->setFocus();
    return true;
}

void Workbench::stopProject() {
    if (!m_project) return;
    m_project.reset();  // its labels stay queued in the controller's writer
    m_guidelinesRequest = 0;
    m_window->labelingView()->setGuidelines({});
    m_window->labelingView()->clearProject();
    m_window->showProjectLayout(false);
    m_window->statusBar()->clearMessage();
}

bool Workbench::startRun(const RunConfig& config) {
    stopProject();
    if (isStarterModel(config.model) && !m_controller->starterModelReady()) {
        Q_EMIT starterModelNeeded(config);
        return false;
    }
    QString error;
    if (!m_controller->startRun(config, &error)) {
        m_window->runRefused(error);
        return false;
    }
    m_window->runAccepted(config);
    return true;
}

}  // namespace preflab
