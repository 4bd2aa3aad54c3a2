#include "app/gui/workbench.h"

#include "app/session/training_worker.h"
#include "ui/adjudication_view.h"
#include "ui/data_browser.h"
#include "ui/labeling_view.h"

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
    connect(labeling, &LabelingView::labelGiven, this, [c, labeling](const Judgement& j) {
        if (!c->label(j)) labeling->refuseLabel(j.pairIndex);
    });
    connect(labeling, &LabelingView::undoRequested, this, [c, labeling] {
        PairForJudging pair;
        const UndoResult result = c->undoLastLabel(&pair);
        labeling->answerUndo(result, pair);
    });
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
}

Workbench::~Workbench() {
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

bool Workbench::startRun(const RunConfig& config) {
    if (config.model == "starter" && !m_controller->starterModelReady()) {
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
