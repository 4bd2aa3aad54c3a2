#include "ui/main_window.h"

#include "core/method/method_registry.h"
#include "ui/data_browser.h"
#include "ui/labeling_view.h"
#include "ui/message_banner.h"
#include "ui/metric_plots.h"
#include "ui/run_history.h"
#include "ui/run_panel.h"

#include "core/judges/make_judge.h"
#include "core/loop/run_config.h"
#include "preflab_version.h"

#include <QApplication>
#include <QCloseEvent>
#include <QDockWidget>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QProgressBar>
#include <QSettings>
#include <QSplitter>
#include <QStatusBar>
#include <QTabWidget>
#include <QVBoxLayout>

namespace preflab {

MainWindow::MainWindow(RunController* controller, DatabaseReader* reader, QWidget* parent)
    : QMainWindow(parent), m_controller(controller), m_reader(reader) {
    setObjectName(QStringLiteral("PrefLabMainWindow"));
    m_panel = new RunPanel;
    m_labeling = new LabelingView(controller);
    m_plots = new MetricPlots;
    m_data = new DataBrowser(reader, controller);
    m_history = new RunHistory(reader);
    m_banner = new MessageBanner;

    m_liveSplit = new QSplitter(Qt::Vertical);
    m_liveSplit->addWidget(m_labeling);
    m_liveSplit->addWidget(m_plots);
    m_liveSplit->setStretchFactor(0, 2);
    m_liveSplit->setStretchFactor(1, 3);
    m_liveSplit->setChildrenCollapsible(false);
    m_tabs = new QTabWidget;
    m_tabs->addTab(m_liveSplit, tr("Label && watch"));
    m_tabs->addTab(m_data, tr("Samples && data"));
    m_tabs->addTab(m_history, tr("Run history"));
    connect(m_tabs, &QTabWidget::currentChanged, this, [this](int i) {
        if (m_tabs->widget(i) == m_data && m_data->model()->rowCount() == 0) m_data->applyFilter();
        if (m_tabs->widget(i) == m_history) m_history->refresh();
        if (m_tabs->widget(i) == m_liveSplit) m_labeling->setFocus();
    });

    auto* central = new QWidget;
    auto* layout = new QVBoxLayout(central);
    layout->setContentsMargins(6, 6, 6, 0);
    layout->addWidget(m_banner);
    layout->addWidget(m_tabs, 1);
    setCentralWidget(central);

    auto* dock = new QDockWidget(tr("Run"));
    dock->setObjectName(QStringLiteral("RunDock"));
    dock->setWidget(m_panel);
    dock->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable);
    m_panel->setMinimumWidth(300);
    addDockWidget(Qt::LeftDockWidgetArea, dock);

    m_stateLabel = new QLabel(tr("No run"));
    m_speedLabel = new QLabel;
    m_progress = new QProgressBar;
    m_progress->setMaximumWidth(260);
    m_progress->setFormat(tr("step %v of %m"));
    m_progress->setRange(0, 1);
    m_progress->setValue(0);
    statusBar()->addWidget(m_stateLabel, 1);
    statusBar()->addPermanentWidget(m_speedLabel);
    statusBar()->addPermanentWidget(m_progress);

