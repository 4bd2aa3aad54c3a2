#pragma once
// A guided lesson (issue 29): a JSON file in resources/lessons/ that names
// the runs it starts, the cues that narrate them and the checks that make the
// narration true of the run the student watched. This header is the file
// format as value types and its parser; lesson_engine.h plays a lesson over a
// run's metric stream. Plain C++ with QtCore's JSON (no torch), so the
// workbench's lesson view can include it.
//
// The file, by example (every key but the ones marked optional is required;
// an unknown key is an error, so a misspelt one is never silently ignored):
//
//   {
//     "id": "over-optimisation",             // the file's name without .json
//     "title": "...", "summary": "one line for `preflab lesson --list`",
//     "needs_person": false,                 // optional: a person must label (not run automatically)
//     "seed": 1,                             // optional: the default seed (1)
//     "runs": [
//       {"id": "old", "title": "the old defaults",
//        "settings": {"lr": 2e-4, "beta": 0.1, "steps": 200},   // run-config keys (preflab run --help)
//        "prepare": {"reward_model_pairs": 64, "offline_pairs": 512}},   // optional, see LessonPrepare
//       {"id": "bon", "title": "best-of-n", "kind": "best_of_n",
//        "best_of_n": {"reward_model_of": "ppo", "prompts": 32, "samples": 64, "n": [1, 2, 4, 8, 16, 32]}}
//     ],
//     "cues": [
//       {"id": "kl4", "run": "old", "when": {"metric": "kl/exact", "above": 4},
//        "text": "Exact KL just passed 4 ({kl/exact}) ...", "plot": "kl/exact",   // plot optional
//        "pause": true, "check": "gold-peaked",                                     // optional
//        "predict": {"question": "...", "choices": ["up", "down"],                  // optional
//                    "check": "chosen-falls", "if_held": "down", "if_failed": "up"}}
//     ],
//     "checks": [
//       {"id": "gold-peaked", "claim": "gold at the end is below its peak",
//        "all": [{"left": {"run": "old", "metric": "gold/reward", "stat": "last"}, "op": "<",
//                 "right": {"run": "old", "metric": "gold/reward", "stat": "max"}, "by": 0.1}]}
//     ],
//     "closing": "Gold went {old:gold/reward:first} -> {old:gold/reward:last} ..."
//   }
//
// Triggers ("when"): {"start": true} before the first step; {"step": N} at the
// first metrics of step N or later; {"metric": KEY, "above": X} / "below": X
// the first time the metric is past X; {"metric": KEY, "drop_from_peak": D}
// the first time it is D below its best so far ("when gold stops rising");
// {"end": true} when the run ends.
//
// Values ({"run", "metric", "stat"}): stats first, last, max, min,
// step_of_max, step_of_min, at_step (with "step": the latest value at or
// before it), mean (with "from" and "to" steps, inclusive), at_kl (with "kl":
// the metric where the run's exact KL first reached it, linear between
// evaluations), first_step_above / first_step_below (with "threshold").
// {"run", "warning": KIND} is the step a run warning (run_warnings.h) was
// raised. A value may subtract another: "minus": VALUE. A comparison's "op"
// is <, <=, >, >= (then "right" is a value or a number and "by" an optional
// margin: left > right + by, left < right - by) or "exists" / "missing"
// (whether the left value exists: a warning raised, a threshold crossed).
//
// Text placeholders: {KEY} the cue run's newest value of a metric, {KEY:STAT}
// and {RUN:KEY:STAT} with STAT one of first, last, max, min, step_of_max,
// step_of_min, now; {check:ID} a check's evidence. Unknown runs, metric keys,
// stats, checks and warning kinds are errors that name the file and field.
#include "core/values/run_config.h"

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace preflab {

// How a lesson value reads a series; the names are the file's, in one table.
enum class LessonStat {
    First,
    Last,
    Max,
    Min,
    StepOfMax,
    StepOfMin,
    AtStep,
    Mean,
    AtKl,
    FirstStepAbove,
    FirstStepBelow,
    Now,
    Warning,
};
struct LessonStatInfo {
    LessonStat id;
    const char* name;
    bool placeholder;  // usable in text placeholders
};
const std::vector<LessonStatInfo>& lessonStats();
const LessonStatInfo* findLessonStat(const std::string& name);
const char* lessonStatName(LessonStat s);

struct LessonValue {
    std::string run;
    std::string metric;   // a metric key (metric_names.h); empty for a warning
    std::string warning;  // a run warning kind, with stat Warning
    LessonStat stat = LessonStat::Last;
    int64_t step = 0, from = 0, to = 0;  // at_step; mean's range
    double threshold = 0;                // at_kl's KL; first_step_above/below's threshold
    std::vector<LessonValue> minus;      // zero or one value subtracted
};

enum class LessonOp { Less, LessEqual, Greater, GreaterEqual, Exists, Missing };

struct LessonComparison {
    LessonValue left;
    LessonOp op = LessonOp::Less;
    std::optional<LessonValue> right;  // unset: the number `number`
    double number = 0;
    double by = 0;
};

struct LessonCheck {
    std::string id;
    std::string claim;  // what the narration says, as one sentence
    std::vector<LessonComparison> all;
};

enum class LessonTriggerKind { Start, Step, Above, Below, DropFromPeak, End };

struct LessonTrigger {
    LessonTriggerKind kind = LessonTriggerKind::Start;
    int64_t step = 0;
    std::string metric;
    double value = 0;  // the threshold, or the drop from the peak
};

struct LessonPrediction {
    std::string question;
    std::vector<std::string> choices;
    std::string check;  // the check whose outcome is the answer
    std::string ifHeld, ifFailed;
};

struct LessonCue {
    std::string id;
    std::string run;
    LessonTrigger when;
    std::string text;
    std::string plot;  // a metric key to highlight, or empty
    bool pause = false;
    std::string check;  // narrated only if this check holds on the data so far
    std::optional<LessonPrediction> predict;
};

// Data a run needs before it starts, made by the lesson's runner.
struct LessonPrepare {
    int64_t rewardModelPairs = 0;  // train a reward model on this many task pairs (its file becomes reward_model)
    int64_t rewardModelSteps = 300;
    int64_t offlinePairs = 0;  // sample this many task pairs from the starter (their file becomes pairs)
};

// Best-of-n sampling from the starter, scored by a run's reward model (the
// proxy) and the task's true reward (gold); reported as a run whose "step" is n.
struct LessonBestOfN {
    std::string rewardModelOf;  // the run whose prepared reward model scores the samples
    int64_t prompts = 32;
    int64_t samples = 64;  // samples per prompt: the empirical distribution best-of-n is computed from
    std::vector<int64_t> n;
};

enum class LessonRunKind { Training, BestOfN };

struct LessonRun {
    std::string id;
    std::string title;
    LessonRunKind kind = LessonRunKind::Training;
    std::string settingsJson;  // run-config keys (validated), compact JSON
    int64_t steps = 0;         // the settings' steps (the run's length; best-of-n: the largest n)
    LessonPrepare prepare;
    LessonBestOfN bestOfN;
};

struct Lesson {
    std::string id;
    std::string title;
    std::string summary;
    bool needsPerson = false;
    int64_t seed = 1;
    std::vector<LessonRun> runs;
    std::vector<LessonCue> cues;
    std::vector<LessonCheck> checks;
    std::string closing;
    std::string file;  // where it was read from

    const LessonRun* findRun(const std::string& id) const;
    const LessonCheck* findCheck(const std::string& id) const;
};

// A lesson file that cannot be used; what() names the file and the field.
class LessonError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Parses one lesson; `file` names it in errors and its base name must be the id.
Lesson parseLesson(const std::string& json, const std::string& file);
Lesson readLessonFile(const std::string& path);
// Every *.json lesson in `dir` (a folder or a Qt resource path such as
// ":/lessons"), sorted by id. Throws on the first bad file.
std::vector<Lesson> readLessonFolder(const std::string& dir);

// A training run's settings: the defaults, then the lesson's settings, then
// `seed` and a name saying which lesson started it. The caller sets the files
// the run's `prepare` made (reward_model, pairs) before validating it.
RunConfig lessonRunConfig(const Lesson& lesson, const LessonRun& run, int64_t seed);

// The placeholders of a text ({...}), for validation and rendering.
struct LessonPlaceholder {
    std::string raw;  // without the braces
    std::string run;  // empty: the cue's run
    std::string metric;
    LessonStat stat = LessonStat::Now;
    std::string check;  // {check:ID}
};
std::vector<LessonPlaceholder> lessonPlaceholders(const std::string& text);

}  // namespace preflab
