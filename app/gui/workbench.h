#pragma once
// The workbench as the app composes it: the run controller (the session
// tier), the database reader and the main window (the UI tier), and the
// wiring between them. The widgets know no run and the controller knows no
// widget: this file is where a request from a widget becomes a call on the
// controller, and where what a run does reaches the widgets. UI thread.
#include "app/session/labeling_project_session.h"
#include "app/session/lesson_session.h"
#include "app/session/run_controller.h"
#include "storage/database_reader.h"
#include "ui/main_window.h"

#include <QObject>

#include <memory>

namespace preflab {

class Workbench : public QObject {
    Q_OBJECT
public:
    Workbench(const QString& databasePath, const QString& dataDir, QObject* parent = nullptr);
    ~Workbench() override;  // the window first, then the run (joined, writes flushed), then the reader

    MainWindow* window() const { return m_window.get(); }
    RunController* controller() const { return m_controller.get(); }
    DatabaseReader* reader() const { return m_reader.get(); }

    // Starts a run as the window's Start does; false (with the reason shown in
    // the window) when refused, or when the starter model must be pretrained
    // first (starterModelNeeded).
    bool startRun(const RunConfig& config);
    // A labeling project without training in the labeling view (refused
    // while a run is active); a run's start ends it. Thumbs mode: the pairs'
    // responses one at a time, thumbs up or down.
    bool startProject(int overlap, LabelingMode mode = LabelingMode::Pairs);
    void stopProject();
    LabelingProjectSession* project() const { return m_project.get(); }
    // The guided lessons (issue 29): the built-in ones (or `folder`'s).
    const std::vector<Lesson>& lessons() const { return m_lessons; }
    void setLessonFolder(const QString& folder);
    // Help → Lessons: the list, then the lesson chosen (or a saved state).
    void openLessons();
    // Plays a lesson in the lesson view (after pretraining the starter model,
    // where the lesson needs it and it is missing). False, with the reason in
    // the window, when it cannot start (a run is on).
    bool startLesson(const Lesson& lesson, qint64 seed, bool stepMode, const std::string& resumeAt = {});
    // By id; a negative seed is the lesson's own.
    bool startLesson(const QString& id, qint64 seed, bool stepMode);
    // Opens a saved lesson state (lesson_state.h): the lesson, its seed, and up to the cue it reached.
    bool openLessonState(const QString& path);
    bool saveLessonState(const QString& path);
    LessonSession* lesson() const { return m_lesson.get(); }

    // Stores new guidelines for every stored pair (Run → Labeling guidelines
    // saves through here) and shows them at once in a labeling project.
    void saveGuidelines(const QString& markdown);

Q_SIGNALS:
    // A run needs the starter model, which is not pretrained yet.
    void starterModelNeeded(const preflab::RunConfig& config);

private:
    void wireRun(TrainingWorker* worker);
    void wireLesson();

    std::unique_ptr<RunController> m_controller;
    std::unique_ptr<DatabaseReader> m_reader;
    std::unique_ptr<MainWindow> m_window;
    std::unique_ptr<LabelingProjectSession> m_project;
    std::unique_ptr<LessonSession> m_lesson;
    std::vector<Lesson> m_lessons;
    quint64 m_guidelinesRequest = 0;      // the newest for the labeling view; an older answer is dropped
    quint64 m_guidelinesEditRequest = 0;  // the text the guidelines editor opens with
};

}  // namespace preflab
