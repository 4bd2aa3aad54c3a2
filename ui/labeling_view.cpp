#include "ui/labeling_view.h"

#include "ui/edit_response_dialog.h"
#include "core/values/judge_registry.h"
#include "ui/annotator_box.h"
#include "ui/conversation_turns.h"
#include "ui/guidelines_panel.h"
#include "ui/rating_buttons.h"
#include "ui/response_panes.h"

#include "core/values/run_config.h"
#include "core/values/method_registry.h"

#include <QGridLayout>
#include <QHBoxLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QPushButton>
#include <QRandomGenerator>
#include <QTextBrowser>
#include <QVBoxLayout>

namespace preflab {
namespace {

// The buttons that switch what is shown rather than label.
bool isToggle(LabelAction a) {
    return a == LabelAction::ToggleRating || a == LabelAction::ToggleRaw || a == LabelAction::ToggleDiff ||
           a == LabelAction::ToggleGuidelines;
}

QString signedNumber(double v) {
    return (v >= 0 ? QStringLiteral("+") : QString()) + QString::number(v, 'f', 2);
}

QString choiceText(Choice c) {
    switch (c) {
    case Choice::A: return QObject::tr("A");
    case Choice::B: return QObject::tr("B");
    case Choice::Tie: return QObject::tr("tie");
    case Choice::BothBad: return QObject::tr("both bad");
    case Choice::Skip: return QObject::tr("skip");
    }
    return {};
}

}  // namespace

LabelingView::LabelingView(QWidget* parent)
    : QWidget(parent), m_state(QRandomGenerator::global()->generate64()) {
    setFocusPolicy(Qt::StrongFocus);
    m_labelClock.setActive(false);  // nothing is before anyone until this view is shown

    m_title = new QLabel;
    m_title->setWordWrap(true);
    m_title->setStyleSheet(QStringLiteral("color: palette(mid);"));
    m_prompt = new QLabel;
    m_prompt->setWordWrap(true);
    m_prompt->setTextFormat(Qt::RichText);  // promptHtml escapes the prompt's own text
    // The one link: folding or unfolding a conversation's earlier turns.
    connect(m_prompt, &QLabel::linkActivated, this, [this] {
        m_showEarlierTurns = !m_showEarlierTurns;
        m_prompt->setText(promptHtml(m_promptText, m_showEarlierTurns));
        setFocus();
    });
    m_prompt->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::LinksAccessibleByMouse);
    QFont pf = m_prompt->font();
    pf.setPointSizeF(pf.pointSizeF() * 1.35);
    pf.setBold(true);
    m_prompt->setFont(pf);

    m_headLeft = new QLabel(tr("<b>A</b>"));
    m_headRight = new QLabel(tr("<b>B</b>"));
    m_responses = new ResponsePanes(this);
    m_left = m_responses->left();
    m_right = m_responses->right();
    // Why no word is marked, when the marking is on and none is.
    auto* diffNote = new QLabel;
    diffNote->setStyleSheet(QStringLiteral("color: palette(mid);"));
    connect(m_responses, &ResponsePanes::rendered, diffNote, [this, diffNote] {
        diffNote->setText(!m_responses->diff()              ? QString()
                          : !m_responses->compared()        ? tr("too long to compare word by word")
                          : m_responses->differThroughout() ? tr("A and B differ throughout: no words marked")
                                                            : QString());
    });

    m_ratingRow = new RatingButtons;
    connect(m_ratingRow, &RatingButtons::leftClicked, this, [this](int v) {
        m_state.clearRating();
        rate(v);
    });
    connect(m_ratingRow, &RatingButtons::rightClicked, this, [this](int v) {
        if (m_state.leftRating()) rate(v);
    });
    m_ratingRow->setVisible(false);

    auto* panes = m_panes = new QGridLayout;
    panes->addWidget(m_headLeft, 0, 0);
    auto* headRight = new QHBoxLayout;
    headRight->addWidget(m_headRight);
    headRight->addStretch();
    headRight->addWidget(diffNote);
    panes->addLayout(headRight, 0, 1);
    panes->addWidget(m_left, 1, 0);
    panes->addWidget(m_right, 1, 1);
    panes->setColumnStretch(0, 1);
    panes->setColumnStretch(1, 1);

