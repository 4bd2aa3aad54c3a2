#include "core/values/label_timing.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

namespace preflab {

double medianOf(std::vector<double> values) {
    if (values.empty()) return std::numeric_limits<double>::quiet_NaN();
    const size_t mid = values.size() / 2;
    std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(mid), values.end());
    const double upper = values[mid];
    if (values.size() % 2 == 1) return upper;
    const double lower = *std::max_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(mid));
    return (lower + upper) / 2.0;
}

std::vector<AnnotatorPace> annotatorPace(const std::vector<TimedLabel>& labels, double fastSeconds) {
    struct Tally {
        AnnotatorPace pace;
        std::vector<double> seconds;
        int64_t pickedFirst = 0;
    };
    std::map<std::string, Tally> byName;
    for (const TimedLabel& l : labels) {
        Tally& t = byName[l.annotator];
        ++t.pace.labels;
        if (l.seconds) t.seconds.push_back(*l.seconds);
        if ((l.choice == "a" || l.choice == "b") && (l.shownFirst == "a" || l.shownFirst == "b")) {
            ++t.pace.sided;
            if (l.choice == l.shownFirst) ++t.pickedFirst;
        }
        if (!l.goldAnswer.empty() && l.choice != "skip") {
            ++t.pace.goldLabels;
            if (l.choice == l.goldAnswer) ++t.pace.goldCorrect;
        }
    }
    const double nan = std::numeric_limits<double>::quiet_NaN();
    std::vector<AnnotatorPace> out;
    for (auto& [name, t] : byName) {
        AnnotatorPace p = t.pace;
        p.annotator = name;
        p.timed = static_cast<int64_t>(t.seconds.size());
        double total = 0;
        int64_t fast = 0;
        for (double s : t.seconds) {
            total += s;
            if (s < fastSeconds) ++fast;
        }
        p.labelsPerHour = p.timed == 0 || total <= 0 ? nan : 3600.0 * static_cast<double>(p.timed) / total;
        p.medianSeconds = medianOf(t.seconds);
        p.fastShare = p.timed == 0 ? nan : static_cast<double>(fast) / static_cast<double>(p.timed);
        p.firstShownShare = p.sided == 0 ? nan : static_cast<double>(t.pickedFirst) / static_cast<double>(p.sided);
        p.goldAccuracy = p.goldLabels == 0 ? nan : static_cast<double>(p.goldCorrect) / static_cast<double>(p.goldLabels);
        p.goldInterval = wilsonInterval95(p.goldCorrect, p.goldLabels);
        out.push_back(std::move(p));
    }
    return out;
}

PaceWatch::PaceWatch(int stretch, double fraction, int minEarlier)
    : m_stretch(std::max(1, stretch)), m_fraction(fraction), m_minEarlier(std::max(1, minEarlier)) {}

bool PaceWatch::add(double seconds) {
    m_recent.push_back(seconds);
    if (static_cast<int>(m_recent.size()) > m_stretch) {
        m_earlier.push_back(m_recent.front());
        m_recent.pop_front();
    }
    m_warning = false;
    if (static_cast<int>(m_recent.size()) < m_stretch || static_cast<int>(m_earlier.size()) < m_minEarlier)
        return false;
    // The pace to compare with is the person's own before this stretch, so a
    // run of fast labels cannot pull the median down to meet itself.
    m_median = medianOf(m_earlier);
    m_warning = std::all_of(m_recent.begin(), m_recent.end(), [&](double s) { return s < m_fraction * m_median; });
    return m_warning;
}

void PaceWatch::reset() {
    m_earlier.clear();
    m_recent.clear();
    m_warning = false;
    m_median = 0;
}

}  // namespace preflab
