#include "ui/main_window.h"

#include "ui/data_browser.h"
#include "ui/labeling_view.h"
#include "ui/lesson_panel.h"
#include "ui/message_banner.h"
#include "ui/method_frontiers.h"
#include "ui/adjudication_view.h"
#include "ui/agreement_view.h"
#include "ui/completions_view.h"
#include "ui/run_comparison.h"
#include "ui/metric_plots.h"
#include "ui/run_history.h"
#include "ui/run_panel.h"

#include "core/values/win_rate.h"
#include "core/values/run_config.h"
#include "preflab_version.h"

#include <QApplication>
#include <QCloseEvent>
#include <QDockWidget>
#include <QFileInfo>
#include <QInputDialog>
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

MainWindow::MainWindow(DatabaseReader* reader, QString databasePath, QString dataDir, QWidget* parent)
    : QMainWindow(parent), m_reader(reader), m_databasePath(std::move(databasePath)), m_dataDir(std::move(dataDir)) {
    setObjectName(QStringLiteral("PrefLabMainWindow"));
    m_panel = new RunPanel;
    m_labeling = new LabelingView;
    m_plots = new MetricPlots;
    m_data = new DataBrowser(reader);
    m_history = new RunHistory(reader);
    m_comparison = new RunComparison(reader);
    m_completions = new CompletionsView(reader);
    m_frontiers = new MethodFrontiers;
    m_agreement = new AgreementView(reader);
    m_adjudication = new AdjudicationView(reader);
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
    m_tabs->addTab(m_comparison, tr("Compare runs"));
    m_tabs->addTab(m_completions, tr("Completions"));
    m_tabs->addTab(m_frontiers, tr("Methods at matched KL"));
    m_tabs->addTab(m_agreement, tr("Agreement"));
    m_tabs->addTab(m_adjudication, tr("Adjudication"));
    connect(m_tabs, &QTabWidget::currentChanged, this, [this](int i) {
        if (m_tabs->widget(i) == m_data && m_data->model()->rowCount() == 0) m_data->applyFilter();
        if (m_tabs->widget(i) == m_history) m_history->refresh();
        if (m_tabs->widget(i) == m_completions) m_completions->setRun(m_shownRun);
        if (m_tabs->widget(i) == m_agreement) m_agreement->refresh();
        if (m_tabs->widget(i) == m_adjudication) m_adjudication->refresh();
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
    m_panel->setMinimumWidth(340);
    addDockWidget(Qt::LeftDockWidgetArea, dock);

    m_lessonPanel = new LessonPanel;
    m_lessonPanel->setMinimumWidth(360);
    m_lessonDock = new QDockWidget(tr("Lesson"));
    m_lessonDock->setObjectName(QStringLiteral("LessonDock"));
    m_lessonDock->setWidget(m_lessonPanel);
    m_lessonDock->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable);
    addDockWidget(Qt::RightDockWidgetArea, m_lessonDock);
    m_lessonDock->hide();

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
    file->addAction(tr("Open &method comparison..."), this, [this] {
        showTab(m_frontiers);
        m_frontiers->chooseFolder();
    });
    file->addSeparator();
    file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);
    QMenu* run = menuBar()->addMenu(tr("&Run"));
    run->addAction(tr("&Start"), this, [this] { requestStart(m_panel->config()); });
    run->addAction(tr("&Pause / resume"), this, [this] {
        if (m_state == RunState::Paused) Q_EMIT resumeRequested();
        else Q_EMIT pauseRequested();
    });
    run->addAction(tr("S&top"), this, &MainWindow::stopRequested);
    run->addSeparator();
    run->addAction(tr("&Label stored pairs (no training)..."), this, [this] {
        bool ok = false;
        const int overlap = QInputDialog::getInt(this, tr("Labeling project"),
                                                 tr("Each stored pair is shown until this many annotators have labeled it.\n"
                                                    "Annotators see their own A/B order and nobody else's label.\n\n"
                                                    "Annotators per pair:"),
                                                 2, 1, 50, 1, &ok);
        if (ok) Q_EMIT projectRequested(overlap, LabelingMode::Pairs);
    });
    run->addAction(tr("Label stored &responses, thumbs up or down (no training)..."), this, [this] {
        bool ok = false;
        const int overlap = QInputDialog::getInt(this, tr("Thumbs up or down"),
                                                 tr("The stored pairs' responses are shown one at a time, each until this many "
                                                    "annotators have given it a thumbs up or down.\n"
                                                    "The labels are unpaired (KTO's data: train with method kto and pairs "
                                                    "'unpaired'; export with preflab export --unpaired).\n\n"
                                                    "Annotators per response:"),
                                                 1, 1, 50, 1, &ok);
        if (ok) Q_EMIT projectRequested(overlap, LabelingMode::Thumbs);
    });
    run->addAction(tr("Stop the labeling project"), this, &MainWindow::projectStopRequested);
    run->addAction(tr("Labeling &guidelines..."), this, &MainWindow::guidelinesEditRequested);
    QMenu* help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("L&essons..."), this, &MainWindow::lessonsRequested);
    help->addAction(tr("&Labeling keys"), this, &MainWindow::showShortcuts);
    help->addAction(tr("&About PrefLab"), this, [this] {
        QMessageBox::about(this, tr("About PrefLab"),
                           tr("<b>PrefLab %1</b><p>A workbench for aligning language models with preferences.</p>"
                              "<p>Database: %2<br>Data: %3</p>")
                               .arg(QStringLiteral(PREFLAB_CODE_VERSION), m_databasePath.toHtmlEscaped(), m_dataDir.toHtmlEscaped()));
    });

    connect(m_panel, &RunPanel::startRequested, this, &MainWindow::requestStart);
    connect(m_panel, &RunPanel::pauseRequested, this, &MainWindow::pauseRequested);
    connect(m_panel, &RunPanel::resumeRequested, this, &MainWindow::resumeRequested);
    connect(m_panel, &RunPanel::stopRequested, this, &MainWindow::stopRequested);
    connect(m_panel, &RunPanel::openRunsRequested, this, [this] { m_tabs->setCurrentWidget(m_history); });
    connect(m_labeling, &LabelingView::statusMessage, this, [this](const QString& m) { statusBar()->showMessage(m, 4000); });
    // Switching annotator in the labeling view (also mid-run): the next labels
    // carry the new name; the data browser and adjudication follow.
    connect(m_labeling, &LabelingView::annotatorChanged, this, [this](const QString& name) {
        UiPreferences p = m_prefs;
        p.annotator = name;
        setPreferences(p);
        statusBar()->showMessage(name.isEmpty() ? tr("Labels from now on carry no annotator name")
                                                : tr("Labels from now on are stored as %1").arg(name), 4000);
    });

    connect(m_plots, &MetricPlots::stepClicked, this, [this](qint64 step) {
        if (m_shownRun <= 0) return;
        m_data->showTrainedAt(m_shownRun, step);
        m_tabs->setCurrentWidget(m_data);
    });
    connect(m_history, &RunHistory::openRun, this, &MainWindow::openStoredRun);
    connect(m_history, &RunHistory::compareRuns, this, [this](const QVector<qint64>& ids, const QStringList& labels) {
        m_comparison->compare(ids, labels);
        m_tabs->setCurrentWidget(m_comparison);
    });
    connect(m_history, &RunHistory::runsChanged, m_data, &DataBrowser::setRuns);
    connect(m_reader, &DatabaseReader::metricsLoaded, this,
            [this](quint64 request, qint64, const QVector<MetricRow>& rows) {
                if (request != m_metricsRequest) return;
                QVector<MetricSample> samples;
                samples.reserve(rows.size());
                for (const MetricRow& r : rows) samples.push_back({r.step, r.name, r.value, r.createdMs});
                m_plots->addSamples(samples);
            });

    setPreferences(m_prefs);
    updateTitle();
    m_history->refresh();
}