    auto* buttons = new QHBoxLayout;
    // Thumbs first: in the thumbs mode they take the choices' place.
    for (LabelAction a :
         {LabelAction::ThumbUp, LabelAction::ThumbDown, LabelAction::ChooseA, LabelAction::ChooseB, LabelAction::Tie,
          LabelAction::BothBad, LabelAction::Skip, LabelAction::Undo, LabelAction::ToggleRating, LabelAction::ToggleRaw,
          LabelAction::ToggleDiff, LabelAction::ToggleGuidelines, LabelAction::Edit}) {
        auto* b = new QPushButton;
        b->setFocusPolicy(Qt::NoFocus);
        b->setMinimumHeight(34);
        b->setCheckable(isToggle(a));
        connect(b, &QPushButton::clicked, this, [this, a] { trigger(a); });
        m_buttons[a] = b;
        buttons->addWidget(b);
        if (a == LabelAction::Skip) buttons->addSpacing(16);
    }
    m_buttons[LabelAction::ToggleDiff]->setChecked(m_responses->diff());

    m_reveal = new QLabel;
    m_reveal->setWordWrap(true);
    m_reveal->setTextFormat(Qt::RichText);
    m_counter = new QLabel;
    m_counter->setAlignment(Qt::AlignRight | Qt::AlignVCenter);
    // Soft: it asks the person to slow down and blocks nothing.
    m_paceWarning = new QLabel;
    m_paceWarning->setWordWrap(true);
    m_paceWarning->setStyleSheet(QStringLiteral("QLabel { background: #fff3cd; color: #664d03; padding: 4px; }"));
    m_paceWarning->setVisible(false);

    m_annotatorBox = new AnnotatorBox;
    connect(m_annotatorBox, &AnnotatorBox::refused, this,
            [this](const QString& problem) { m_reveal->setText(tr("Annotator name not used: %1").arg(problem)); });
    connect(m_annotatorBox, &AnnotatorBox::nameApplied, this, [this](const QString& name) {
        m_annotator = name;
        m_pace.reset();  // the warning compares a person with their own pace
        m_paceWarning->setVisible(false);
        Q_EMIT annotatorChanged(name);
    });
    connect(m_annotatorBox, &AnnotatorBox::done, this, [this] { setFocus(); });  // the keys label again

    auto* footer = new QHBoxLayout;
    footer->addWidget(new QLabel(tr("Annotator:")));
    footer->addWidget(m_annotatorBox);
    footer->addSpacing(12);
    footer->addWidget(m_reveal, 1);
    footer->addWidget(m_counter);

    auto* layout = new QVBoxLayout(this);
    layout->addWidget(m_title);
    layout->addWidget(m_prompt);
    // The guidelines beside the pair, a third of the width when shown.
    m_guidelines = new GuidelinesPanel;
    m_guidelines->setVisible(false);
    auto* middle = new QHBoxLayout;
    middle->addLayout(panes, 3);
    middle->addWidget(m_guidelines, 1);
    layout->addLayout(middle, 1);
    layout->addWidget(m_ratingRow);
    layout->addWidget(m_paceWarning);
    layout->addLayout(buttons);
    layout->addLayout(footer);

    updateCaptions();
    showModeButtons();
    clearActiveRun();
}

void LabelingView::setKeyBindings(const KeyBindings& keys) {
    m_keys = keys;
    updateCaptions();
}

void LabelingView::setRawText(bool raw) {
    m_responses->setRaw(raw);
    m_buttons[LabelAction::ToggleRaw]->setChecked(raw);
}

void LabelingView::setDiffShown(bool on) {
    m_responses->setDiff(on);
    m_buttons[LabelAction::ToggleDiff]->setChecked(on);
}

void LabelingView::setGuidelines(const QString& markdown) {
    m_guidelines->setMarkdown(markdown);
    setGuidelinesShown(!m_guidelines->empty());  // a session starts with them open
    showModeButtons();
}

void LabelingView::setGuidelinesShown(bool on) {
    m_guidelines->setVisible(on && !m_guidelines->empty());
    m_buttons[LabelAction::ToggleGuidelines]->setChecked(!m_guidelines->isHidden());
}

void LabelingView::setRatingMode(bool on) {
    m_ratingMode = on;
    m_ratingRow->setVisible(on);
    m_buttons[LabelAction::ToggleRating]->setChecked(on);
    resetRatingButtons();
}

void LabelingView::resetRatingButtons() {
    m_state.clearRating();
    m_ratingRow->reset();
}