    QMenu* file = menuBar()->addMenu(tr("&File"));
    file->addAction(tr("&Preferences..."), QKeySequence::Preferences, this, &MainWindow::editPreferences);
    file->addSeparator();
    file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);
    QMenu* run = menuBar()->addMenu(tr("&Run"));
    run->addAction(tr("&Start"), this, [this] { startRun(m_panel->config()); });
    run->addAction(tr("&Pause / resume"), this, [this] {
        if (m_controller->state() == RunState::Paused) m_controller->resume();
        else m_controller->pause();
    });
    run->addAction(tr("S&top"), m_controller, &RunController::stop);
    QMenu* help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&Labeling keys"), this, &MainWindow::showShortcuts);
    help->addAction(tr("&About PrefLab"), this, [this] {
        QMessageBox::about(this, tr("About PrefLab"),
                           tr("<b>PrefLab %1</b><p>A workbench for aligning language models with preferences.</p>"
                              "<p>Database: %2<br>Data: %3</p>")
                               .arg(QStringLiteral(PREFLAB_CODE_VERSION), m_controller->databasePath().toHtmlEscaped(),
                                    m_controller->dataDir().toHtmlEscaped()));
    });

    connect(m_panel, &RunPanel::startRequested, this, [this](const RunConfig& c) { startRun(c); });
    connect(m_panel, &RunPanel::pauseRequested, m_controller, &RunController::pause);
    connect(m_panel, &RunPanel::resumeRequested, m_controller, &RunController::resume);
    connect(m_panel, &RunPanel::stopRequested, m_controller, &RunController::stop);
    connect(m_panel, &RunPanel::openRunsRequested, this, [this] { m_tabs->setCurrentWidget(m_history); });

    connect(m_controller, &RunController::runStarted, this, &MainWindow::onRunStarted);
    connect(m_controller, &RunController::metricsReady, this, [this](const QVector<MetricSample>& s) {
        if (m_shownRun == m_controller->activeRunId()) m_plots->addSamples(s);
    });
    connect(m_controller, &RunController::pairGenerated, m_labeling, &LabelingView::showWatchedPair);
    connect(m_controller, &RunController::progress, this, &MainWindow::onProgress);
    connect(m_controller, &RunController::stateChanged, this, &MainWindow::onStateChanged);
    connect(m_controller, &RunController::failed, this, [this](const QString& m) {
        m_banner->showMessage(tr("<b>Training stopped:</b> %1<br>The run is paused; everything stored so far is kept. "
                                 "Change a setting and start a new run, or stop this one.")
                                  .arg(m.toHtmlEscaped()),
                              MessageBanner::Kind::Error);
    });
    connect(m_controller, &RunController::writeFailed, this, [this](const QString& m) {
        m_banner->showMessage(tr("<b>Saving failed:</b> %1").arg(m.toHtmlEscaped()), MessageBanner::Kind::Error);
    });
    connect(m_controller, &RunController::runEnded, this, &MainWindow::onRunEnded);
    connect(m_controller, &RunController::labelQueueChanged, m_labeling, &LabelingView::refreshQueue);
    connect(m_labeling, &LabelingView::statusMessage, this, [this](const QString& m) { statusBar()->showMessage(m, 4000); });

    connect(m_plots, &MetricPlots::stepClicked, this, [this](qint64 step) {
        if (m_shownRun <= 0) return;
        m_data->showTrainedAt(m_shownRun, step);
        m_tabs->setCurrentWidget(m_data);
    });
    connect(m_history, &RunHistory::openRun, this, &MainWindow::openStoredRun);
    connect(m_history, &RunHistory::runsChanged, m_data, &DataBrowser::setRuns);
    connect(m_reader, &DatabaseReader::metricsLoaded, this,
            [this](quint64 request, qint64, const QVector<MetricSample>& samples) {
                if (request == m_metricsRequest) m_plots->addSamples(samples);
            });

    setPreferences(m_prefs);
    updateTitle();
    m_history->refresh();
}

void MainWindow::updateTitle() {
    setWindowTitle(tr("PrefLab \u2014 %1").arg(QFileInfo(m_controller->databasePath()).fileName()));
}

void MainWindow::setPreferences(const UiPreferences& prefs) {
    m_prefs = prefs;
    m_labeling->setKeyBindings(prefs.keys);
    m_labeling->setAnnotator(prefs.annotator);
    m_labeling->setRevealOpinions(prefs.revealOpinions);
    m_labeling->setMonospace(prefs.monospace);
    m_data->setKeyBindings(prefs.keys);
    m_data->setAnnotator(prefs.annotator);
    RunConfig c = m_panel->config();
    if (c.annotator.empty() && !prefs.annotator.isEmpty()) m_panel->setFieldText(QStringLiteral("annotator"), prefs.annotator);
}

bool MainWindow::startRun(const RunConfig& requested) {
    RunConfig config = requested;
    if (config.annotator.empty() && judgeNeedsPerson(config.judge)) config.annotator = m_prefs.annotator.toStdString();
    if (config.model == "starter" && !m_controller->starterModelReady()) {
        Q_EMIT starterModelNeeded(config);
        return false;
    }
    QString error;
    if (!m_controller->startRun(config, &error)) {
        m_banner->showMessage(tr("<b>The run did not start:</b> %1").arg(error.toHtmlEscaped()), MessageBanner::Kind::Error);
        return false;
    }
    m_banner->hide();
    m_panel->setConfig(config);  // the panel shows what runs
    m_labeling->setAnnotator(QString::fromStdString(config.annotator));
    // CPO, DR-CPO and OO-RLHF learn from numeric outcomes: a person rates.
    if (methodFamily(config.algorithm) == MethodFamily::Causal) m_labeling->setRatingMode(true);
    m_panel->setRunState(true, RunState::Starting);
    m_tabs->setCurrentWidget(m_liveSplit);
    m_labeling->setFocus();
    return true;
}

void MainWindow::onRunStarted(qint64 runId, const QString& configJson) {
    const QJsonObject c = QJsonDocument::fromJson(configJson.toUtf8()).object();
    m_shownRun = runId;
    m_metricsRequest = 0;
    m_plots->reset(tr("Run %1 \u00b7 %2 \u00b7 judge: %3 \u00b7 \u03b2 %4 \u00b7 live")
                       .arg(runId)
                       .arg(c.value(QStringLiteral("algorithm")).toString().toUpper(), c.value(QStringLiteral("judge")).toString())
                       .arg(c.value(QStringLiteral("beta")).toDouble()),
                   c.value(QStringLiteral("kl_estimator")).toString(), c.value(QStringLiteral("algorithm")).toString());
    m_labeling->runChanged();
    m_lastStep = -1;
    m_stepsPerSecond = 0;
    m_history->refresh();
}

void MainWindow::onStateChanged(RunState state, const QString& message) {
    m_panel->setRunState(m_controller->hasActiveRun(), state);
    QString text = tr("Run %1: %2").arg(m_controller->activeRunId()).arg(toDisplayString(state));
    if (state == RunState::WaitingForLabels) text += tr(" \u2014 label pairs to continue training");
    if (!message.isEmpty()) text += QStringLiteral(" (%1)").arg(message);
    m_stateLabel->setText(text);
}

