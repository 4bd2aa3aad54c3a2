#include "ui/adjudication_view.h"

#include "ui/polled_request.h"

#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QKeyEvent>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>

namespace preflab {
namespace {

QString choiceName(const std::string& c) {
    if (c == "a") return QObject::tr("A");
    if (c == "b") return QObject::tr("B");
    if (c == "tie") return QObject::tr("tie");
    if (c == "both_bad") return QObject::tr("both bad");
    if (c == "skip") return QObject::tr("skipped");
    return QString::fromStdString(c);
}

QString labelsText(const Disagreement& d, const QString& separator) {
    QStringList parts;
    for (const auto& [annotator, choice] : d.labels) {
        parts << QStringLiteral("%1: %2").arg(QString::fromStdString(annotator), choiceName(choice));
    }
    return parts.join(separator);
}

}  // namespace

AdjudicationView::AdjudicationView(DatabaseReader* reader, QWidget* parent) : QWidget(parent), m_reader(reader) {
    m_summary = new QLabel(tr("No pairs on which annotators disagree."));
    m_summary->setWordWrap(true);
    auto* refreshButton = new QPushButton(tr("Refresh"));
    connect(refreshButton, &QPushButton::clicked, this, &AdjudicationView::refresh);
    auto* top = new QHBoxLayout;
    top->addWidget(m_summary, 1);
    top->addWidget(refreshButton);

    m_table = new QTableWidget(0, 4);
    m_table->setHorizontalHeaderLabels({tr("Pair"), tr("Prompt"), tr("Annotators' labels"), tr("Final label")});
    m_table->horizontalHeader()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
    m_table->horizontalHeader()->setSectionResizeMode(1, QHeaderView::Stretch);
    m_table->horizontalHeader()->setSectionResizeMode(2, QHeaderView::ResizeToContents);
    m_table->horizontalHeader()->setSectionResizeMode(3, QHeaderView::ResizeToContents);
    m_table->verticalHeader()->setVisible(false);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    connect(m_table, &QTableWidget::currentCellChanged, this, [this](int row) { showPair(row); });

    m_prompt = new QLabel;
    m_prompt->setWordWrap(true);
    m_prompt->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_labels = new QLabel;
    m_labels->setWordWrap(true);
    m_responseA = new QPlainTextEdit;
    m_responseB = new QPlainTextEdit;
    for (QPlainTextEdit* e : {m_responseA, m_responseB}) e->setReadOnly(true);
    auto* boxA = new QGroupBox(tr("Response A"));
    (new QVBoxLayout(boxA))->addWidget(m_responseA);
    auto* boxB = new QGroupBox(tr("Response B"));
    (new QVBoxLayout(boxB))->addWidget(m_responseB);
    auto* responses = new QHBoxLayout;
    responses->addWidget(boxA);
    responses->addWidget(boxB);

    auto* buttons = new QHBoxLayout;
    buttons->addWidget(new QLabel(tr("Final label:")));
    const std::pair<Choice, QString> choices[] = {
        {Choice::A, tr("A is better  [1]")}, {Choice::B, tr("B is better  [2]")},
        {Choice::Tie, tr("Tie  [3]")}, {Choice::BothBad, tr("Both bad  [4]")}};
    for (const auto& [choice, text] : choices) {
        auto* b = new QPushButton(text);
        const Choice c = choice;
        connect(b, &QPushButton::clicked, this, [this, c] { adjudicateSelected(c); });
        buttons->addWidget(b);
        m_buttons << b;
    }
    buttons->addStretch(1);

    auto* detail = new QWidget;
    auto* d = new QVBoxLayout(detail);
    d->setContentsMargins(0, 0, 0, 0);
    d->addWidget(m_prompt);
    d->addWidget(m_labels);
    d->addLayout(responses, 1);
    d->addLayout(buttons);

    auto* split = new QSplitter(Qt::Vertical);
    split->addWidget(m_table);
    split->addWidget(detail);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 2);
    split->setChildrenCollapsible(false);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(top);
    layout->addWidget(split, 1);
    showPair(-1);
    // The keys 1-4 reach the view from the table and the responses too (the
    // table would otherwise take them as a keyboard search).
    for (QWidget* w : {static_cast<QWidget*>(m_table), static_cast<QWidget*>(m_responseA), static_cast<QWidget*>(m_responseB)}) {
        w->installEventFilter(this);
    }

