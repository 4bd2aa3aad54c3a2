#include "ui/agreement_view.h"

#include "core/values/agreement.h"
#include "core/values/judge_registry.h"
#include "core/values/label_timing.h"
#include "ui/polled_request.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QTableWidget>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <map>

#include "ui/qcustomplot_include.h"

namespace preflab {

AgreementView::AgreementView(DatabaseReader* reader, QWidget* parent) : QWidget(parent), m_reader(reader) {
    m_summary = new QLabel(tr("No labels from named annotators yet."));
    m_summary->setWordWrap(true);
    auto* refreshButton = new QPushButton(tr("Refresh"));
    connect(refreshButton, &QPushButton::clicked, this, &AgreementView::refresh);
    auto* top = new QHBoxLayout;
    top->addWidget(m_summary, 1);
    top->addWidget(refreshButton);

    m_plot = new QCustomPlot;
    m_plot->setMinimumSize(360, 320);
    m_plot->setToolTip(tr("Cohen's kappa of each two annotators on the pairs both labelled: 1 is full agreement, 0 is "
                          "what chance gives with their label frequencies, below 0 worse than chance. Grey: no shared pairs."));
    m_table = new QTableWidget(0, 4);
    m_table->setHorizontalHeaderLabels({tr("Annotator"), tr("Labels"), tr("Pairs shared"), tr("Mean kappa with others")});
    m_table->horizontalHeaderItem(2)->setToolTip(tr("Pairs this annotator labelled together with another, summed over the others"));
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_table->verticalHeader()->setVisible(false);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    auto* body = new QHBoxLayout;
    body->addWidget(m_plot, 3);
    body->addWidget(m_table, 2);
    m_quality = new QTableWidget(0, 7);
    m_quality->setHorizontalHeaderLabels({tr("Annotator"), tr("Timed labels"), tr("Labels per hour"),
                                          tr("Median seconds"), tr("Under %1 s").arg(kFastLabelSeconds),
                                          tr("Picked the side shown first"), tr("Gold pairs right")});
    m_quality->horizontalHeaderItem(6)->setToolTip(
        tr("Gold pairs (a known answer, set with `preflab gold`) are mixed into each queue unannounced and never "
           "trained on: the share this annotator answered as the lead did (skips aside), with Wilson's 95 % interval"));
    m_quality->horizontalHeaderItem(2)->setToolTip(
        tr("Per hour of labeling: time with the labeling window inactive is "
           "not counted"));
    m_quality->horizontalHeaderItem(4)->setToolTip(
        tr("Share of labels given in under %1 s: too fast to have read both responses").arg(kFastLabelSeconds));
    m_quality->horizontalHeaderItem(5)->setToolTip(
        tr("How often an A or B label picked the response shown first (left). A careful annotator is near 50 %, as the "
           "sides are randomised; a share outside the band chance allows (marked) is a position bias."));
    m_quality->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_quality->verticalHeader()->setVisible(false);
    m_quality->setEditTriggers(QAbstractItemView::NoEditTriggers);
    auto* qualityTitle =
        new QLabel(tr("<b>How each annotator labels</b> (each one's latest label of each pair; a label stored "
                      "without its time or shown side, such as an older one, counts only for what it has)"));
    qualityTitle->setWordWrap(true);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(top);
    layout->addLayout(body, 3);
    layout->addWidget(qualityTitle);
    layout->addWidget(m_quality, 1);

    m_poll = new PolledRequest(m_reader, [this] { return m_reader->loadAnnotatorLabels(m_run); }, this);
    connect(m_reader, &DatabaseReader::annotatorLabelsLoaded, this, [this](quint64 request, const QVector<AnnotatorLabelRow>& rows) {
        if (m_poll->accept(request)) show(rows);
    });
    connect(m_poll, &PolledRequest::failed, m_summary, &QLabel::setText);
}

void AgreementView::setRun(qint64 runId) {
    m_run = runId;
    refresh();
}

void AgreementView::refresh() {
    m_poll->refresh();
}

void AgreementView::showEvent(QShowEvent* event) {
    QWidget::showEvent(event);
    m_poll->start();
}

void AgreementView::hideEvent(QHideEvent* event) {
    QWidget::hideEvent(event);
    m_poll->stop();
}

void AgreementView::show(const QVector<AnnotatorLabelRow>& rows) {
    std::vector<CodedValue> values, withJudges;
    std::map<std::string, int> labels;
    QStringList judges;
    int labelCount = 0;
    for (const AnnotatorLabelRow& r : rows) {
        if (r.judge) {
            if (!judges.contains(QString::fromStdString(r.annotator))) judges << QString::fromStdString(r.annotator);
            withJudges.push_back({r.pairId, "judge:" + r.annotator, r.choice});
            continue;
        }
        ++labelCount;
        ++labels[r.annotator];
        if (r.choice != "skip") values.push_back({r.pairId, r.annotator, r.choice}), withJudges.push_back(values.back());
    }
    m_annotators.clear();
    for (const auto& [name, count] : labels) m_annotators << QString::fromStdString(name);
    const int n = m_annotators.size();
    const AlphaResult alpha = krippendorffAlphaNominal(values);
    const auto kappas = pairwiseKappa(values);
    m_kappa = QVector<double>(n * n, std::nan(""));
    std::vector<int64_t> shared(static_cast<size_t>(n), 0);
    for (int i = 0; i < n; ++i) {
        m_kappa[i * n + i] = 1.0;
        for (int j = i + 1; j < n; ++j) {
            const auto it = kappas.find(m_annotators[i].toStdString() + "|" + m_annotators[j].toStdString());
            if (it == kappas.end()) continue;
            m_kappa[i * n + j] = m_kappa[j * n + i] = it->second.kappa;
            shared[static_cast<size_t>(i)] += it->second.units;
            shared[static_cast<size_t>(j)] += it->second.units;
        }
    }

    const QString scope = m_run > 0 ? tr("run %1").arg(m_run) : tr("all stored labels");
    if (n == 0) {
        m_summary->setText(tr("No labels from named annotators in %1. Give each person an annotator name; imported "
                              "label files carry theirs.").arg(scope));
    } else {
        m_summary->setText(tr("%1: %2 labels by %3 annotators. Krippendorff's alpha (nominal, skips missing) %4 over %5 "
                              "pairs labelled at least twice.")
                               .arg(scope)
                               .arg(labelCount)
                               .arg(n)
                               .arg(std::isnan(alpha.alpha) ? tr("undefined") : QString::number(alpha.alpha, 'f', 3))
                               .arg(alpha.units));
    }

    // The heatmap: kappa in [-1, 1], diverging colours, each cell's value written on it.
    m_plot->clearPlottables();
    m_plot->clearItems();
    if (m_plot->plotLayout()->elementCount() > 1) m_plot->plotLayout()->removeAt(1);
    if (n > 0) {
        auto* map = new QCPColorMap(m_plot->xAxis, m_plot->yAxis);
        map->data()->setSize(n, n);
        map->data()->setRange(QCPRange(0, n - 1), QCPRange(0, n - 1));
        for (int i = 0; i < n; ++i) {
            for (int j = 0; j < n; ++j) {
                const double k = m_kappa[i * n + j];
                const bool self = i == j;
                map->data()->setCell(i, j, std::isnan(k) || self ? 0.0 : k);
                if (std::isnan(k) || self) map->data()->setAlpha(i, j, 0);  // nothing to compare: left blank
                auto* text = new QCPItemText(m_plot);
                text->position->setCoords(i, j);
                text->setText(self ? QString() : std::isnan(k) ? QStringLiteral("-") : QString::number(k, 'f', 2));
                text->setColor(std::abs(k) > 0.65 ? Qt::white : Qt::black);
            }
        }
        // Diverging: white at 0 (chance), blue towards full agreement, red below chance.
        QCPColorGradient gradient;
        gradient.setColorStopAt(0.0, QColor(178, 24, 43));
        gradient.setColorStopAt(0.5, QColor(247, 247, 247));
        gradient.setColorStopAt(1.0, QColor(33, 102, 172));
        map->setGradient(gradient);
        map->setDataRange(QCPRange(-1, 1));
        map->setInterpolate(false);
        auto* scale = new QCPColorScale(m_plot);
        m_plot->plotLayout()->addElement(0, 1, scale);
        scale->setLabel(tr("Cohen's kappa"));
        map->setColorScale(scale);  // the map takes the scale's gradient: set it there
        scale->setGradient(gradient);
        scale->setDataRange(QCPRange(-1, 1));
        QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
        for (int i = 0; i < n; ++i) ticker->addTick(i, m_annotators[i]);
        m_plot->xAxis->setTicker(ticker);
        m_plot->yAxis->setTicker(ticker);
        m_plot->xAxis->setRange(-0.5, n - 0.5);
        m_plot->yAxis->setRange(-0.5, n - 0.5);
        m_plot->yAxis->setRangeReversed(true);
    }
    m_plot->replot();

    // Each annotator against each judge whose verdicts exist on their pairs,
    // in a fixed order (task judge, reward model, LLM judge, implicit reward).
    QStringList order;
    for (LabelSource s : {LabelSource::Task, LabelSource::RewardModel, LabelSource::Llm, LabelSource::Self})
        order << QString::fromStdString(toString(s));
    std::sort(judges.begin(), judges.end(), [&](const QString& x, const QString& y) { return order.indexOf(x) < order.indexOf(y); });
    m_table->setColumnCount(4 + judges.size());
    QStringList headers{tr("Annotator"), tr("Labels"), tr("Pairs shared"), tr("Mean kappa with others")};
    for (const QString& j : judges) headers << tr("Kappa with %1").arg(QString::fromStdString(labelSourceDisplayName(j.toStdString())));
    m_table->setHorizontalHeaderLabels(headers);
    for (int c = 0; c < judges.size(); ++c) {
        m_table->horizontalHeaderItem(4 + c)->setToolTip(
            tr("Cohen's kappa of the annotator's labels with the %1's verdicts on the pairs both judged; in brackets the "
               "share of those pairs on which they agree, and how many pairs")
                .arg(QString::fromStdString(labelSourceDisplayName(judges[c].toStdString()))));
    }
    m_table->setRowCount(n);
    for (int i = 0; i < n; ++i) {
        for (int c = 0; c < judges.size(); ++c) {
            const KappaResult k = cohenKappa(withJudges, m_annotators[i].toStdString(), "judge:" + judges[c].toStdString());
            m_table->setItem(i, 4 + c, new QTableWidgetItem(
                k.units == 0 ? QStringLiteral("-")
                             : tr("%1 (%2 %, %3 pairs)")
                                   .arg(std::isnan(k.kappa) ? tr("undefined") : QString::number(k.kappa, 'f', 2))
                                   .arg(100.0 * k.observedAgreement, 0, 'f', 0)
                                   .arg(k.units)));
        }
        double sum = 0;
        int count = 0;
        for (int j = 0; j < n; ++j) {
            if (j != i && !std::isnan(m_kappa[i * n + j])) sum += m_kappa[i * n + j], ++count;
        }
        m_table->setItem(i, 0, new QTableWidgetItem(m_annotators[i]));
        m_table->setItem(i, 1, new QTableWidgetItem(QString::number(labels[m_annotators[i].toStdString()])));
        m_table->setItem(i, 2, new QTableWidgetItem(QString::number(shared[static_cast<size_t>(i)])));
        m_table->setItem(i, 3, new QTableWidgetItem(count ? QString::number(sum / count, 'f', 3) : QStringLiteral("-")));
    }
    showQuality(rows);
    Q_EMIT loaded();
}

void AgreementView::showQuality(const QVector<AnnotatorLabelRow>& rows) {
    std::vector<TimedLabel> labels;
    for (const AnnotatorLabelRow& r : rows) {
        if (!r.judge) labels.push_back({r.annotator, r.choice, r.seconds, r.shownFirst, r.pairId, r.goldAnswer});
    }
    const std::vector<AnnotatorPace> paces = annotatorPace(labels);
    auto figure = [](double v, int decimals, const QString& unit = {}) {
        return std::isnan(v) ? QStringLiteral("-") : QString::number(v, 'f', decimals) + unit;
    };
    m_quality->setRowCount(static_cast<int>(paces.size()));
    int row = 0;
    for (const AnnotatorPace& a : paces) {
        m_quality->setItem(row, 0, new QTableWidgetItem(QString::fromStdString(a.annotator)));
        m_quality->setItem(row, 1, new QTableWidgetItem(tr("%1 of %2").arg(a.timed).arg(a.labels)));
        m_quality->setItem(row, 2, new QTableWidgetItem(figure(a.labelsPerHour, 0)));
        m_quality->setItem(row, 3, new QTableWidgetItem(figure(a.medianSeconds, 1)));
        m_quality->setItem(row, 4, new QTableWidgetItem(figure(100.0 * a.fastShare, 0, QStringLiteral(" %"))));
        auto* bias = new QTableWidgetItem(
            a.sided == 0 ? QStringLiteral("-")
                         : tr("%1 % of %2").arg(100.0 * a.firstShownShare, 0, 'f', 0).arg(a.sided));
        // Two standard errors of a fair coin's share: outside it, chance
        // alone rarely (about 1 in 20) puts a careful annotator.
        const double band = a.sided > 0 ? 2.0 * std::sqrt(0.25 / static_cast<double>(a.sided)) : 1.0;
        if (a.sided >= 10 && std::abs(a.firstShownShare - 0.5) > band) {
            bias->setText(bias->text() + tr("  (position bias?)"));
            bias->setBackground(QColor(255, 236, 179));
        }
        m_quality->setItem(row, 5, bias);
        if (a.timed > 0 && a.fastShare > 0.25) m_quality->item(row, 4)->setBackground(QColor(255, 236, 179));
        m_quality->setItem(row, 6, new QTableWidgetItem(
            a.goldLabels == 0 ? QStringLiteral("-")
                              : tr("%1 % of %2 (95 % CI %3–%4 %)")
                                    .arg(100.0 * a.goldAccuracy, 0, 'f', 0)
                                    .arg(a.goldLabels)
                                    .arg(100.0 * a.goldInterval.low, 0, 'f', 0)
                                    .arg(100.0 * a.goldInterval.high, 0, 'f', 0)));
        ++row;
    }
}

QString AgreementView::qualityText(int row, int column) const {
    const QTableWidgetItem* item = m_quality->item(row, column);
    return item ? item->text() : QString();
}

QString AgreementView::summary() const {
    return m_summary->text();
}

QString AgreementView::cellText(int row, int column) const {
    const QTableWidgetItem* item = m_table->item(row, column);
    return item ? item->text() : QString();
}

double AgreementView::kappa(int row, int column) const {
    const int n = m_annotators.size();
    return row < n && column < n ? m_kappa[row * n + column] : std::nan("");
}

}  // namespace preflab
