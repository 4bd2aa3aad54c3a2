// The labeling view's state without widgets (ui/labeling_state.h): the pair
// on screen stays in front while it waits, undo puts a pair back or opens it
// for correction, rating mode turns two numbers into a choice, and the
// left-right swap maps on-screen choices and ratings back to A and B. The
// label clock counts only while the window is active, and the pace warning
// fires on a stretch of labels much faster than the person's own median.
#include "core/values/label_timing.h"
#include "support/test_main.h"
#include "ui/label_clock.h"
#include "ui/labeling_state.h"

#include <cmath>

using namespace preflab;

namespace {

PairForJudging pair(qint64 index) {
    PairForJudging p;
    p.pairIndex = index;
    p.prompt = "prompt " + std::to_string(index);
    p.responseA = "a" + std::to_string(index);
    p.responseB = "b" + std::to_string(index);
    return p;
}

QVector<PairForJudging> pairs(std::initializer_list<qint64> indices) {
    QVector<PairForJudging> out;
    for (qint64 i : indices) out.push_back(pair(i));
    return out;
}

// A salt under which pair `swappedIndex` is shown swapped and `plainIndex` is not.
quint64 saltWith(qint64 swappedIndex, qint64 plainIndex) {
    for (quint64 salt = 1;; ++salt) {
        LabelingState s(salt);
        if (s.swapped(swappedIndex) && !s.swapped(plainIndex)) return salt;
    }
}

}  // namespace

