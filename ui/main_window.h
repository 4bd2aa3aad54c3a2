#pragma once
// The workbench window. It only composes: the run panel (left), the labeling
// view above the live plots, the data browser and the run history (tabs), a
// message banner and the status bar. It knows no run: requests leave as
// signals (start, pause, resume, stop) and what a run does comes in through
// slots, as plain values; app/gui/workbench.cpp wires both to the run
// controller. Closing mid-run asks to stop and closes once the run has ended
// (its last writes on disk). UI thread.
#include "core/values/label.h"
#include "core/values/run_config.h"
#include "core/values/run_state.h"
#include "storage/database_reader.h"
#include "ui/preferences_dialog.h"

#include <QElapsedTimer>
#include <QMainWindow>

#include <optional>

class QDockWidget;
class QLabel;
class QProgressBar;
class QSettings;
class QSplitter;
class QTabWidget;

namespace preflab {

class DataBrowser;
class LabelingView;
class MessageBanner;
class MetricPlots;
class RunHistory;
class RunComparison;
class CompletionsView;
class MethodFrontiers;
class AgreementView;
class AdjudicationView;
class RunPanel;
class LessonPanel;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    MainWindow(DatabaseReader* reader, QString databasePath, QString dataDir, QWidget* parent = nullptr);

    LabelingView* labelingView() const { return m_labeling; }
    QWidget* labelingTab() const;  // the "Label & watch" page
    // A labeling project has no run to watch: the plots give the pair their room.
    void showProjectLayout(bool project);
    MetricPlots* plots() const { return m_plots; }
    DataBrowser* dataBrowser() const { return m_data; }
    RunHistory* runHistory() const { return m_history; }
    RunComparison* runComparison() const { return m_comparison; }
    CompletionsView* completions() const { return m_completions; }
    MethodFrontiers* methodFrontiers() const { return m_frontiers; }
    AgreementView* agreement() const { return m_agreement; }
    AdjudicationView* adjudication() const { return m_adjudication; }
    // Brings one of the tabs' pages to the front.
    void showTab(QWidget* page);
    RunPanel* runPanel() const { return m_panel; }
    // The lesson view's narration, docked beside the plots (hidden until a lesson starts).
    LessonPanel* lessonPanel() const { return m_lessonPanel; }
    void showLessonPanel(bool shown);
    MessageBanner* banner() const { return m_banner; }
    QTabWidget* tabs() const { return m_tabs; }

    void loadSettings(QSettings& settings);
    void saveSettings(QSettings& settings) const;
    void setPreferences(const UiPreferences& prefs);
    const UiPreferences& preferences() const { return m_prefs; }
    // Asks for a run as the Start button does: the annotator from the
    // preferences is filled in, then startRequested() is emitted; the
    // receiver answers with runAccepted() or runRefused().
    void requestStart(const RunConfig& config);
    // The run whose curves the plots show (0: none).
    qint64 shownRunId() const { return m_shownRun; }
    // The active run's settings, as a value (nullopt: no run).
    const std::optional<RunConfig>& activeConfig() const { return m_activeConfig; }
    RunState runState() const { return m_state; }

public Q_SLOTS:
    void runAccepted(const preflab::RunConfig& config);  // the run is starting with these settings
    void runRefused(const QString& reason);
    void runStarted(qint64 runId, const preflab::RunConfig& config);  // the run has its id
    void showRunState(preflab::RunState state, const QString& message);
    void showProgress(qint64 step, qint64 total);
    void addLiveMetrics(const QVector<preflab::MetricSample>& samples);
    void showTrainingError(const QString& message);
    void showWriteError(const QString& message);
    // A warning the active run's metrics raised (mode collapse, KL runaway,
    // ...): listed in a yellow banner with what to try, unless an error shows.
    void showRunWarning(qint64 step, const QString& kind, const QString& message, const QString& advice);
    void runEnded(qint64 runId, preflab::RunState state);

Q_SIGNALS:
    void startRequested(const preflab::RunConfig& config);
    void pauseRequested();
    void resumeRequested();
    void stopRequested();
    // Run → Label stored pairs: a labeling project with `overlap` annotators per pair.
    void projectRequested(int overlap, preflab::LabelingMode mode);
    void projectStopRequested();
    // Run → Labeling guidelines: the workbench reads them and opens the editor.
    void guidelinesEditRequested();
    // Help → Lessons: the workbench lists the lessons.
    void lessonsRequested();

protected:
    void closeEvent(QCloseEvent* event) override;

private:
    void openStoredRun(qint64 runId, const QString& configJson, const QString& status);
    void resetPlots(qint64 runId, const RunConfig& config, const QString& status);
    void editPreferences();
    void showShortcuts();
    void updateTitle();

    DatabaseReader* m_reader;
    QString m_databasePath, m_dataDir;
    std::optional<RunConfig> m_activeConfig;
    qint64 m_activeRun = 0;
    RunState m_state = RunState::Finished;
    UiPreferences m_prefs;
    RunPanel* m_panel;
    LessonPanel* m_lessonPanel;
    QDockWidget* m_lessonDock;
    LabelingView* m_labeling;
    MetricPlots* m_plots;
    DataBrowser* m_data;
    RunHistory* m_history;
    RunComparison* m_comparison;
    CompletionsView* m_completions;
    MethodFrontiers* m_frontiers;
    AgreementView* m_agreement;
    AdjudicationView* m_adjudication;
    MessageBanner* m_banner;
    QStringList m_warnings;  // the active run's warnings, newest last
    QTabWidget* m_tabs;
    QSplitter* m_liveSplit;
    QLabel* m_stateLabel;
    QLabel* m_speedLabel;
    QProgressBar* m_progress;
    qint64 m_shownRun = 0;
    quint64 m_metricsRequest = 0;
    bool m_closeWhenEnded = false;
    // steps/s: an average over the recent steps
    qint64 m_lastStep = -1;
    QElapsedTimer m_stepClock;
    double m_stepsPerSecond = 0;
};

}  // namespace preflab
