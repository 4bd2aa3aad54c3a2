#pragma once
// The labeling view's state, without widgets: the pairs waiting for the
// person (the one on screen first), a pair being corrected after an undo,
// each pair's fixed left-right order, a half-given rating, and how many
// labels were given and how fast. LabelingView draws it and turns keys into
// calls; tests drive it directly. UI thread (plain values, QtCore only).
#include "core/values/label.h"
#include "core/values/run_state.h"

#include <QVector>
#include <QtGlobal>

#include <deque>
#include <optional>

namespace preflab {

class LabelingState {
public:
    // `swapSalt` randomises the left-right order across sessions (a fixed
    // salt gives a repeatable order, for tests).
    explicit LabelingState(quint64 swapSalt);

    // A run started or ended: nothing waits, nothing is counted.
    void reset();
    // The run's waiting pairs, oldest first. The pair the person is reading
    // stays in front while it still waits; one handed to a fallback judge
    // simply disappears. Returns true when the pair on screen changed.
    bool setWaiting(const QVector<PairForJudging>& waiting);

    // The pair on screen for labeling: the one being corrected, else the
    // oldest waiting one; nullptr when none.
    const PairForJudging* current() const;
    bool correcting() const { return m_correcting.has_value(); }
    int waitingCount() const { return static_cast<int>(m_queue.size()); }
    // Whether `pairIndex` shows B on the left: a fixed coin per pair, so a
    // redraw never flips a pair on screen.
    bool swapped(qint64 pairIndex) const;

    // The judgement for a choice made on screen (left = "A" on screen), with
    // optional on-screen ratings, mapped back to the pair's own A and B.
    Judgement judgementFor(Choice onScreen, std::optional<double> ratingLeft, std::optional<double> ratingRight,
                           const std::string& annotator, qint64 timeMs) const;

    // Rating mode: the first number rates the left response, the second the
    // right one; then the higher rating is the choice (equal ratings: tie, or
    // both bad when both are 1 or 2).
    struct Rated {
        Choice onScreen;
        int left, right;
    };
    std::optional<Rated> rate(int value);
    std::optional<int> leftRating() const { return m_leftRating; }
    void clearRating() { m_leftRating.reset(); }

    // The label of the pair on screen was taken (or the correction given):
    // it leaves the screen and counts. `atMs` is a monotonic clock in ms.
    void labelAccepted(qint64 atMs);
    // The run no longer had the pair (a fallback judge took it).
    void labelRefused(qint64 pairIndex);
    // Undo: the last label was taken back; `pair` waits again, in front.
    void labelRetracted(const PairForJudging& pair);
    // Undo: the run had already used the pair's label; show it for correction.
    void beginCorrection(const PairForJudging& pair);

    int labeledCount() const { return m_labeled; }
    // Labels per minute over the last minute (at least a 10 s window).
    double labelsPerMinute(qint64 nowMs);

private:
    quint64 m_salt;
    std::deque<PairForJudging> m_queue;  // oldest first; front is on screen
    std::optional<PairForJudging> m_correcting;
    std::optional<int> m_leftRating;
    int m_labeled = 0;
    std::deque<qint64> m_labelTimesMs;
};

}  // namespace preflab
