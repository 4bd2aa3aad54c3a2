#include "ui/pair_dialog.h"

#include <QDialogButtonBox>
#include <QGridLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QPushButton>
#include <QTextBrowser>
#include <QVBoxLayout>

namespace preflab {

PairDialog::PairDialog(const PairListRow& row, const KeyBindings& keys, QWidget* parent)
    : QDialog(parent), m_row(row), m_keys(keys) {
    setWindowTitle(tr("Pair %1").arg(row.pairId));
    resize(900, 520);
    auto* prompt = new QLabel(QStringLiteral("<b>%1</b>").arg(QString::fromStdString(row.prompt).toHtmlEscaped()));
    prompt->setWordWrap(true);
    auto* origin = new QLabel(row.runId ? tr("Run %1, pair #%2, sampled at step %3%4")
                                              .arg(*row.runId)
                                              .arg(row.runIndex.value_or(0))
                                              .arg(row.generatedStep.value_or(0))
                                              .arg(row.trainedStep ? tr(", used by step %1").arg(*row.trainedStep) : QString())
                                        : tr("Imported pair"));
    auto* grid = new QGridLayout;
    for (int side = 0; side < 2; ++side) {
        const auto& gold = side == 0 ? row.goldA : row.goldB;
        grid->addWidget(new QLabel(QStringLiteral("<b>%1</b>%2").arg(side == 0 ? "A" : "B",
                                                                        gold ? tr(" &nbsp; true reward %1").arg(*gold) : QString())),
                        0, side);
        auto* text = new QTextBrowser;
        text->setFocusPolicy(Qt::NoFocus);
        text->setPlainText(QString::fromStdString(side == 0 ? row.responseA : row.responseB));
        grid->addWidget(text, 1, side);
    }
    m_current = new QLabel;
    m_current->setText(row.choice.empty() ? tr("Not labeled yet.")
                                          : tr("Current label: <b>%1</b> by %2%3 (%4 label(s) stored)")
                                                .arg(QString::fromStdString(row.choice), QString::fromStdString(row.source),
                                                     row.annotator.empty() ? QString() : QStringLiteral(" (%1)").arg(QString::fromStdString(row.annotator)))
                                                .arg(row.labelCount));
    auto* buttons = new QHBoxLayout;
    for (LabelAction a : {LabelAction::ChooseA, LabelAction::ChooseB, LabelAction::Tie, LabelAction::BothBad, LabelAction::Skip}) {
        auto* b = new QPushButton(QStringLiteral("%1  [%2]").arg(KeyBindings::actionName(a), m_keys.caption(a)));
        b->setFocusPolicy(Qt::NoFocus);
        connect(b, &QPushButton::clicked, this, [this, a] {
            const Choice c = a == LabelAction::ChooseA ? Choice::A : a == LabelAction::ChooseB ? Choice::B
                           : a == LabelAction::Tie ? Choice::Tie : a == LabelAction::BothBad ? Choice::BothBad : Choice::Skip;
            choose(c);
        });
        buttons->addWidget(b);
    }
    auto* close = new QDialogButtonBox(QDialogButtonBox::Close);
    connect(close, &QDialogButtonBox::rejected, this, &QDialog::reject);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(origin);
    layout->addWidget(prompt);
    layout->addLayout(grid, 1);
    layout->addWidget(m_current);
    layout->addLayout(buttons);
    layout->addWidget(close);
}

void PairDialog::keyPressEvent(QKeyEvent* event) {
    LabelAction a;
    if (m_keys.match(event, &a)) {
        switch (a) {
        case LabelAction::ChooseA: choose(Choice::A); return;
        case LabelAction::ChooseB: choose(Choice::B); return;
        case LabelAction::Tie: choose(Choice::Tie); return;
        case LabelAction::BothBad: choose(Choice::BothBad); return;
        case LabelAction::Skip: choose(Choice::Skip); return;
        default: break;
        }
    }
    QDialog::keyPressEvent(event);
}

void PairDialog::choose(Choice c) {
    Q_EMIT relabel(m_row.pairId, c);
    m_current->setText(tr("Relabeled: <b>%1</b> (stored as the newest label; earlier ones are kept).")
                           .arg(QString::fromStdString(toString(c))));
}

}  // namespace preflab
