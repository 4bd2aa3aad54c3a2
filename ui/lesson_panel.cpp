#include "ui/lesson_panel.h"

#include "core/values/metric_names.h"
#include "ui/qcustomplot_include.h"

#include <QCheckBox>
#include <QCoreApplication>
#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QScrollBar>
#include <QSpinBox>
#include <QTextBrowser>
#include <QVBoxLayout>

#include <cmath>

namespace preflab {
namespace {

QString escaped(const std::string& s) {
    return QString::fromStdString(s).toHtmlEscaped();
}

// The name a reader knows a metric's plot by ("KL to reference"), else its key.
QString plotName(const std::string& key) {
    const MetricInfo* info = findMetric(key);
    if (!info) return QString::fromStdString(key);
    return QCoreApplication::translate("Metric", info->title);
}

}  // namespace

LessonPanel::LessonPanel(QWidget* parent) : QWidget(parent) {
    setObjectName(QStringLiteral("LessonPanel"));
    m_title = new QLabel;
    m_title->setWordWrap(true);
    QFont big = font();
    big.setPointSizeF(big.pointSizeF() * 1.2);
    big.setBold(true);
    m_title->setFont(big);
    m_where = new QLabel;
    m_where->setWordWrap(true);
    m_preparing = new QLabel;
    m_preparing->setWordWrap(true);
    m_busy = new QProgressBar;
    m_busy->setRange(0, 0);  // busy: a preparation has no steps to count
    m_busy->setMaximumHeight(10);
    m_busy->setTextVisible(false);
    m_preparing->hide();
    m_busy->hide();

    m_narration = new QTextBrowser;
    m_narration->setOpenLinks(false);
    m_narration->setMinimumHeight(220);

    m_question = new QWidget;
    auto* q = new QVBoxLayout(m_question);
    q->setContentsMargins(0, 0, 0, 0);
    m_questionLabel = new QLabel;
    m_questionLabel->setWordWrap(true);
    m_choices = new QHBoxLayout;
    q->addWidget(m_questionLabel);
    q->addLayout(m_choices);
    m_question->hide();

    m_bestOfN = new QCustomPlot;
    m_bestOfN->setMinimumHeight(200);
    m_bestOfN->plotLayout()->insertRow(0);
    m_bestOfN->plotLayout()->addElement(
        0, 0, new QCPTextElement(m_bestOfN, tr("Best-of-n: gold and proxy against \u221aKL"), QFont(font().family(), font().pointSize(), QFont::Bold)));
    m_bestOfN->xAxis->setLabel(tr("\u221aKL to the starter (\u221anats, from the samples)"));
    m_bestOfN->yAxis->setLabel(tr("mean reward of the kept sample"));
    m_bestOfN->legend->setVisible(true);
    m_bestOfN->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignLeft);
    m_bestOfN->setToolTip(tr("Gao et al. 2022: as best-of-n selects harder on the proxy (the reward model), its score "
                             "keeps climbing while the true (gold) reward levels off or falls. KL is computed exactly "
                             "from the sampled rewards' distribution, ties included."));
    m_bestOfN->hide();

    m_continue = new QPushButton(tr("Continue \u25b6"));
    m_continue->setObjectName(QStringLiteral("LessonContinue"));
    m_continue->setEnabled(false);
    m_continue->setToolTip(tr("The run is paused at this cue; Continue goes on."));
    m_stepMode = new QCheckBox(tr("Pause at each cue"));
    m_stepMode->setChecked(true);
    m_stepMode->setToolTip(tr("Step mode: the run pauses where the lesson has something to show, until Continue."));
    m_seed = new QSpinBox;
    m_seed->setRange(0, 1000000);
    m_seed->setPrefix(tr("seed "));
    auto* replay = new QPushButton(tr("Replay"));
    replay->setToolTip(tr("Play the lesson again from its start with this seed: other samples, other curves, and the "
                          "checks say whether the story held again."));
    auto* save = new QPushButton(tr("Save\u2026"));
    save->setToolTip(tr("Save the lesson, its seed and how far it got, as a file to reopen (or hand out)."));
    auto* close = new QPushButton(tr("Close lesson"));

    auto* controls = new QHBoxLayout;
    controls->addWidget(m_continue, 1);
    controls->addWidget(m_stepMode);
    auto* replayRow = new QHBoxLayout;
    replayRow->addWidget(m_seed);
    replayRow->addWidget(replay);
    replayRow->addStretch(1);
    replayRow->addWidget(save);
    replayRow->addWidget(close);

