#pragma once
// The annotator's view: a prompt and responses A and B side by side, labeled
// from the keyboard (1/A, 2/B, T, X, S/Space, Ctrl+Z, R for 1-7 ratings).
// The next pair is already generated and held here, so a keypress shows it at
// once. The policy's two samples are shown in a random left-right order, and
// the model's and the judges' opinions stay hidden until the person has
// labeled (they appear for the previous pair). UI thread.
#include "app/session/run_controller.h"
#include "ui/key_bindings.h"

#include <QElapsedTimer>
#include <QWidget>

#include <deque>
#include <optional>

class QButtonGroup;
class QLabel;
class QPushButton;
class QTextBrowser;

namespace preflab {

class LabelingView : public QWidget {
    Q_OBJECT
public:
    explicit LabelingView(RunController* controller, QWidget* parent = nullptr);

    void setKeyBindings(const KeyBindings& keys);
    const KeyBindings& keyBindings() const { return m_keys; }
    void setAnnotator(const QString& name) { m_annotator = name; }
    void setRevealOpinions(bool reveal) { m_revealOpinions = reveal; }
    void setMonospace(bool on);
    bool ratingMode() const { return m_ratingMode; }
    void setRatingMode(bool on);

    // The pair on screen (its run index), or -1.
    qint64 currentPairIndex() const;
    int labeledCount() const { return m_labeled; }
    // Whether the pair on screen shows B on the left (its order is randomised).
    bool shownSwapped() const { return currentPairIndex() >= 0 && swapped(currentPairIndex()); }
    // The texts on screen, left and right.
    QString leftText() const;
    QString rightText() const;
    // Applies one labeling action, as the keys do.
    void trigger(LabelAction action);

public Q_SLOTS:
    void refreshQueue();                        // the run's label queue changed
    void showWatchedPair(const preflab::PairForJudging& pair);  // newest pair of a machine-judged run
    void runChanged();                          // a run started or ended

Q_SIGNALS:
    void statusMessage(const QString& message);
    void labeled(qint64 pairIndex);

protected:
    void keyPressEvent(QKeyEvent* event) override;

private:
    void showPair(const PairForJudging* pair, bool forLabeling);
    void submit(Choice choice, std::optional<double> ratingLeft = {}, std::optional<double> ratingRight = {});
    void rate(int value);
    void undo();
    void updateCaptions();
    void updateCounter();
    void showReveal(const PairForJudging& pair, const Judgement& j);
    bool swapped(qint64 pairIndex) const;
    Choice unswap(Choice onScreen, qint64 pairIndex) const;

    RunController* m_controller;
    KeyBindings m_keys;
    QString m_annotator;
    bool m_revealOpinions = true;
    bool m_ratingMode = false;
    std::optional<int> m_leftRating;  // rating mode: the left response's score, waiting for the right's
    std::deque<PairForJudging> m_queue;  // local copy, oldest first; front is on screen
    std::optional<PairForJudging> m_correcting;  // a collected pair being relabeled after undo
    int m_labeled = 0;
    std::deque<qint64> m_labelTimesMs;  // for the per-minute rate
    QElapsedTimer m_clock;

    QLabel* m_title;
    QLabel* m_prompt;
    QLabel* m_headLeft;
    QLabel* m_headRight;
    QTextBrowser* m_left;
    QTextBrowser* m_right;
    QWidget* m_ratingRow;
    QButtonGroup* m_ratingLeft;
    QButtonGroup* m_ratingRight;
    QLabel* m_ratingHint;
    QMap<LabelAction, QPushButton*> m_buttons;
    QLabel* m_reveal;
    QLabel* m_counter;
};

}  // namespace preflab