void MainWindow::showLessonPanel(bool shown) {
    m_lessonDock->setVisible(shown);
    if (shown) {
        m_tabs->setCurrentWidget(m_liveSplit);
        resizeDocks({m_lessonDock}, {qMax(380, width() / 4)}, Qt::Horizontal);
    }
}

QWidget* MainWindow::labelingTab() const {
    return m_liveSplit;
}

void MainWindow::showProjectLayout(bool project) {
    m_plots->setVisible(!project);
}

void MainWindow::updateTitle() {
    setWindowTitle(tr("PrefLab \u2014 %1").arg(m_reader->title()));
}

void MainWindow::setPreferences(const UiPreferences& given) {
    UiPreferences prefs = given;
    // The dialog edits one name; the names used before are kept, newest first.
    if (prefs.annotators.isEmpty()) prefs.annotators = m_prefs.annotators;
    if (!prefs.annotator.isEmpty()) {
        prefs.annotators.removeAll(prefs.annotator);
        prefs.annotators.prepend(prefs.annotator);
        while (prefs.annotators.size() > 20) prefs.annotators.removeLast();
    }
    m_prefs = prefs;
    m_labeling->setKeyBindings(prefs.keys);
    m_labeling->setAnnotator(prefs.annotator);
    m_labeling->setAnnotatorProfiles(prefs.annotators);
    m_labeling->setRevealOpinions(prefs.revealOpinions);
    m_labeling->setMonospace(prefs.monospace);
    m_data->setKeyBindings(prefs.keys);
    m_data->setAnnotator(prefs.annotator);
    m_adjudication->setReviewer(prefs.annotator);
    RunConfig c = m_panel->config();
    if (c.annotator.empty() && !prefs.annotator.isEmpty()) m_panel->setFieldText(QStringLiteral("annotator"), prefs.annotator);
}