void LabelingView::showModeButtons() {
    // One response on screen: thumbs, skip and undo; two: the choices.
    const bool thumbs = thumbsMode();
    for (LabelAction a : KeyBindings::actions()) {
        const bool thumbAction = a == LabelAction::ThumbUp || a == LabelAction::ThumbDown;
        const bool both = a == LabelAction::Skip || a == LabelAction::Undo || a == LabelAction::ToggleRaw;
        m_buttons[a]->setVisible(both || thumbAction == thumbs);
    }
    m_buttons[LabelAction::ToggleGuidelines]->setVisible(!m_guidelines->empty());
    m_headRight->setVisible(!thumbs);
    m_right->setVisible(!thumbs);
    m_panes->setColumnStretch(1, thumbs ? 0 : 1);  // the one response takes the width
}

void LabelingView::updateCaptions() {
    for (LabelAction a : KeyBindings::actions()) {
        m_buttons[a]->setText(QStringLiteral("%1  [%2]").arg(KeyBindings::actionName(a), m_keys.caption(a)));
    }
    m_guidelines->setKeyCaption(m_keys.caption(LabelAction::ToggleGuidelines));
}

void LabelingView::showPrompt(const std::string& prompt) {
    if (prompt != m_promptText) m_showEarlierTurns = false;  // a new conversation starts folded
    m_promptText = prompt;
    m_prompt->setText(promptHtml(prompt, m_showEarlierTurns));
}

qint64 LabelingView::currentPairIndex() const {
    const PairForJudging* p = m_state.current();
    return p ? p->pairIndex : -1;
}

void LabelingView::setAnnotator(const QString& name) {
    m_annotator = name;
    m_annotatorBox->setName(name);
}

void LabelingView::setAnnotatorProfiles(const QStringList& names) {
    m_annotatorBox->setProfiles(names);
}

bool LabelingView::personRun() const {
    return m_run && judgeNeedsPerson(m_run->judge);
}

void LabelingView::setActiveRun(const RunConfig& config) {
    m_run = config;
    m_state.reset();
    m_pace.reset();
    m_paceWarning->setVisible(false);
    m_reveal->clear();
    // CPO, DR-CPO and OO-RLHF learn from numeric outcomes: a person rates.
    if (methodFamily(config.algorithm) == MethodFamily::Causal) setRatingMode(true);
    showCurrent();
    updateCounter();
}

void LabelingView::setProject(int overlap, LabelingMode mode) {
    m_projectOverlap = overlap;
    m_mode = mode;
    if (mode == LabelingMode::Thumbs) setRatingMode(false);
    showModeButtons();
    RunConfig project;
    project.judge = judgeName(JudgeKind::Human);
    project.annotator = m_annotator.toStdString();
    m_savedLabels = 0;
    setActiveRun(project);
}

void LabelingView::clearProject() {
    m_projectOverlap = 0;
    m_mode = LabelingMode::Pairs;
    showModeButtons();
    clearActiveRun();
}

void LabelingView::clearActiveRun() {
    m_run.reset();
    m_state.reset();
    m_reveal->clear();
    showCurrent();
    updateCounter();
}

void LabelingView::setLabelQueue(const QVector<PairForJudging>& waiting) {
    if (m_state.setWaiting(waiting) || !m_state.current()) showCurrent();
    updateCounter();
}

void LabelingView::showCurrent() {
    // A pair that appears (not one redrawn) starts the label clock again.
    const PairForJudging* pair = m_state.current();
    const qint64 index = pair ? pair->pairIndex : -1;
    if (index != m_timedPair) {
        m_timedPair = index;
        m_labelClock.restart();
    }
    showPair(pair, true);
}

double LabelingView::labelSeconds() const {
    return static_cast<double>(m_labelClock.elapsedMs()) / 1000.0;  // whole milliseconds
}

bool LabelingView::paceWarningShown() const {
    return !m_paceWarning->isHidden();
}

void LabelingView::notePace(double seconds) {
    const bool warn = m_pace.add(seconds);
    if (warn) {
        m_paceWarning->setText(tr("Your last labels took under a third of your usual %1 s each. Take the time to read "
                                  "both responses: quick labels are easy to get wrong, and the lead sees the pace.")
                                   .arg(m_pace.median(), 0, 'f', 1));
    }
    m_paceWarning->setVisible(warn);
}