    auto* layout = new QVBoxLayout(this);
    layout->addWidget(m_title);
    layout->addWidget(m_where);
    layout->addWidget(m_preparing);
    layout->addWidget(m_busy);
    layout->addWidget(m_narration, 3);
    layout->addWidget(m_question);
    layout->addWidget(m_bestOfN, 2);
    layout->addLayout(controls);
    layout->addLayout(replayRow);

    connect(m_continue, &QPushButton::clicked, this, &LessonPanel::continueRequested);
    connect(m_stepMode, &QCheckBox::toggled, this, &LessonPanel::stepModeChanged);
    connect(replay, &QPushButton::clicked, this, [this] { Q_EMIT replayRequested(m_seed->value()); });
    connect(save, &QPushButton::clicked, this, &LessonPanel::saveRequested);
    connect(close, &QPushButton::clicked, this, &LessonPanel::closeRequested);
}

QString LessonPanel::narrationText() const {
    return m_narration->toPlainText();
}

QList<QPushButton*> LessonPanel::choiceButtons() const {
    QList<QPushButton*> out;
    if (!m_question->isVisibleTo(this)) return out;
    for (int i = 0; i < m_choices->count(); ++i) {
        if (auto* b = qobject_cast<QPushButton*>(m_choices->itemAt(i)->widget())) out << b;
    }
    return out;
}

void LessonPanel::begin(const QString& title, const QString& summary, qint64 seed, bool stepMode) {
    m_title->setText(title);
    m_where->setText(tr("Seed %1").arg(seed));
    m_seed->setValue(static_cast<int>(seed));
    m_stepMode->setChecked(stepMode);
    m_narration->clear();
    m_bestOfN->clearGraphs();
    m_bestOfN->hide();
    clearQuestion();
    setWaiting(false);
    append(QStringLiteral("<p><i>%1</i></p>").arg(summary.toHtmlEscaped()));
}

void LessonPanel::beginRun(int index, int count, const QString& title) {
    m_where->setText(tr("Seed %1 \u00b7 run %2 of %3: %4").arg(m_seed->value()).arg(index + 1).arg(count).arg(title));
    append(QStringLiteral("<h3>%1</h3>").arg(title.toHtmlEscaped()));
}

void LessonPanel::setPreparing(const QString& what) {
    m_preparing->setText(what);
    m_preparing->setVisible(!what.isEmpty());
    m_busy->setVisible(!what.isEmpty());
}

void LessonPanel::append(const QString& html) {
    m_narration->append(html);  // a paragraph of its own, newest at the bottom
    m_narration->verticalScrollBar()->setValue(m_narration->verticalScrollBar()->maximum());
}

void LessonPanel::showEvents(const QVector<LessonEvent>& events) {
    using K = LessonEvent::Kind;
    for (const LessonEvent& e : events) {
        const QString where = e.run.empty() || e.kind == K::Failed || e.kind == K::Closing
                                  ? QString()
                                  : QStringLiteral("<span style='color:#777'>%1 \u00b7 step %2</span><br>")
                                        .arg(escaped(e.run))
                                        .arg(e.step);
        QString body;
        switch (e.kind) {
        case K::Narration: body = escaped(e.text); break;
        case K::Question: body = tr("<b>Predict:</b> %1").arg(escaped(e.text)); break;
        case K::Reveal: body = tr("<b>Answer:</b> %1").arg(escaped(e.text)); break;
        case K::Missed:
        case K::Instead: body = tr("<span style='color:#9a5b00'><b>Not this time:</b> %1</span>").arg(escaped(e.text)); break;
        case K::Failed: body = tr("<span style='color:#b00020'><b>Check failed:</b> %1</span>").arg(escaped(e.text)); break;
        case K::Closing: body = tr("<h3>Summary</h3>%1").arg(escaped(e.text)); break;
        }
        if (!e.plot.empty()) body += tr("<br><i>\u2192 look at the plot \u201c%1\u201d</i>").arg(plotName(e.plot).toHtmlEscaped());
        append(QStringLiteral("<p>%1%2</p>").arg(where, body));
        if (e.kind == K::Question) askQuestion(e);
        if (e.kind == K::Reveal) clearQuestion();  // the run has answered it
    }
}