void MainWindow::onProgress(qint64 step, qint64 total) {
    m_progress->setRange(0, static_cast<int>(std::max<qint64>(1, total)));
    m_progress->setValue(static_cast<int>(step));
    if (m_lastStep < 0 || step < m_lastStep) {
        m_lastStep = step;
        m_stepClock.start();
        return;
    }
    if (step > m_lastStep && m_stepClock.elapsed() > 0) {
        const double rate = static_cast<double>(step - m_lastStep) * 1000.0 / static_cast<double>(m_stepClock.elapsed());
        m_stepsPerSecond = m_stepsPerSecond == 0 ? rate : 0.8 * m_stepsPerSecond + 0.2 * rate;
        m_speedLabel->setText(tr("%1 steps/s").arg(m_stepsPerSecond, 0, 'f', 2));
        m_lastStep = step;
        m_stepClock.restart();
    }
}

void MainWindow::onRunEnded(qint64 runId, RunState state) {
    m_panel->setRunState(false, state);
    m_stateLabel->setText(tr("Run %1 %2").arg(runId).arg(toDisplayString(state)));
    m_speedLabel->clear();
    m_labeling->runChanged();
    m_history->refresh();
    if (m_closeWhenEnded) close();
}

void MainWindow::openStoredRun(qint64 runId, const QString& configJson, const QString& status) {
    m_tabs->setCurrentWidget(m_liveSplit);
    if (runId == m_controller->activeRunId() && m_controller->hasActiveRun()) return;  // already live
    const QJsonObject c = QJsonDocument::fromJson(configJson.toUtf8()).object();
    m_shownRun = runId;
    m_plots->reset(tr("Run %1 \u00b7 %2 \u00b7 judge: %3 \u00b7 %4 (read-only)")
                       .arg(runId)
                       .arg(c.value(QStringLiteral("algorithm")).toString().toUpper(), c.value(QStringLiteral("judge")).toString(), status),
                   c.value(QStringLiteral("kl_estimator")).toString(), c.value(QStringLiteral("algorithm")).toString());
    m_metricsRequest = m_reader->loadMetrics(runId);
}

void MainWindow::editPreferences() {
    PreferencesDialog dialog(m_prefs, this);
    if (dialog.exec() == QDialog::Accepted) setPreferences(dialog.preferences());
}

void MainWindow::showShortcuts() {
    QString rows;
    for (LabelAction a : KeyBindings::actions()) {
        rows += QStringLiteral("<tr><td>%1</td><td><b>%2</b></td></tr>").arg(KeyBindings::actionName(a), m_prefs.keys.caption(a));
    }
    QMessageBox::information(this, tr("Labeling keys"),
                             tr("<table cellspacing=6>%1</table><p>In rating mode, 1-7 rates A and then B.</p>"
                                "<p>Change the keys in File \u2192 Preferences.</p>")
                                 .arg(rows));
}

void MainWindow::loadSettings(QSettings& s) {
    restoreGeometry(s.value(QStringLiteral("window/geometry")).toByteArray());
    restoreState(s.value(QStringLiteral("window/state")).toByteArray());
    m_liveSplit->restoreState(s.value(QStringLiteral("window/live_split")).toByteArray());
    UiPreferences p;
    p.annotator = s.value(QStringLiteral("annotator")).toString();
    p.revealOpinions = s.value(QStringLiteral("reveal_opinions"), true).toBool();
    p.monospace = s.value(QStringLiteral("monospace"), false).toBool();
    p.keys.load(s);
    const QString config = s.value(QStringLiteral("run/last_config")).toString();
    if (!config.isEmpty()) {
        RunConfig c;
        if (parseRunConfigJson(config.toStdString(), c).empty()) m_panel->setConfig(c);
    }
    setPreferences(p);
}

void MainWindow::saveSettings(QSettings& s) const {
    s.setValue(QStringLiteral("window/geometry"), saveGeometry());
    s.setValue(QStringLiteral("window/state"), saveState());
    s.setValue(QStringLiteral("window/live_split"), m_liveSplit->saveState());
    s.setValue(QStringLiteral("annotator"), m_prefs.annotator);
    s.setValue(QStringLiteral("reveal_opinions"), m_prefs.revealOpinions);
    s.setValue(QStringLiteral("monospace"), m_prefs.monospace);
    m_prefs.keys.save(s);
    s.setValue(QStringLiteral("run/last_config"), QString::fromStdString(runConfigToJson(m_panel->config())));
}

void MainWindow::closeEvent(QCloseEvent* event) {
    if (m_controller->hasActiveRun()) {
        // Stop, and close once the run has saved its last step and every label.
        m_closeWhenEnded = true;
        m_stateLabel->setText(tr("Stopping the run and saving before closing..."));
        m_controller->stop();
        event->ignore();
        return;
    }
    m_controller->flushWrites();
    event->accept();
}

}  // namespace preflab