bool LabelingView::event(QEvent* event) {
    // The label clock runs while the pair is before the person: the window
    // active (WindowActivate/Deactivate reach the window's widgets; tests send
    // them directly) and this view shown (not behind another tab).
    switch (event->type()) {
    case QEvent::WindowActivate: m_windowActive = true; break;
    case QEvent::WindowDeactivate: m_windowActive = false; break;
    case QEvent::Show: m_shown = true; break;
    case QEvent::Hide: m_shown = false; break;
    default: return QWidget::event(event);
    }
    m_labelClock.setActive(m_windowActive && m_shown);
    return QWidget::event(event);
}

void LabelingView::changeEvent(QEvent* event) {
    if (event->type() == QEvent::ActivationChange) {
        m_windowActive = isActiveWindow();
        m_labelClock.setActive(m_windowActive && m_shown);
    }
    QWidget::changeEvent(event);
}

void LabelingView::showPair(const PairForJudging* pair, bool forLabeling) {
    const bool personRun = this->personRun();
    for (auto* b : m_buttons) b->setEnabled(forLabeling && pair);
    m_buttons[LabelAction::Undo]->setEnabled(personRun);
    for (LabelAction a : m_buttons.keys()) {
        if (isToggle(a)) m_buttons[a]->setEnabled(true);
    }
    if (m_ratingMode) resetRatingButtons();  // clears half-given ratings
    if (!pair) {
        m_headLeft->setText(tr("<b>A</b>"));
        m_headRight->setText(tr("<b>B</b>"));
        m_responses->clear();
        m_promptText.clear();
        if (inProject()) {
            m_title->setText(tr("Nothing left for %1 in the labeling project.").arg(m_annotator.toHtmlEscaped()));
            m_prompt->setText((thumbsMode() ? tr("Every response you have not labeled (or skipped) already has %1 annotators. ")
                                            : tr("Every pair you have not labeled already has %1 annotators. "))
                                  .arg(m_projectOverlap) +
                              tr("Switch the annotator below, or stop the project in the Run menu."));
        } else if (personRun) {
            m_title->setText(tr("Waiting for the model to generate the next pairs..."));
            m_prompt->setText(tr("Generating"));
        } else {
            m_title->setText(tr("No run is waiting for labels."));
            m_prompt->setText(tr("Start a run with the judge set to <i>Person</i> (or <i>Person + task judge</i>) "
                                 "and pairs appear here, ready for the keyboard."));
        }
        return;
    }
    if (thumbsMode()) {
        m_responses->show(QString::fromStdString(pair->responseA), {}, true);
        showPrompt(pair->prompt);
        m_headLeft->setText(tr("<b>Response #%1</b>").arg(pair->pairIndex));
        m_title->setText(tr("Thumbs mode (%1 per response): is this a good response to the prompt? "
                            "Thumbs up or down; each response is judged on its own.")
                             .arg(m_projectOverlap == 1 ? tr("one annotator") : tr("%1 annotators").arg(m_projectOverlap)));
        return;
    }
    const bool swap = forLabeling && m_state.swapped(pair->pairIndex);
    const QString a = QString::fromStdString(pair->responseA), b = QString::fromStdString(pair->responseB);
    m_responses->show(swap ? b : a, swap ? a : b);
    showPrompt(pair->prompt);
    if (forLabeling) {
        m_headLeft->setText(tr("<b>A</b>"));
        m_headRight->setText(tr("<b>B</b>"));
        if (inProject()) {
            m_title->setText(tr("Labeling project (%1 annotators per pair): pair #%2. Which response is better?")
                                 .arg(m_projectOverlap)
                                 .arg(pair->pairIndex));
        } else {
            m_title->setText(m_state.correcting() ? tr("Correcting pair #%1: the run already used your earlier label; the new one is "
                                               "stored as the latest and is the one exports and the browser use.")
                                                .arg(pair->pairIndex)
                                          : tr("Pair #%1, sampled at step %2. Which response is better?")
                                                .arg(pair->pairIndex)
                                                .arg(pair->generatedAtStep));
        }
    } else {
        auto head = [](const QString& side, const std::optional<double>& gold) {
            return gold ? QObject::tr("<b>%1</b> &nbsp; true reward %2").arg(side, signedNumber(*gold))
                        : QStringLiteral("<b>%1</b>").arg(side);
        };
        m_headLeft->setText(head(tr("A"), pair->goldA));
        m_headRight->setText(head(tr("B"), pair->goldB));
        m_title->setText(tr("Watching: the newest pair, sampled at step %1. The %2 judge labels this run.")
                             .arg(pair->generatedAtStep)
                             .arg(QString::fromStdString(m_run ? m_run->judge : std::string())));
    }
}

