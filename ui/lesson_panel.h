#pragma once
// The lesson view's narration panel (issue 29), docked beside the live plots:
// the lesson's title, which run is playing, its narration as the cues fire
// (with the run's own numbers), the prediction buttons of a question, the
// best-of-n curve of Gao et al. where a lesson has one, the checks at the end,
// and Continue (step mode), replay with another seed, save and close. It
// knows no run: requests leave as signals; app/gui/workbench.cpp wires them
// to the lesson session. UI thread.
#include "core/values/best_of_n.h"
#include "core/values/lesson_engine.h"

#include <QVector>
#include <QWidget>

class QCheckBox;
class QCustomPlot;
class QHBoxLayout;
class QLabel;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTextBrowser;

namespace preflab {

class LessonPanel : public QWidget {
    Q_OBJECT
public:
    explicit LessonPanel(QWidget* parent = nullptr);

    // The narration so far, as plain text (for tests).
    QString narrationText() const;
    QPushButton* continueButton() const { return m_continue; }
    // The current question's choice buttons (empty when none is open).
    QList<QPushButton*> choiceButtons() const;
    QSpinBox* seedBox() const { return m_seed; }

public Q_SLOTS:
    void begin(const QString& title, const QString& summary, qint64 seed, bool stepMode);
    void beginRun(int index, int count, const QString& title);
    void setPreparing(const QString& what);  // empty: done
    void showEvents(const QVector<preflab::LessonEvent>& events);
    void setWaiting(bool waiting);
    void showBestOfN(const preflab::BestOfNTable& table);
    void showChecks(const QVector<preflab::LessonCheckResult>& checks);
    void showStopped(const QString& reason);

Q_SIGNALS:
    void continueRequested();
    void answerGiven(const QString& cueId, const QString& choice);
    void stepModeChanged(bool on);
    void replayRequested(qint64 seed);
    void saveRequested();
    void closeRequested();

private:
    void append(const QString& html);
    void askQuestion(const LessonEvent& e);
    void clearQuestion();

    QLabel* m_title;
    QLabel* m_where;
    QLabel* m_preparing;
    QProgressBar* m_busy;
    QTextBrowser* m_narration;
    QWidget* m_question;
    QLabel* m_questionLabel;
    QHBoxLayout* m_choices;
    QCustomPlot* m_bestOfN;
    QPushButton* m_continue;
    QCheckBox* m_stepMode;
    QSpinBox* m_seed;
};

}  // namespace preflab
