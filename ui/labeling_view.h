#pragma once
// The annotator's view: a prompt and responses A and B side by side, labeled
// from the keyboard (1/A, 2/B, T, X, S/Space, Ctrl+Z, R for 1-7 ratings, E
// to edit a response into the one preferred); in
// a project's thumbs mode one response at a time, thumbs up (U) or down (D).
// The next pair is already generated and held here, so a keypress shows it at
// once. The policy's two samples are shown in a random left-right order, and
// the model's and the judges' opinions stay hidden until the person has
// labeled (they appear for the previous pair). UI thread.
//
// It knows no run: labels leave as signals (labelGiven, correctionGiven,
// undoRequested) and the answers come back through slots (refuseLabel,
// answerUndo) from whoever wired it (app/gui/workbench.cpp). The queue,
// the left-right order and rating in progress live in LabelingState.
#include "core/values/human_judge.h"
#include "core/values/label.h"
#include "core/values/label_timing.h"
#include "core/values/run_config.h"
#include "core/values/run_state.h"
#include "ui/guidelines_panel.h"
#include "ui/key_bindings.h"
#include "ui/label_clock.h"
#include "ui/labeling_state.h"
#include "ui/response_panes.h"

#include <QWidget>

#include <deque>
#include <optional>

class QGridLayout;
class QLabel;
class QPushButton;
class QTextBrowser;

namespace preflab {

class AnnotatorBox;
class RatingButtons;

class LabelingView : public QWidget {
    Q_OBJECT
public:
    explicit LabelingView(QWidget* parent = nullptr);

    void setKeyBindings(const KeyBindings& keys);
    const KeyBindings& keyBindings() const { return m_keys; }
    // Who is labeling: stored with every label. The footer's annotator box
    // switches it at any time, also during a run (annotatorChanged).
    void setAnnotator(const QString& name);
    QString annotator() const { return m_annotator; }
    // The names offered in the annotator box (people who labeled here before).
    void setAnnotatorProfiles(const QStringList& names);
    void setRevealOpinions(bool reveal) { m_revealOpinions = reveal; }
    void setMonospace(bool on) { m_responses->setMonospace(on); }
    // What the panes show: the Markdown rendered (default) or the raw text,
    // and the words in which A and B differ marked (on by default).
    bool rawText() const { return m_responses->raw(); }
    void setRawText(bool raw);
    bool diffShown() const { return m_responses->diff(); }
    void setDiffShown(bool on);
    const ResponsePanes* responsePanes() const { return m_responses; }
    // The guidelines (Markdown) beside the pair, opened when they arrive (a
    // session's start); G shows and hides them. Empty: no panel.
    void setGuidelines(const QString& markdown);
    bool guidelinesShown() const { return !m_guidelines->isHidden(); }
    void setGuidelinesShown(bool on);
    const GuidelinesPanel* guidelinesPanel() const { return m_guidelines; }
    bool ratingMode() const { return m_ratingMode; }
    void setRatingMode(bool on);

