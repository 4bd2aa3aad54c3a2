#include "ui/rating_buttons.h"

#include <QButtonGroup>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>

namespace preflab {

RatingButtons::RatingButtons(QWidget* parent) : QWidget(parent) {
    auto* layout = new QGridLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    m_left = new QButtonGroup(this);
    m_right = new QButtonGroup(this);
    for (int side = 0; side < 2; ++side) {
        auto* row = new QHBoxLayout;
        row->addWidget(new QLabel(side == 0 ? tr("Rate A:") : tr("Rate B:")));
        for (int v = 1; v <= kRatingMax; ++v) {
            auto* b = new QPushButton(QString::number(v));
            b->setCheckable(true);
            b->setFocusPolicy(Qt::NoFocus);  // the keys stay with the labeling view
            b->setFixedWidth(34);
            b->setToolTip(v == 1 ? tr("1 = very bad") : v == kRatingMax ? tr("7 = excellent") : QString());
            (side == 0 ? m_left : m_right)->addButton(b, v);
            row->addWidget(b);
        }
        row->addStretch();
        layout->addLayout(row, 0, side);
    }
    m_hint = new QLabel;
    layout->addWidget(m_hint, 1, 0, 1, 2);
    connect(m_left, &QButtonGroup::idClicked, this, &RatingButtons::leftClicked);
    connect(m_right, &QButtonGroup::idClicked, this, &RatingButtons::rightClicked);
}

void RatingButtons::reset() {
    m_hint->setText(
        tr("Rating mode: press 1-7 for A, then 1-7 for B (1 = very bad, 7 = excellent). "
           "The ratings are stored, and the higher one becomes the preference."));
    for (QButtonGroup* g : {m_left, m_right}) {
        g->setExclusive(false);
        for (QAbstractButton* b : g->buttons()) b->setChecked(false);
        g->setExclusive(true);
    }
}

void RatingButtons::leftRated(int value) {
    if (auto* b = m_left->button(value)) b->setChecked(true);
    m_hint->setText(tr("A: %1. Now rate B: press 1-7.").arg(value));
}

}  // namespace preflab