void LabelingView::showWatchedPair(const PairForJudging& pair) {
    if (m_state.current()) return;  // a person is labeling: never replace their pair
    if (!m_run || personRun()) return;
    showPair(&pair, false);
}

void LabelingView::keyPressEvent(QKeyEvent* event) {
    if (m_ratingMode && event->key() >= Qt::Key_1 && event->key() < Qt::Key_1 + kRatingMax &&
        (event->modifiers() & ~Qt::KeypadModifier) == Qt::NoModifier) {
        rate(event->key() - Qt::Key_0);
        return;
    }
    LabelAction action;
    if (m_keys.match(event, &action)) {
        trigger(action);
        return;
    }
    QWidget::keyPressEvent(event);
}

void LabelingView::trigger(LabelAction action) {
    if (thumbsMode()) {  // one response: only thumbs, skip and undo mean something
        switch (action) {
        case LabelAction::ThumbUp: submitThumb(true); return;
        case LabelAction::ThumbDown: submitThumb(false); return;
        case LabelAction::Skip: submitThumb(std::nullopt); return;
        case LabelAction::Undo: undo(); return;
        case LabelAction::ToggleRaw: setRawText(!rawText()); return;
        case LabelAction::ToggleGuidelines: setGuidelinesShown(!guidelinesShown()); return;
        default: return;
        }
    }
    switch (action) {
    case LabelAction::ChooseA: submit(Choice::A); return;
    case LabelAction::ChooseB: submit(Choice::B); return;
    case LabelAction::Tie: submit(Choice::Tie); return;
    case LabelAction::BothBad: submit(Choice::BothBad); return;
    case LabelAction::Skip: submit(Choice::Skip); return;
    case LabelAction::Undo: undo(); return;
    case LabelAction::ToggleRating: setRatingMode(!m_ratingMode); return;
    case LabelAction::ToggleRaw: setRawText(!rawText()); return;
    case LabelAction::ToggleDiff: setDiffShown(!diffShown()); return;
    case LabelAction::ToggleGuidelines: setGuidelinesShown(!guidelinesShown()); return;
    case LabelAction::Edit: editResponse(); return;
    case LabelAction::ThumbUp:
    case LabelAction::ThumbDown: return;  // two responses on screen: say which is better
    }
}

void LabelingView::rate(int value) {
    const std::optional<LabelingState::Rated> r = m_state.rate(value);
    if (!r) {
        if (!m_state.leftRating()) return;  // nothing on screen
        m_ratingRow->leftRated(value);
        return;
    }
    submit(r->onScreen, r->left, r->right);
}

void LabelingView::submit(Choice onScreen, std::optional<double> ratingLeft, std::optional<double> ratingRight) {
    const PairForJudging* pair = m_state.current();
    if (!pair) return;
    const PairForJudging done = *pair;
    Judgement j = m_state.judgementFor(onScreen, ratingLeft, ratingRight, m_annotator.toStdString(), nowMs());
    j.seconds = labelSeconds();
    j.shownFirst = m_state.swapped(done.pairIndex) ? Choice::B : Choice::A;  // the left pane
    if (m_state.correcting()) {
        m_state.labelAccepted(m_labelClock.now());
        Q_EMIT correctionGiven(done, j);
    } else {
        m_refused = false;
        Q_EMIT labelGiven(j);  // a receiver that cannot take it calls refuseLabel() now
        if (m_refused) {
            Q_EMIT statusMessage(tr("Pair #%1 was handed to the fallback judge before your label; showing the next one.")
                                     .arg(done.pairIndex));
            showCurrent();
            updateCounter();
            return;
        }
        m_state.labelAccepted(m_labelClock.now());
    }
    m_timedPair = -1;  // whatever shows next is timed from now
    notePace(*j.seconds);
    showCurrent();
    showReveal(done, j);
    updateCounter();
    Q_EMIT labeled(done.pairIndex);
}

void LabelingView::submitThumb(std::optional<bool> desirable) {
    const PairForJudging* shown = m_state.current();
    if (!shown) return;
    const qint64 responseId = shown->pairIndex;
    const double seconds = labelSeconds();
    if (desirable)
        Q_EMIT responseLabelGiven(responseId, *desirable, m_annotator, nowMs(), seconds);
    else Q_EMIT responseSkipped(responseId);
    m_state.labelAccepted(m_labelClock.now());
    m_timedPair = -1;
    if (desirable) notePace(seconds);
    showCurrent();
    m_reveal->setText(!desirable ? tr("Previous response #%1: skipped (not stored; shown again next session)").arg(responseId)
                      : *desirable ? tr("Previous response #%1: <b>thumbs up</b>").arg(responseId)
                                   : tr("Previous response #%1: <b>thumbs down</b>").arg(responseId));
    updateCounter();
    Q_EMIT labeled(responseId);
}

