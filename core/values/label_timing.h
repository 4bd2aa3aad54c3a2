#pragma once
// How people label, from the seconds each label took and the side shown
// first (issue 31's quality signals): per annotator, labels per hour, the
// median time, the share of labels faster than a threshold, how often the
// side shown first was picked (a position bias: 0.5 for a person who reads
// both), and the accuracy on gold pairs. And the labeling view's soft warning when a person goes much faster
// than their own pace. Plain C++, any thread.
#include "core/values/proportion_interval.h"

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

namespace preflab {

// A label faster than this is too fast to have read two responses: the
// threshold of AnnotatorPace::fastShare, named in the outputs that show it.
constexpr double kFastLabelSeconds = 2.0;

// One label as the quality signals read it.
struct TimedLabel {
    std::string annotator;
    std::string choice;             // a, b, tie, both_bad, skip
    std::optional<double> seconds;  // unknown for an older row or a file without it
    std::string shownFirst;         // "a", "b", or "" when unknown
    int64_t pairId = 0;
    std::string goldAnswer;  // a gold pair's known answer (storage/gold_pair_store.h), else ""
};

struct AnnotatorPace {
    std::string annotator;
    int64_t labels = 0;  // every label counted, skips included
    int64_t timed = 0;   // of those, with seconds
    // Over the timed labels (NaN without one): labels per hour of labeling
    // time (3600 * timed / their seconds), the median seconds, and the share
    // under the threshold.
    double labelsPerHour = 0, medianSeconds = 0, fastShare = 0;
    int64_t sided = 0;           // a or b labels whose side shown first is known
    double firstShownShare = 0;  // of those, the share that picked the side shown first (NaN without one)
    // Gold pairs answered (skips aside), how many matched the known answer,
    // and that share with its 95 % Wilson interval (NaN without one).
    int64_t goldLabels = 0, goldCorrect = 0;
    double goldAccuracy = 0;
    ProportionInterval goldInterval;
};

// Per annotator, by name. `fastSeconds` is the threshold of fastShare.
std::vector<AnnotatorPace> annotatorPace(const std::vector<TimedLabel>& labels, double fastSeconds = kFastLabelSeconds);

// The median (the mean of the middle two for an even count); NaN when empty.
double medianOf(std::vector<double> values);

// The labeling view's warning: true while each of the last `stretch` labels
// took less than `fraction` of the person's median over their earlier labels
// (at least `minEarlier` of them, so a first few quick labels warn nobody).
class PaceWatch {
public:
    explicit PaceWatch(int stretch = 5, double fraction = 1.0 / 3.0, int minEarlier = 10);
    // Adds a label's seconds; returns whether the warning holds now.
    bool add(double seconds);
    bool warning() const { return m_warning; }
    // The median the last warning compared against (seconds).
    double median() const { return m_median; }
    void reset();

private:
    int m_stretch;
    double m_fraction;
    int m_minEarlier;
    std::vector<double> m_earlier;  // labels before the current stretch
    std::deque<double> m_recent;    // the last `stretch` labels
    bool m_warning = false;
    double m_median = 0;
};

}  // namespace preflab
