#pragma once
// What the database answers the workbench's views: plain value structs that
// cross from the reader thread to the UI (DatabaseReader's signals). Widgets
// include this and records.h, never the stores or the SQL behind them.
#include "storage/records.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace preflab {

// A run with the last value of each of its headline metrics (metric_names.h).
struct RunSummary {
    RunRow run;
    std::map<std::string, double> latest;  // last logged value of each headline metric
    int64_t pairs = 0;
    int64_t labels = 0;
};

// Which pairs the data browser lists.
struct PairFilter {
    std::optional<int64_t> runId;
    std::string labelSource;  // empty: any; none: unlabeled; else a label source's name (core/values/label.h)
    std::string choice;       // empty: any; else a choice's name (core/values/label.h)
    std::optional<int64_t> trainedStep;  // pairs used by this gradient step
};

struct PairListRow {
    int64_t pairId = 0;
    std::optional<int64_t> runId, runIndex, generatedStep, trainedStep;
    std::string prompt, responseA, responseB;
    std::optional<double> goldA, goldB;
    std::string choice, source, annotator;  // empty when unlabeled
    int64_t labelCount = 0;
};

// A pair on which annotators disagree: each annotator's latest label, and a
// reviewer's final label when one was given.
struct Disagreement {
    int64_t pairId = 0;
    std::string prompt, responseA, responseB;
    std::vector<std::pair<std::string, std::string>> labels;  // (annotator, choice), by annotator
    std::string finalChoice, reviewer;                        // empty until adjudicated
};

struct AnnotatorLabelRow {  // one annotator's latest label of a pair, for agreement
    int64_t pairId = 0;
    std::string annotator, choice;
    bool judge = false;  // a judge's verdict (forEachJudgeVerdict), not a person's label
    // A person's: the seconds taken and the side shown first ("a", "b" or
    // ""), for the quality signals (core/values/label_timing.h).
    std::optional<double> seconds;
    std::string shownFirst;
    std::string goldAnswer;  // a gold pair's known answer, else ""
};

// A stored pair as one annotator of a labeling project is shown it.
struct ProjectPair {
    int64_t pairId = 0;
    std::string prompt;
    std::string first, second;  // as shown: the pair's a and b, or b and a when swapped
    bool swapped = false;
};

// A stored response as the thumbs mode shows it: one at a time, with its prompt.
struct ProjectResponse {
    int64_t responseId = 0;
    std::string prompt, text;
};

}  // namespace preflab
