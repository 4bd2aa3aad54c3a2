#pragma once
// Completions across steps: the policy's responses to a few fixed evaluation
// prompts at every evaluation of one run. A slider moves over the evaluation
// steps; each response is shown against the reference's response to the same
// prompt (step 0, sampled with the same seed, so a word differs only where the
// policy changed), added words highlighted and removed ones struck through,
// with each response's gold reward. Read through the DatabaseReader. UI thread.
#include "storage/database_reader.h"

#include <QMap>
#include <QVector>
#include <QWidget>

class QLabel;
class QSlider;
class QTextBrowser;

namespace preflab {

class CompletionsView : public QWidget {
    Q_OBJECT
public:
    explicit CompletionsView(DatabaseReader* reader, QWidget* parent = nullptr);

    // Shows this run (0: none); reloads when it is already shown.
    void setRun(qint64 runId);
    qint64 run() const { return m_run; }
    // The evaluation steps with responses, in order (the slider's positions).
    QVector<qint64> steps() const { return m_steps; }
    void showStep(qint64 step);
    qint64 shownStep() const;
    QString html() const;

Q_SIGNALS:
    void loaded();

private:
    void render();

    DatabaseReader* m_reader;
    qint64 m_run = 0;
    quint64 m_request = 0;
    QVector<qint64> m_steps;
    QMap<qint64, QVector<EvalSampleRow>> m_byStep;
    QLabel* m_stepLabel;
    QSlider* m_slider;
    QTextBrowser* m_text;
};

}  // namespace preflab