void LabelingView::editResponse() {
    const PairForJudging* shown = m_state.current();
    if (!shown) return;
    if (m_annotator.trimmed().isEmpty()) {
        Q_EMIT statusMessage(tr("Choose who you are (the annotator box) before editing: an edit is stored under your name."));
        return;
    }
    const PairForJudging pair = *shown;
    auto* dialog = new EditResponseDialog(leftText(), rightText(), this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &QDialog::accepted, this, [this, dialog, pair] {
        // The pair may have gone meanwhile (a fallback judge took it): the
        // edit is still a correction of its responses, stored all the same.
        const bool leftIsB = m_state.swapped(pair.pairIndex);
        const Choice side = dialog->fromLeft() == !leftIsB ? Choice::A : Choice::B;
        Q_EMIT editGiven(pair, side, dialog->text(), m_annotator, nowMs(), labelSeconds());
        m_reveal->setText(tr("Your edit of the %1 response is stored as preferred to the original (a correction pair). "
                             "Pair #%2 is still to label.")
                              .arg(dialog->fromLeft() ? tr("left") : tr("right"))
                              .arg(pair.pairIndex));
        setFocus();
    });
    dialog->open();
}

void LabelingView::refuseLabel(qint64 pairIndex) {
    m_refused = true;
    m_state.labelRefused(pairIndex);
}

void LabelingView::undo() {
    Q_EMIT undoRequested();  // answered through answerUndo()
}

void LabelingView::answerUndo(UndoResult result, const PairForJudging& pair) {
    switch (result) {
    case UndoResult::Nothing:
        Q_EMIT statusMessage(tr("Nothing to undo."));
        return;
    case UndoResult::Retracted:
        m_state.labelRetracted(pair);
        m_timedPair = -1;  // on screen again: timed afresh
        m_reveal->setText(thumbsMode() ? tr("Label taken back: response #%1 is on screen again.").arg(pair.pairIndex)
                                       : tr("Label taken back: pair #%1 is on screen again.").arg(pair.pairIndex));
        showCurrent();
        updateCounter();
        return;
    case UndoResult::AlreadyUsed:
        m_state.beginCorrection(pair);
        m_timedPair = -1;
        showCurrent();
        return;
    }
}

void LabelingView::showReveal(const PairForJudging& p, const Judgement& j) {
    QString text = tr("Previous pair #%1: you chose <b>%2</b>").arg(p.pairIndex).arg(choiceText(j.choice));
    if (j.ratingA && j.ratingB) text += tr(" (ratings A %1, B %2)").arg(*j.ratingA).arg(*j.ratingB);
    if (m_revealOpinions && !inProject()) {  // a project's annotator sees no model's or judge's opinion
        const double beta = m_run ? m_run->beta : 0.0;
        const double ra = beta * (p.policyLogpA - p.refLogpA), rb = beta * (p.policyLogpB - p.refLogpB);
        text += tr(" &middot; model's implicit reward A %1, B %2").arg(signedNumber(ra), signedNumber(rb));
        if (p.goldA && p.goldB) {
            const QString verdict = *p.goldA > *p.goldB ? tr("A") : *p.goldB > *p.goldA ? tr("B") : tr("tie");
            text += tr(" &middot; task judge: <b>%1</b> (true reward %2 vs %3)")
                        .arg(verdict, signedNumber(*p.goldA), signedNumber(*p.goldB));
        }
    }
    m_reveal->setText(text);
}

void LabelingView::setSavedLabels(qint64 count) {
    m_savedLabels = count;
    updateCounter();
}

void LabelingView::updateCounter() {
    m_counter->setToolTip(tr("saved: labels written to the database; a crash loses none of them"));
    m_counter->setText(tr("labeled <b>%1</b> &middot; saved %2 &middot; waiting %3 &middot; %4 per minute")
                           .arg(m_state.labeledCount())
                           .arg(m_savedLabels)
                           .arg(m_state.waitingCount())
                           .arg(m_state.labelsPerMinute(m_labelClock.now()), 0, 'f', 1));
}

}  // namespace preflab