void MainWindow::requestStart(const RunConfig& requested) {
    RunConfig config = requested;
    if (config.annotator.empty() && judgeNeedsPerson(config.judge)) config.annotator = m_prefs.annotator.toStdString();
    Q_EMIT startRequested(config);
}

void MainWindow::runRefused(const QString& reason) {
    m_banner->showMessage(tr("<b>The run did not start:</b> %1").arg(reason.toHtmlEscaped()), MessageBanner::Kind::Error);
}

void MainWindow::runAccepted(const RunConfig& config) {
    m_activeConfig = config;
    m_activeRun = 0;
    m_state = RunState::Starting;
    m_banner->hide();
    m_warnings.clear();
    m_panel->setConfig(config);  // the panel shows what runs
    m_labeling->setAnnotator(QString::fromStdString(config.annotator));
    m_labeling->setActiveRun(config);
    m_panel->setRunState(true, RunState::Starting);
    m_tabs->setCurrentWidget(m_liveSplit);
    m_labeling->setFocus();
}

void MainWindow::resetPlots(qint64 runId, const RunConfig& c, const QString& status) {
    m_plots->reset(tr("Run %1 \u00b7 %2 \u00b7 judge: %3 \u00b7 %4 \u00b7 %5")
                       .arg(runId)
                       .arg(QString::fromStdString(c.algorithm).toUpper(), QString::fromStdString(c.judge),
                            QString::fromStdString(klKnobText(c)), status),
                   QString::fromStdString(c.algorithm));
    m_plots->setEvaluationNames(c.winRatePrompts > 0 ? QString::fromStdString(winRateDisplayName(c)) : QString(),
                                QString::fromStdString(proxyGoldDisplayName(c)));
}

void MainWindow::runStarted(qint64 runId, const RunConfig& config) {
    m_activeRun = runId;
    m_activeConfig = config;
    m_shownRun = runId;
    m_metricsRequest = 0;
    resetPlots(runId, config, tr("live"));
    m_lastStep = -1;
    m_stepsPerSecond = 0;
    m_history->refresh();
}