void LessonPanel::askQuestion(const LessonEvent& e) {
    clearQuestion();
    m_questionLabel->setText(tr("Your prediction: %1").arg(QString::fromStdString(e.text)));
    const QString cue = QString::fromStdString(e.cue);
    for (const std::string& choice : e.choices) {
        auto* b = new QPushButton(QString::fromStdString(choice));
        const QString c = QString::fromStdString(choice);
        connect(b, &QPushButton::clicked, this, [this, cue, c] {
            Q_EMIT answerGiven(cue, c);
            append(tr("<p><i>You predicted: %1</i></p>").arg(c.toHtmlEscaped()));
            clearQuestion();
        });
        m_choices->addWidget(b);
    }
    m_question->show();
}

void LessonPanel::clearQuestion() {
    while (QLayoutItem* item = m_choices->takeAt(0)) {
        delete item->widget();
        delete item;
    }
    m_question->hide();
}

void LessonPanel::setWaiting(bool waiting) {
    m_continue->setEnabled(waiting);
    m_continue->setText(waiting ? tr("Continue \u25b6 (paused here)") : tr("Continue \u25b6"));
    if (waiting) m_continue->setDefault(true);
}

void LessonPanel::showBestOfN(const BestOfNTable& table) {
    m_bestOfN->clearGraphs();
    QCPGraph* gold = m_bestOfN->addGraph();
    QCPGraph* proxy = m_bestOfN->addGraph();
    gold->setName(tr("gold (true reward)"));
    proxy->setName(tr("proxy (the reward model's score)"));
    gold->setPen(QPen(QColor(0x2e, 0x7d, 0x32), 2));
    proxy->setPen(QPen(QColor(0xc6, 0x28, 0x28), 2));
    gold->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, 6));
    proxy->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssSquare, 6));
    QString rows;
    for (const BestOfNPoint& p : table.rows) {
        gold->addData(std::sqrt(p.kl), p.gold);
        proxy->addData(std::sqrt(p.kl), p.proxy);
        rows += QStringLiteral("<tr><td>%1</td><td>%2</td><td>%3</td><td>%4</td><td>%5</td></tr>")
                    .arg(p.n)
                    .arg(p.gold, 0, 'f', 3)
                    .arg(p.proxy, 0, 'f', 3)
                    .arg(p.kl, 0, 'f', 3)
                    .arg(bestOfNKlWithoutTies(p.n), 0, 'f', 3);
    }
    m_bestOfN->rescaleAxes();
    m_bestOfN->xAxis->scaleRange(1.1);
    m_bestOfN->yAxis->scaleRange(1.3);
    m_bestOfN->show();
    m_bestOfN->replot();
    append(tr("<p>Best-of-n over %1 samples of each of %2 prompts (%3 s). KL is computed from the sampled proxy "
              "rewards' distribution; %4 of %2 prompts have tied proxy rewards, %5.</p>"
              "<table border='1' cellspacing='0' cellpadding='3'><tr><th>n</th><th>gold</th><th>proxy</th>"
              "<th>KL</th><th>log n \u2212 (n\u22121)/n</th></tr>%6</table>")
               .arg(table.samplesPerPrompt)
               .arg(table.prompts)
               .arg(table.seconds, 0, 'f', 0)
               .arg(table.tiedPrompts)
               .arg(table.tiedPrompts > 0 ? tr("so the formula log n \u2212 (n\u22121)/n (an upper bound with ties) was not used")
                                          : tr("so the computed KL approaches log n \u2212 (n\u22121)/n"))
               .arg(rows));
}

void LessonPanel::showChecks(const QVector<LessonCheckResult>& checks) {
    int held = 0;
    QString items;
    for (const LessonCheckResult& c : checks) {
        held += c.held ? 1 : 0;
        items += QStringLiteral("<li><span style='color:%1'>%2</span> %3<br><span style='color:#555'>%4</span></li>")
                     .arg(c.held ? QStringLiteral("#2e7d32") : QStringLiteral("#b00020"),
                          c.held ? tr("\u2714 held") : tr("\u2718 did not hold"), escaped(c.claim), escaped(c.evidence));
    }
    append(tr("<h3>What the narration claimed, checked on this run: %1 of %2 held</h3><ul>%3</ul>")
               .arg(held)
               .arg(checks.size())
               .arg(items));
    m_where->setText(tr("Seed %1 \u00b7 finished").arg(m_seed->value()));
    setWaiting(false);
    clearQuestion();
}

void LessonPanel::showStopped(const QString& reason) {
    append(tr("<p style='color:#b00020'><b>The lesson stopped:</b> %1</p>").arg(reason.toHtmlEscaped()));
    setWaiting(false);
    setPreparing({});
    clearQuestion();
}

}  // namespace preflab
