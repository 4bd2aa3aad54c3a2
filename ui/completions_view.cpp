#include "ui/completions_view.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QSlider>
#include <QTextBrowser>
#include <QVBoxLayout>

#include <cmath>

#include "ui/word_diff.h"

namespace preflab {

CompletionsView::CompletionsView(DatabaseReader* reader, QWidget* parent) : QWidget(parent), m_reader(reader) {
    m_slider = new QSlider(Qt::Horizontal);
    m_slider->setEnabled(false);
    m_slider->setTickPosition(QSlider::TicksBelow);
    m_slider->setPageStep(1);
    m_stepLabel = new QLabel;
    m_stepLabel->setMinimumWidth(160);
    auto* refresh = new QPushButton(tr("Refresh"));
    refresh->setToolTip(tr("Read the run's newest evaluations"));
    m_text = new QTextBrowser;
    connect(m_slider, &QSlider::valueChanged, this, [this] { render(); });
    connect(refresh, &QPushButton::clicked, this, [this] { setRun(m_run); });
    connect(reader, &DatabaseReader::evalSamplesLoaded, this,
            [this](quint64 request, qint64 runId, const QVector<EvalSampleRow>& rows) {
                if (request != m_request || runId != m_run) return;
                const qint64 shown = shownStep();
                const bool atEnd = m_steps.isEmpty() || m_slider->value() == m_slider->maximum();
                m_byStep.clear();
                for (const EvalSampleRow& r : rows) m_byStep[r.step].push_back(r);
                m_steps = QVector<qint64>(m_byStep.keyBegin(), m_byStep.keyEnd());
                const QSignalBlocker block(m_slider);
                m_slider->setEnabled(m_steps.size() > 1);
                m_slider->setRange(0, std::max<int>(0, static_cast<int>(m_steps.size()) - 1));
                // Stay on the step shown, or follow the newest one.
                m_slider->setValue(atEnd ? m_slider->maximum() : std::max(0, static_cast<int>(m_steps.indexOf(shown))));
                render();
                Q_EMIT loaded();
            });

    auto* top = new QHBoxLayout;
    top->addWidget(new QLabel(tr("Evaluation step")));
    top->addWidget(m_slider, 1);
    top->addWidget(m_stepLabel);
    top->addWidget(refresh);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(top);
    layout->addWidget(m_text, 1);
    render();
}

void CompletionsView::setRun(qint64 runId) {
    if (runId != m_run) {
        m_steps.clear();
        m_byStep.clear();
    }
    m_run = runId;
    m_request = runId > 0 ? m_reader->loadEvalSamples(runId) : 0;
    render();
}

void CompletionsView::showStep(qint64 step) {
    const int i = static_cast<int>(m_steps.indexOf(step));
    if (i >= 0) m_slider->setValue(i);
}

qint64 CompletionsView::shownStep() const {
    const int i = m_slider->value();
    return i >= 0 && i < m_steps.size() ? m_steps[i] : -1;
}

QString CompletionsView::html() const {
    return m_text->toHtml();
}

void CompletionsView::render() {
    if (m_run <= 0 || m_steps.isEmpty()) {
        m_stepLabel->clear();
        m_text->setHtml(m_run <= 0 ? tr("<p>Open a run (Run history) or start one to see its completions.</p>")
                                   : tr("<p>Run %1 has no stored completions yet: they are kept at each evaluation "
                                        "(runs made before PrefLab kept them have none).</p>")
                                         .arg(m_run));
        return;
    }
    const qint64 step = shownStep();
    const qint64 base = m_steps.first();
    m_stepLabel->setText(tr("step %1 (%2 of %3)").arg(step).arg(m_slider->value() + 1).arg(m_steps.size()));
    const QVector<EvalSampleRow>& reference = m_byStep[base];
    QString html = tr("<p style=\"color:#555\">Run %1: the policy's response to each fixed prompt at step %2, against "
                      "the %3's response at step %4 (the same sampling seed at every step). "
                      "<span style=\"background:#c6efc6\">Added</span> and "
                      "<span style=\"color:#b03030; text-decoration:line-through\">removed</span> words are marked.</p>")
                       .arg(m_run)
                       .arg(step)
                       .arg(base == 0 ? tr("reference") : tr("earliest stored evaluation"))
                       .arg(base);
    for (const EvalSampleRow& now : m_byStep[step]) {
        const EvalSampleRow* ref = nullptr;
        for (const EvalSampleRow& r : reference) {
            if (r.promptIndex == now.promptIndex) ref = &r;
        }
        html += QStringLiteral("<h4>%1</h4>").arg(QString::fromStdString(now.prompt).toHtmlEscaped());
        if (ref) {
            int changed = 0;
            const QString diff =
                diffHtml(wordDiff(QString::fromStdString(ref->text), QString::fromStdString(now.text)), &changed);
            const double delta = now.goldReward - ref->goldReward;
            const QString versus = std::abs(delta) < 0.005 ? tr("as at step %1").arg(base)
                                   : delta > 0            ? tr("%1 more than step %2").arg(delta, 0, 'f', 2).arg(base)
                                                          : tr("%1 less than step %2").arg(-delta, 0, 'f', 2).arg(base);
            html += tr("<p><b>step %1</b> (gold %2, %3; %4): %5</p>")
                        .arg(step)
                        .arg(now.goldReward, 0, 'f', 2)
                        .arg(versus, changed == 1 ? tr("1 word changed") : tr("%1 words changed").arg(changed))
                        .arg(diff);
            html += tr("<p style=\"color:#666\">step %1 (gold %2): %3</p>")
                        .arg(base)
                        .arg(ref->goldReward, 0, 'f', 2)
                        .arg(QString::fromStdString(ref->text).toHtmlEscaped());
        } else {
            html += tr("<p><b>step %1</b> (gold %2): %3</p>")
                        .arg(step)
                        .arg(now.goldReward, 0, 'f', 2)
                        .arg(QString::fromStdString(now.text).toHtmlEscaped());
        }
    }
    m_text->setHtml(html);
}

}  // namespace preflab