void MainWindow::addLiveMetrics(const QVector<MetricSample>& samples) {
    if (m_activeConfig && m_shownRun == m_activeRun) m_plots->addSamples(samples);
}

void MainWindow::showTrainingError(const QString& m) {
    m_banner->showMessage(tr("<b>Training stopped:</b> %1<br>The run is paused; everything stored so far is kept. "
                             "Change a setting and start a new run, or stop this one.")
                              .arg(m.toHtmlEscaped()),
                          MessageBanner::Kind::Error);
}

void MainWindow::showWriteError(const QString& m) {
    m_banner->showMessage(tr("<b>Saving failed:</b> %1").arg(m.toHtmlEscaped()), MessageBanner::Kind::Error);
}

void MainWindow::showTab(QWidget* page) {
    m_tabs->setCurrentWidget(page);
}

void MainWindow::showRunWarning(qint64 step, const QString& kind, const QString& message, const QString& advice) {
    Q_UNUSED(kind);
    if (m_banner->kind() == MessageBanner::Kind::Error && m_banner->isVisible()) return;
    m_warnings << tr("<b>Step %1:</b> %2 <i>Try:</i> %3").arg(step).arg(message.toHtmlEscaped(), advice.toHtmlEscaped());
    m_banner->showMessage(m_warnings.join(QStringLiteral("<br>")), MessageBanner::Kind::Warning);
}

void MainWindow::showRunState(RunState state, const QString& message) {
    m_state = state;
    m_panel->setRunState(m_activeConfig.has_value(), state);
    QString text = tr("Run %1: %2").arg(m_activeRun).arg(toDisplayString(state));
    if (state == RunState::WaitingForLabels) text += tr(" \u2014 label pairs to continue training");
    if (!message.isEmpty()) text += QStringLiteral(" (%1)").arg(message);
    m_stateLabel->setText(text);
}

void MainWindow::showProgress(qint64 step, qint64 total) {
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

void MainWindow::runEnded(qint64 runId, RunState state) {
    m_activeConfig.reset();
    m_state = state;
    m_panel->setRunState(false, state);
    m_stateLabel->setText(tr("Run %1 %2").arg(runId).arg(toDisplayString(state)));
    m_speedLabel->clear();
    m_labeling->clearActiveRun();
    m_history->refresh();
    if (m_closeWhenEnded) close();
}

void MainWindow::openStoredRun(qint64 runId, const QString& configJson, const QString& status) {
    m_tabs->setCurrentWidget(m_liveSplit);
    if (m_activeConfig && runId == m_activeRun) return;  // already live
    // A stored run's settings as a value; keys this version does not know are left at their defaults.
    RunConfig c;
    parseStoredRunConfigJson(configJson.toStdString(), c);
    m_shownRun = runId;
    resetPlots(runId, c, tr("%1 (read-only)").arg(status));
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
    m_lessonDock->hide();  // a lesson is not resumed by starting the app (Help → Lessons opens a saved one)
    m_liveSplit->restoreState(s.value(QStringLiteral("window/live_split")).toByteArray());
    UiPreferences p;
    p.annotator = s.value(QStringLiteral("annotator")).toString();
    p.annotators = s.value(QStringLiteral("annotators")).toStringList();
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
    s.setValue(QStringLiteral("annotators"), m_prefs.annotators);
    s.setValue(QStringLiteral("reveal_opinions"), m_prefs.revealOpinions);
    s.setValue(QStringLiteral("monospace"), m_prefs.monospace);
    m_prefs.keys.save(s);
    s.setValue(QStringLiteral("run/last_config"), QString::fromStdString(runConfigToJson(m_panel->config())));
}

void MainWindow::closeEvent(QCloseEvent* event) {
    if (m_activeConfig) {
        // Stop, and close once the run has saved its last step and every label.
        m_closeWhenEnded = true;
        m_stateLabel->setText(tr("Stopping the run and saving before closing..."));
        Q_EMIT stopRequested();
        event->ignore();
        return;
    }
    event->accept();
}

}  // namespace preflab