    m_poll = new PolledRequest(m_reader, [this] { return m_reader->loadDisagreements(m_run); }, this);
    connect(m_reader, &DatabaseReader::disagreementsLoaded, this, [this](quint64 request, const QVector<Disagreement>& rows) {
        if (m_poll->accept(request)) showRows(rows);
    });
    connect(m_poll, &PolledRequest::failed, m_summary, &QLabel::setText);
}

bool AdjudicationView::takeKey(int key) {
    static const Choice byKey[] = {Choice::A, Choice::B, Choice::Tie, Choice::BothBad};
    if (key < Qt::Key_1 || key > Qt::Key_4) return false;
    adjudicateSelected(byKey[key - Qt::Key_1]);
    return true;
}

bool AdjudicationView::eventFilter(QObject* watched, QEvent* event) {
    if (event->type() == QEvent::KeyPress) {
        const auto* k = static_cast<QKeyEvent*>(event);
        if (k->modifiers() == Qt::NoModifier && takeKey(k->key())) return true;
    }
    return QWidget::eventFilter(watched, event);
}

void AdjudicationView::keyPressEvent(QKeyEvent* event) {
    if (event->modifiers() == Qt::NoModifier && takeKey(event->key())) return;
    QWidget::keyPressEvent(event);
}

void AdjudicationView::setRun(qint64 runId) {
    m_run = runId;
    refresh();
}

void AdjudicationView::setReviewer(const QString& name) {
    m_reviewer = name.trimmed().isEmpty() ? QStringLiteral("reviewer") : name.trimmed();
}

void AdjudicationView::refresh() {
    m_poll->refresh();
}

void AdjudicationView::showEvent(QShowEvent* event) {
    QWidget::showEvent(event);
    m_poll->start();
}

void AdjudicationView::hideEvent(QHideEvent* event) {
    QWidget::hideEvent(event);
    m_poll->stop();
}

namespace {

bool sameRows(const QVector<Disagreement>& x, const QVector<Disagreement>& y) {
    if (x.size() != y.size()) return false;
    for (int i = 0; i < x.size(); ++i) {
        if (x[i].pairId != y[i].pairId || x[i].labels != y[i].labels || x[i].finalChoice != y[i].finalChoice ||
            x[i].reviewer != y[i].reviewer) {
            return false;
        }
    }
    return true;
}

}  // namespace

