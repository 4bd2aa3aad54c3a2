#pragma once
// Plays a lesson (lesson.h) over the metric stream of the runs it starts:
// fires its cues, renders their narration with the run's own numbers, asks
// and reveals its predictions, and evaluates its checks, so that what the
// lesson says is true of the run the student watched. Plain C++ (no torch, no
// widgets): `preflab lesson` drives it from a TrainingWorker's signals, tests
// from hand-made series, and the workbench's lesson view the same way.
//
// How a view drives it (the call order is the whole protocol):
//   LessonEngine engine(lesson);
//   for each run of lesson.runs, in order (the view starts the run itself:
//   lessonRunConfig(lesson, run, seed), plus the files run.prepare asks for,
//   made as app/cli/lesson_command.cpp makes them; a best_of_n run is not
//   trained, its points are fed to observe() with step = n):
//     show(engine.startRun(run.id));           // intro cues ("start")
//     on TrainingWorker::metricsReady(samples):
//       show(engine.observe(samples));         // cues whose step or condition was reached
//     on TrainingWorker::finished:
//       show(engine.endRun());                 // "end" cues, cues that never fired (and why), reveals
//   show(engine.finish());                     // each failed check with its evidence, then the closing text
//   engine.checkResults()                      // every claim: held, evidence (the CLI's --json line)
// An event with `pause` set asks the view to pause the run (TrainingSession::pause)
// until the student presses Continue; a Question event carries the choices, and
// the student's pick goes to answer(cueId, choice) before the run's end, when
// the Reveal event says whether the run agreed. `plot` names the metric whose
// plot to highlight. Events come back in the order they are to be shown; the
// engine never blocks and owns no thread, so observe() may be called from the
// GUI thread's slot directly. Metric samples of one call may span several
// steps (the worker batches them): they are taken step by step.
#include "core/values/lesson.h"
#include "core/values/loop_types.h"
#include "core/values/run_warnings.h"

#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace preflab {

struct LessonEvent {
    enum class Kind {
        Narration,  // a cue's text
        Question,   // a cue's prediction question (choices in `choices`)
        Reveal,     // the answer to a question, from the run
        Missed,     // a cue whose condition the run never met, with what happened instead
        Instead,    // a cue's claim (its check) failed on the data so far: what happened instead
        Failed,     // at the end: a check that did not hold, with its evidence
        Closing,    // the closing summary
    };
    Kind kind = Kind::Narration;
    std::string cue;  // the cue's id (empty for Failed and Closing)
    std::string run;
    int64_t step = 0;  // the step at which it fired (the run's last step for End and Missed)
    std::string text;
    std::string plot;  // metric key to highlight
    bool pause = false;
    std::vector<std::string> choices;
};

struct LessonCheckResult {
    std::string id;
    std::string claim;
    bool held = false;
    std::string evidence;  // the numbers the verdict rests on
};

// One run's series as the engine keeps them (step, value) in step order.
using LessonSeries = std::vector<std::pair<int64_t, double>>;

class LessonEngine {
public:
    explicit LessonEngine(Lesson lesson);

    std::vector<LessonEvent> startRun(const std::string& runId);
    std::vector<LessonEvent> observe(const std::vector<MetricSample>& samples);
    std::vector<LessonEvent> endRun();
    std::vector<LessonEvent> finish();
    // The student's prediction for a Question event's cue (before the run ends).
    void answer(const std::string& cueId, const std::string& choice);

    // Every check on the data so far (finish() calls it once the runs are done).
    std::vector<LessonCheckResult> checkResults() const;
    LessonCheckResult evaluate(const LessonCheck& check) const;

    const Lesson& lesson() const { return m_lesson; }
    const std::string& currentRun() const { return m_current; }
    // A run's series of a metric (empty when absent), and the warnings raised (kind -> step).
    const LessonSeries& series(const std::string& run, const std::string& metric) const;
    const std::map<std::string, int64_t>& warnings(const std::string& run) const;
    // The cues fired so far, by id.
    const std::set<std::string>& firedCues() const { return m_fired; }
    // `text` with its placeholders filled from the runs' numbers (`run`: the
    // run of bare {KEY} placeholders).
    std::string render(const std::string& text, const std::string& run) const;

private:
    struct RunData {
        std::map<std::string, LessonSeries> series;
        std::map<std::string, int64_t> warnings;
        RunWarningMonitor monitor;
        int64_t lastStep = -1;
        bool ended = false;
    };
    void step(int64_t step, const std::vector<MetricSample>& samples, std::vector<LessonEvent>& out);
    void fire(const LessonCue& cue, int64_t step, std::vector<LessonEvent>& out);
    bool triggered(const LessonCue& cue, int64_t step) const;
    std::string missedReason(const LessonCue& cue) const;

    Lesson m_lesson;
    std::map<std::string, RunData> m_runs;
    std::string m_current;
    std::set<std::string> m_fired;
    std::map<std::string, std::string> m_answers;  // cue -> the student's choice
    std::vector<std::string> m_asked;              // question cues of the current run, in order
};

// Numbers as the lessons print them: a step as a whole number, other values
// to two decimals (three below 0.1 in size).
std::string lessonNumber(double v);

}  // namespace preflab
