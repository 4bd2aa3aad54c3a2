#pragma once
// The workbench window. It only composes: the run panel (left), the labeling
// view above the live plots, the data browser and the run history (tabs), a
// message banner and the status bar; and it routes the run controller's
// signals to them. Closing mid-run stops the run and closes once its last
// writes are on disk. UI thread.
#include "app/session/database_reader.h"
#include "app/session/run_controller.h"
#include "ui/preferences_dialog.h"

#include <QElapsedTimer>
#include <QMainWindow>

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
class RunPanel;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    MainWindow(RunController* controller, DatabaseReader* reader, QWidget* parent = nullptr);

    LabelingView* labelingView() const { return m_labeling; }
    MetricPlots* plots() const { return m_plots; }
    DataBrowser* dataBrowser() const { return m_data; }
    RunHistory* runHistory() const { return m_history; }
    RunPanel* runPanel() const { return m_panel; }
    MessageBanner* banner() const { return m_banner; }
    QTabWidget* tabs() const { return m_tabs; }

    void loadSettings(QSettings& settings);
    void saveSettings(QSettings& settings) const;
    void setPreferences(const UiPreferences& prefs);
    const UiPreferences& preferences() const { return m_prefs; }
    // Starts a run as the Start button does; false (with the reason shown) if refused.
    bool startRun(const RunConfig& config);
    // The run whose curves the plots show (0: none).
    qint64 shownRunId() const { return m_shownRun; }

Q_SIGNALS:
    // A run needs the starter model, which is not pretrained yet.
    void starterModelNeeded(const preflab::RunConfig& config);

protected:
    void closeEvent(QCloseEvent* event) override;

private:
    void onRunStarted(qint64 runId, const QString& configJson);
    void onStateChanged(RunState state, const QString& message);
    void onProgress(qint64 step, qint64 total);
    void onRunEnded(qint64 runId, RunState state);
    void openStoredRun(qint64 runId, const QString& configJson, const QString& status);
    void editPreferences();
    void showShortcuts();
    void updateTitle();

    RunController* m_controller;
    DatabaseReader* m_reader;
    UiPreferences m_prefs;
    RunPanel* m_panel;
    LabelingView* m_labeling;
    MetricPlots* m_plots;
    DataBrowser* m_data;
    RunHistory* m_history;
    MessageBanner* m_banner;
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