class TestLabelingState : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void pairOnScreenStaysInFront() {
        LabelingState s(1);
        QVERIFY(!s.current());
        QVERIFY(s.setWaiting(pairs({4, 5, 6})));
        QCOMPARE(s.current()->pairIndex, qint64(4));
        // The run's next snapshot lists the pairs in another order: 4 stays on screen.
        QVERIFY(!s.setWaiting(pairs({5, 6, 4, 7})));
        QCOMPARE(s.current()->pairIndex, qint64(4));
        QCOMPARE(s.waitingCount(), 4);
        // A fallback judge took pair 4: the next one shows.
        QVERIFY(s.setWaiting(pairs({5, 6, 7})));
        QCOMPARE(s.current()->pairIndex, qint64(5));
        QVERIFY(s.setWaiting({}));
        QVERIFY(!s.current());
    }

    void acceptedLabelShowsTheNextPairAndCounts() {
        LabelingState s(1);
        s.setWaiting(pairs({1, 2}));
        s.labelAccepted(1000);
        QCOMPARE(s.current()->pairIndex, qint64(2));
        QCOMPARE(s.labeledCount(), 1);
        s.labelAccepted(2000);
        QVERIFY(!s.current());
        QCOMPARE(s.labeledCount(), 2);
        // Two labels in the first 10 s: the rate is over a 10 s window at least.
        QCOMPARE(s.labelsPerMinute(3000), 12.0);
        // A minute later they have left the window.
        QCOMPARE(s.labelsPerMinute(70000), 0.0);
    }

    void refusedLabelDropsThePair() {
        LabelingState s(1);
        s.setWaiting(pairs({1, 2}));
        s.labelRefused(1);
        QCOMPARE(s.current()->pairIndex, qint64(2));
        QCOMPARE(s.labeledCount(), 0);
    }

    void undoRetractedPutsThePairBackInFront() {
        LabelingState s(1);
        s.setWaiting(pairs({1, 2, 3}));
        s.labelAccepted(100);
        QCOMPARE(s.current()->pairIndex, qint64(2));
        s.labelRetracted(pair(1));
        QCOMPARE(s.current()->pairIndex, qint64(1));
        QCOMPARE(s.labeledCount(), 0);
        QCOMPARE(s.waitingCount(), 3);
        // The run's own snapshot agrees: nothing moves.
        QVERIFY(!s.setWaiting(pairs({1, 2, 3})));
        QCOMPARE(s.current()->pairIndex, qint64(1));
    }

    void undoAfterUseOpensACorrection() {
        LabelingState s(1);
        s.setWaiting(pairs({2, 3}));
        s.beginCorrection(pair(1));
        QVERIFY(s.correcting());
        QCOMPARE(s.current()->pairIndex, qint64(1));
        // A snapshot while correcting does not replace the pair being corrected.
        QVERIFY(!s.setWaiting(pairs({3, 2})));
        QCOMPARE(s.current()->pairIndex, qint64(1));
        s.labelAccepted(500);
        QVERIFY(!s.correcting());
        QCOMPARE(s.current()->pairIndex, qint64(2));  // the queue is untouched by the correction
        QCOMPARE(s.labeledCount(), 1);
    }

    void swapMapsChoicesAndRatingsBack_data() {
        QTest::addColumn<bool>("swapped");
        QTest::addColumn<int>("onScreen");
        QTest::addColumn<int>("stored");
        QTest::newRow("plain left") << false << int(Choice::A) << int(Choice::A);
        QTest::newRow("plain right") << false << int(Choice::B) << int(Choice::B);
        QTest::newRow("swapped left") << true << int(Choice::A) << int(Choice::B);
        QTest::newRow("swapped right") << true << int(Choice::B) << int(Choice::A);
        QTest::newRow("swapped tie") << true << int(Choice::Tie) << int(Choice::Tie);
        QTest::newRow("swapped both bad") << true << int(Choice::BothBad) << int(Choice::BothBad);
        QTest::newRow("swapped skip") << true << int(Choice::Skip) << int(Choice::Skip);
    }

    void swapMapsChoicesAndRatingsBack() {
        QFETCH(bool, swapped);
        QFETCH(int, onScreen);
        QFETCH(int, stored);
        LabelingState s(saltWith(7, 8));
        s.setWaiting(pairs({swapped ? 7 : 8}));
        QCOMPARE(s.swapped(s.current()->pairIndex), swapped);
        const Judgement j = s.judgementFor(static_cast<Choice>(onScreen), 6.0, 3.0, "ada", 42);
        QCOMPARE(int(j.choice), stored);
        QCOMPARE(j.pairIndex, s.current()->pairIndex);
        QCOMPARE(j.annotator, std::string("ada"));
        QCOMPARE(int(j.source), int(LabelSource::Human));
        QCOMPARE(j.timeMs, int64_t(42));
        // The left rating belongs to whichever response is on the left.
        QCOMPARE(*j.ratingA, swapped ? 3.0 : 6.0);
        QCOMPARE(*j.ratingB, swapped ? 6.0 : 3.0);
    }

    void swapIsFixedPerPairAndVariesAcrossPairs() {
        LabelingState s(12345);
        int swaps = 0;
        for (qint64 i = 0; i < 200; ++i) {
            QCOMPARE(s.swapped(i), s.swapped(i));
            swaps += s.swapped(i) ? 1 : 0;
        }
        QVERIFY2(swaps > 70 && swaps < 130, qPrintable(QString::number(swaps)));  // about half
    }

    void ratingTurnsTwoNumbersIntoAChoice_data() {
        QTest::addColumn<int>("left");
        QTest::addColumn<int>("right");
        QTest::addColumn<int>("choice");
        QTest::newRow("left higher") << 6 << 3 << int(Choice::A);
        QTest::newRow("right higher") << 2 << 5 << int(Choice::B);
        QTest::newRow("equal and good") << 4 << 4 << int(Choice::Tie);
        QTest::newRow("equal and bad") << 2 << 2 << int(Choice::BothBad);
        QTest::newRow("both 1") << 1 << 1 << int(Choice::BothBad);
        QTest::newRow("equal at 3") << 3 << 3 << int(Choice::Tie);
    }

    void ratingTurnsTwoNumbersIntoAChoice() {
        QFETCH(int, left);
        QFETCH(int, right);
        QFETCH(int, choice);
        LabelingState s(1);
        QVERIFY(!s.rate(left));  // nothing on screen: ignored
        QVERIFY(!s.leftRating());
        s.setWaiting(pairs({1}));
        QVERIFY(!s.rate(left));
        QCOMPARE(*s.leftRating(), left);
        const auto r = s.rate(right);
        QVERIFY(r.has_value());
        QCOMPARE(int(r->onScreen), choice);
        QCOMPARE(r->left, left);
        QCOMPARE(r->right, right);
        QVERIFY(!s.leftRating());
    }

    void newPairClearsAHalfGivenRating() {
        LabelingState s(1);
        s.setWaiting(pairs({1, 2}));
        s.rate(5);
        QVERIFY(s.leftRating());
        s.setWaiting(pairs({2}));  // pair 1 went to the fallback judge
        QVERIFY(!s.leftRating());
    }

    void resetForgetsEverything() {
        LabelingState s(1);
        s.setWaiting(pairs({1, 2}));
        s.labelAccepted(10);
        s.beginCorrection(pair(1));
        s.reset();
        QVERIFY(!s.current());
        QCOMPARE(s.labeledCount(), 0);
        QCOMPARE(s.waitingCount(), 0);
    }
    // Time moves by hand: 3 s active, 10 s in another window (not counted),
    // 1.5 s active again; a new pair starts from zero, also while inactive.
    void labelClockCountsOnlyActiveTime() {
        qint64 now = 1000;
        LabelClock clock;
        clock.setSource([&] { return now; });
        now += 3000;
        QCOMPARE(clock.elapsedMs(), qint64(3000));
        clock.setActive(false);
        now += 10000;
        QCOMPARE(clock.elapsedMs(), qint64(3000));
        clock.setActive(false);  // a second deactivation changes nothing
        clock.setActive(true);
        now += 1500;
        QCOMPARE(clock.elapsedMs(), qint64(4500));
        clock.setActive(false);
        clock.restart();  // a pair appears while the window is in the background
        now += 7000;
        QCOMPARE(clock.elapsedMs(), qint64(0));
        clock.setActive(true);
        now += 250;
        QCOMPARE(clock.elapsedMs(), qint64(250));
        QCOMPARE(clock.now(), now);
    }

    void medianAndPaceByAnnotator() {
        QVERIFY(std::isnan(medianOf({})));
        QCOMPARE(medianOf({5, 1, 3}), 3.0);
        QCOMPARE(medianOf({4, 1, 3, 10}), 3.5);
        // ann: 4 timed labels (1, 3, 4, 8 s: 16 s), one untimed; picks the side
        // shown first 2 times of 3 sided a/b labels. bob: nothing timed or sided.
        const std::vector<TimedLabel> labels = {
            {"ann", "a", 1.0, "a"},   {"ann", "b", 3.0, "a"},         {"ann", "b", 4.0, "b"},
            {"ann", "tie", 8.0, "a"}, {"ann", "a", std::nullopt, ""}, {"bob", "a", std::nullopt, ""},
        };
        const std::vector<AnnotatorPace> pace = annotatorPace(labels, 2.0);
        QCOMPARE(pace.size(), size_t(2));
        const AnnotatorPace& ann = pace[0];
        QCOMPARE(ann.annotator, std::string("ann"));
        QCOMPARE(ann.labels, int64_t(5));
        QCOMPARE(ann.timed, int64_t(4));
        QCOMPARE(ann.labelsPerHour, 900.0);  // 4 labels in 16 s
        QCOMPARE(ann.medianSeconds, 3.5);
        QCOMPARE(ann.fastShare, 0.25);  // 1 s of 4
        QCOMPARE(ann.sided, int64_t(3));
        QCOMPARE(ann.firstShownShare, 2.0 / 3.0);
        QVERIFY(std::isnan(pace[1].medianSeconds) && std::isnan(pace[1].labelsPerHour) &&
                std::isnan(pace[1].firstShownShare));
    }

    // Ten labels at 9 s set the pace; five under 3 s warn, four do not, and
    // one slow label ends the warning.
    void paceWatchWarnsOnAFastStretch() {
        PaceWatch watch(5, 1.0 / 3.0, 10);
        for (int i = 0; i < 10; ++i) QVERIFY(!watch.add(9.0));
        for (int i = 0; i < 4; ++i) QVERIFY(!watch.add(2.5));
        QVERIFY(watch.add(2.5));
        QCOMPARE(watch.median(), 9.0);
        QVERIFY(watch.add(1.0));   // still every one of the last five
        QVERIFY(!watch.add(3.0));  // 3 s is not under a third of 9 s
        QVERIFY(!watch.warning());
        watch.reset();
        for (int i = 0; i < 5; ++i) QVERIFY(!watch.add(0.5));  // no earlier pace to compare with
    }
};

PREFLAB_TEST_MAIN(TestLabelingState)
#include "tst_labeling_state.moc"