    // The pair on screen (its run index), or -1.
    qint64 currentPairIndex() const;
    int labeledCount() const { return m_state.labeledCount(); }
    const LabelingState& state() const { return m_state; }
    // Whether the pair on screen shows B on the left (its order is randomised).
    bool shownSwapped() const { return currentPairIndex() >= 0 && m_state.swapped(currentPairIndex()); }
    // The texts on screen, left and right, as given (not as rendered).
    QString leftText() const { return m_responses->leftSource(); }
    QString rightText() const { return m_responses->rightSource(); }
    // Applies one labeling action, as the keys do.
    void trigger(LabelAction action);
    // The clock that times each label (seconds from the pair appearing to the
    // key press, paused while the window is inactive); tests give it a source.
    void setTimeSource(LabelClock::Source source) { m_labelClock.setSource(std::move(source)); }
    const LabelClock& labelClock() const { return m_labelClock; }
    // Whether the soft "faster than your own pace" warning is showing.
    bool paceWarningShown() const;

public Q_SLOTS:
    // The run's pairs waiting for a person, oldest first.
    void setLabelQueue(const QVector<preflab::PairForJudging>& waiting);
    // The newest pair of a machine-judged run (shown to watch, not to label).
    void showWatchedPair(const preflab::PairForJudging& pair);
    void setActiveRun(const preflab::RunConfig& config);  // a run started
    void clearActiveRun();                                 // the run ended
    // A labeling project without training (overlap annotators per pair):
    // the queue holds stored pairs, and no model's or judge's opinion is shown.
    void setProject(int overlap, preflab::LabelingMode mode = preflab::LabelingMode::Pairs);
    void clearProject();
    bool inProject() const { return m_projectOverlap > 0; }
    bool thumbsMode() const { return inProject() && m_mode == LabelingMode::Thumbs; }
    // Answer to labelGiven: the run no longer had the pair (a fallback judge took it).
    void refuseLabel(qint64 pairIndex);
    // Answer to undoRequested.
    void answerUndo(preflab::UndoResult result, const preflab::PairForJudging& pair);
    // How many of this run's labels are on disk (the footer shows it beside
    // the labeled count, so a person sees that nothing is only in memory).
    void setSavedLabels(qint64 count);

Q_SIGNALS:
    // A label for a waiting pair; a receiver that cannot take it calls
    // refuseLabel() before returning.
    void labelGiven(const preflab::Judgement& judgement);
    // A newer label for a pair the run had already used (after an undo).
    void correctionGiven(const preflab::PairForJudging& pair, const preflab::Judgement& judgement);
    // Ctrl+Z: the receiver answers with answerUndo() before returning.
    void undoRequested();
    void statusMessage(const QString& message);
    // The person switched the annotator in the footer's box.
    void annotatorChanged(const QString& name);
    void labeled(qint64 pairIndex);
    // Thumbs mode: a thumbs up (desirable) or down on the response on screen
    // (its stored id), or passing it by.
    void responseLabelGiven(qint64 responseId, bool desirable, const QString& annotator, qint64 timeMs, double seconds);
    void responseSkipped(qint64 responseId);
    // Edit to prefer (E): the person rewrote side `side` (of the pair as
    // given: A is pair.responseA) into `text`, preferred to the original. The
    // seconds are the label clock's when the editor closed (time in the
    // editor, a window of its own, is not counted).
    void editGiven(const preflab::PairForJudging& pair, preflab::Choice side, const QString& text,
                   const QString& annotator, qint64 timeMs, double seconds);

protected:
    void keyPressEvent(QKeyEvent* event) override;
    // Window activation, and this view hidden or shown, pause and resume the label clock.
    bool event(QEvent* event) override;
    void changeEvent(QEvent* event) override;

private:
    void showPair(const PairForJudging* pair, bool forLabeling);
    void showCurrent();
    void showPrompt(const std::string& prompt);
    // The seconds the pair on screen has taken so far, and the pace warning's
    // verdict once its label is given.
    double labelSeconds() const;
    void notePace(double seconds);
    void submit(Choice choice, std::optional<double> ratingLeft = {}, std::optional<double> ratingRight = {});
    void submitThumb(std::optional<bool> desirable);  // none: skip
    void editResponse();  // E: opens the editor on the pair on screen
    void showModeButtons();
    void rate(int value);
    void resetRatingButtons();
    void undo();
    void updateCaptions();
    void updateCounter();
    void showReveal(const PairForJudging& pair, const Judgement& j);
    bool personRun() const;

    LabelingState m_state;
    std::optional<RunConfig> m_run;  // the active run's settings (judge, beta)
    KeyBindings m_keys;
    QString m_annotator;
    bool m_revealOpinions = true;
    bool m_ratingMode = false;
    bool m_refused = false;  // set by refuseLabel() while labelGiven is being delivered
    LabelClock m_labelClock;
    bool m_windowActive = true;  // until the window says otherwise
    bool m_shown = false;        // this view on screen (its tab the current one)
    qint64 m_timedPair = -1;  // the pair the label clock is timing
    PaceWatch m_pace;         // this annotator's pace in this session
    QLabel* m_paceWarning;

    QLabel* m_title;
    QGridLayout* m_panes;
    QLabel* m_prompt;
    QLabel* m_headLeft;
    QLabel* m_headRight;
    ResponsePanes* m_responses;
    QTextBrowser* m_left;  // m_responses's
    QTextBrowser* m_right;
    std::string m_promptText;  // the prompt on screen
    bool m_showEarlierTurns = false;
    RatingButtons* m_ratingRow;
    GuidelinesPanel* m_guidelines;
    QMap<LabelAction, QPushButton*> m_buttons;
    QLabel* m_reveal;
    QLabel* m_counter;
    AnnotatorBox* m_annotatorBox;
    qint64 m_savedLabels = 0;
    int m_projectOverlap = 0;  // > 0: a labeling project is on
    LabelingMode m_mode = LabelingMode::Pairs;
};

}  // namespace preflab
