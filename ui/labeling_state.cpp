#include "ui/labeling_state.h"

#include <algorithm>

namespace preflab {

LabelingState::LabelingState(quint64 swapSalt) : m_salt(swapSalt) {}

void LabelingState::reset() {
    m_queue.clear();
    m_correcting.reset();
    m_leftRating.reset();
    m_labeled = 0;
    m_labelTimesMs.clear();
}

bool LabelingState::setWaiting(const QVector<PairForJudging>& waiting) {
    const PairForJudging* before = current();
    const qint64 onScreen = before ? before->pairIndex : -1;
    const qint64 front = m_queue.empty() ? -1 : m_queue.front().pairIndex;
    m_queue.assign(waiting.begin(), waiting.end());
    const auto it = std::find_if(m_queue.begin(), m_queue.end(),
                                 [&](const PairForJudging& p) { return p.pairIndex == front; });
    if (it != m_queue.end() && it != m_queue.begin()) std::rotate(m_queue.begin(), it, it + 1);
    const PairForJudging* after = current();
    const bool changed = (after ? after->pairIndex : -1) != onScreen;
    if (changed) m_leftRating.reset();
    return changed;
}

const PairForJudging* LabelingState::current() const {
    if (m_correcting) return &*m_correcting;
    return m_queue.empty() ? nullptr : &m_queue.front();
}

bool LabelingState::swapped(qint64 pairIndex) const {
    quint64 x = static_cast<quint64>(pairIndex) ^ m_salt;  // splitmix64's finaliser: one bit per pair
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return (x & 1u) != 0;
}

Judgement LabelingState::judgementFor(Choice onScreen, std::optional<double> ratingLeft,
                                      std::optional<double> ratingRight, const std::string& annotator,
                                      qint64 timeMs) const {
    Judgement j;
    const PairForJudging* pair = current();
    if (!pair) return j;
    const bool swap = swapped(pair->pairIndex);
    j.pairIndex = pair->pairIndex;
    j.choice = onScreen;
    if (swap && onScreen == Choice::A) j.choice = Choice::B;
    else if (swap && onScreen == Choice::B) j.choice = Choice::A;
    j.annotator = annotator;
    j.source = LabelSource::Human;
    j.timeMs = timeMs;
    j.ratingA = swap ? ratingRight : ratingLeft;
    j.ratingB = swap ? ratingLeft : ratingRight;
    return j;
}

std::optional<LabelingState::Rated> LabelingState::rate(int value) {
    if (!current()) return std::nullopt;
    if (!m_leftRating) {
        m_leftRating = value;
        return std::nullopt;
    }
    const int left = *m_leftRating;
    m_leftRating.reset();
    const Choice c = left > value ? Choice::A : value > left ? Choice::B : left <= 2 ? Choice::BothBad : Choice::Tie;
    return Rated{c, left, value};
}

void LabelingState::labelAccepted(qint64 atMs) {
    if (m_correcting) m_correcting.reset();
    else if (!m_queue.empty()) m_queue.pop_front();
    m_leftRating.reset();
    ++m_labeled;
    m_labelTimesMs.push_back(atMs);
}

void LabelingState::labelRefused(qint64 pairIndex) {
    m_queue.erase(std::remove_if(m_queue.begin(), m_queue.end(),
                                 [&](const PairForJudging& p) { return p.pairIndex == pairIndex; }),
                  m_queue.end());
    m_leftRating.reset();
}

void LabelingState::labelRetracted(const PairForJudging& pair) {
    m_labeled = std::max(0, m_labeled - 1);
    if (!m_labelTimesMs.empty()) m_labelTimesMs.pop_back();
    // The run's queue has it first again (its next snapshot says so too).
    labelRefused(pair.pairIndex);
    m_queue.push_front(pair);
    m_correcting.reset();
}

void LabelingState::beginCorrection(const PairForJudging& pair) {
    m_correcting = pair;
    m_leftRating.reset();
}

double LabelingState::labelsPerMinute(qint64 nowMs) {
    while (!m_labelTimesMs.empty() && nowMs - m_labelTimesMs.front() > 60000) m_labelTimesMs.pop_front();
    const double window = std::max(10000.0, std::min(60000.0, static_cast<double>(nowMs)));
    return static_cast<double>(m_labelTimesMs.size()) * 60000.0 / window;
}

}  // namespace preflab
