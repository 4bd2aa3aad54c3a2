#pragma once
// Preference labels: what a judge says about a pair, who said it. Plain values
// that cross threads and become database rows.
#include <cstdint>
#include <optional>
#include <string>

namespace preflab {

enum class Choice { A, B, Tie, BothBad, Skip };
enum class LabelSource { Human, Self, RewardModel, Task, Import, Adjudicated, Llm };
// What a labeling project asks of an annotator: which of two responses is
// better, or a thumbs up or down on one response at a time (unpaired labels,
// KTO's data).
enum class LabelingMode { Pairs, Thumbs };

// Stable names used in the database, JSON and the CLI: a, b, tie,
// both_bad, skip; human, self, reward_model, task, import, adjudicated (a
// reviewer's final label where annotators disagreed), llm (an instruct model
// asked in both orders). Spelled only in label.cpp.
std::string toString(Choice c);
std::string toString(LabelSource s);
std::optional<Choice> choiceFromString(const std::string& s);
std::optional<LabelSource> labelSourceFromString(const std::string& s);

// A pair as a judge sees it. Log-probabilities are sequence sums c(x,y).
struct PairForJudging {
    int64_t pairIndex = 0;
    std::string prompt;
    std::string responseA, responseB;
    double policyLogpA = 0, policyLogpB = 0, refLogpA = 0, refLogpB = 0;
    int64_t generatedAtStep = 0;
    std::optional<double> goldA, goldB;  // the task's true reward, where one exists
};

struct Judgement {
    int64_t pairIndex = 0;
    Choice choice = Choice::Skip;
    LabelSource source = LabelSource::Task;
    std::string annotator;
    int64_t timeMs = 0;  // milliseconds since the epoch
    // Optional numeric ratings of A and B (a person's 1-7 scores in rating mode).
    std::optional<double> ratingA, ratingB;
    // A person's label only: the seconds they took (from the pair appearing
    // to the key press, time with the window inactive not counted), and which
    // of the pair's responses was shown first (left on screen, or first on the
    // terminal): A or B. Quality signals (speed, position bias) read them.
    std::optional<double> seconds;
    std::optional<Choice> shownFirst;
    // Already written to the database by whoever gave it: a person's label is
    // stored the moment it is given (RunController), not when the run uses it,
    // so a crash in between loses nothing. The run's recorder skips these.
    bool stored = false;
};

int64_t nowMs();

}  // namespace preflab