void AdjudicationView::showRows(const QVector<Disagreement>& rows) {
    // The poll re-reads every two seconds: when nothing changed, the table,
    // the selection and the reviewer's place in the responses stay as they are.
    if (m_table->rowCount() > 0 && m_given.isEmpty() && sameRows(rows, m_rows)) {
        Q_EMIT loaded();
        return;
    }
    const int selected = m_table->currentRow();
    const qint64 selectedPair = selected >= 0 && selected < m_rows.size() ? m_rows[selected].pairId : -1;
    m_rows = rows;
    int settled = 0;
    m_table->setRowCount(rows.size());
    int reselect = -1;
    for (int i = 0; i < rows.size(); ++i) {
        const Disagreement& r = rows[i];
        const auto given = m_given.find(r.pairId);
        if (given != m_given.end() && given->first == r.finalChoice) m_given.erase(given);  // on disk now
        QString finalText = r.finalChoice.empty()
                                ? QString()
                                : tr("%1 (%2)").arg(choiceName(r.finalChoice), QString::fromStdString(r.reviewer));
        if (m_given.contains(r.pairId)) finalText = m_given[r.pairId].second;
        settled += !finalText.isEmpty();
        QString prompt = QString::fromStdString(r.prompt).simplified();
        if (prompt.size() > 90) prompt = prompt.left(89) + QChar(0x2026);
        m_table->setItem(i, 0, new QTableWidgetItem(QString::number(r.pairId)));
        m_table->setItem(i, 1, new QTableWidgetItem(prompt));
        m_table->setItem(i, 2, new QTableWidgetItem(labelsText(r, QStringLiteral(" · "))));
        m_table->setItem(i, 3, new QTableWidgetItem(finalText.isEmpty() ? tr("open") : finalText));
        if (r.pairId == selectedPair) reselect = i;
    }
    const QString scope = m_run > 0 ? tr("Run %1").arg(m_run) : tr("All stored labels");
    m_summary->setText(rows.isEmpty()
                           ? tr("%1: no pairs on which annotators disagree.").arg(scope)
                           : tr("%1: annotators disagree on %2 pairs; %3 have a final label, %4 are open. The final "
                                "label is what training uses; agreement counts only the annotators. Reviewer: %5.")
                                 .arg(scope)
                                 .arg(rows.size())
                                 .arg(settled)
                                 .arg(rows.size() - settled)
                                 .arg(m_reviewer.isEmpty() ? QStringLiteral("reviewer") : m_reviewer));
    // First look: the first pair that still needs a final label.
    for (int i = 0; reselect < 0 && i < rows.size(); ++i) {
        if (m_table->item(i, 3)->text() == tr("open")) reselect = i;
    }
    if (reselect < 0 && !rows.isEmpty()) reselect = 0;
    if (reselect >= 0) m_table->setCurrentCell(reselect, 0);
    showPair(reselect);
    Q_EMIT loaded();
}

void AdjudicationView::showPair(int row) {
    const bool valid = row >= 0 && row < m_rows.size();
    for (QPushButton* b : m_buttons) b->setEnabled(valid);
    if (!valid) {
        m_shownPair = -1;
        m_prompt->setText(tr("Select a pair to see both responses and every annotator's label."));
        m_labels->clear();
        m_responseA->clear();
        m_responseB->clear();
        return;
    }
    const Disagreement& r = m_rows[row];
    if (r.pairId == m_shownPair) return;  // the same pair: keep the reviewer's scroll position and selection
    m_shownPair = r.pairId;
    m_prompt->setText(tr("<b>Prompt (pair %1):</b> %2").arg(r.pairId).arg(QString::fromStdString(r.prompt).toHtmlEscaped()));
    m_labels->setText(tr("<b>Labels:</b> %1").arg(labelsText(r, QStringLiteral(", ")).toHtmlEscaped()));
    m_responseA->setPlainText(QString::fromStdString(r.responseA));
    m_responseB->setPlainText(QString::fromStdString(r.responseB));
}

void AdjudicationView::adjudicateSelected(Choice choice) {
    const int row = m_table->currentRow();
    if (row < 0 || row >= m_rows.size()) return;
    const qint64 pair = m_rows[row].pairId;
    const QString reviewer = m_reviewer.isEmpty() ? QStringLiteral("reviewer") : m_reviewer;
    Q_EMIT adjudicateRequested(pair, choice, reviewer);
    m_given[pair] = {toString(choice), tr("%1 (%2, saving)").arg(choiceName(toString(choice)), reviewer)};
    m_table->item(row, 3)->setText(m_given[pair].second);
    // On to the next open pair.
    for (int i = row + 1; i < m_rows.size(); ++i) {
        if (m_table->item(i, 3)->text() == tr("open")) {
            m_table->setCurrentCell(i, 0);
            return;
        }
    }
}

int AdjudicationView::pairCount() const {
    return m_rows.size();
}

QString AdjudicationView::summary() const {
    return m_summary->text();
}

QString AdjudicationView::finalLabel(int row) const {
    return row >= 0 && row < m_table->rowCount() ? m_table->item(row, 3)->text() : QString();
}

void AdjudicationView::selectRow(int row) {
    m_table->setCurrentCell(row, 0);
}

}  // namespace preflab
