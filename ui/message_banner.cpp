#include "ui/message_banner.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QToolButton>

namespace preflab {

MessageBanner::MessageBanner(QWidget* parent) : QFrame(parent) {
    setFrameShape(QFrame::StyledPanel);
    m_text = new QLabel;
    m_text->setWordWrap(true);
    m_text->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto* close = new QToolButton;
    close->setText(QStringLiteral("\u2715"));
    close->setToolTip(tr("Dismiss"));
    close->setAutoRaise(true);
    connect(close, &QToolButton::clicked, this, &QWidget::hide);
    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(10, 6, 6, 6);
    layout->addWidget(m_text, 1);
    layout->addWidget(close);
    hide();
}

void MessageBanner::showMessage(const QString& text, Kind kind) {
    m_kind = kind;
    setStyleSheet(kind == Kind::Error     ? QStringLiteral("QFrame { background: #fde2e1; border: 1px solid #e0a3a0; }")
                  : kind == Kind::Warning ? QStringLiteral("QFrame { background: #fff4d6; border: 1px solid #e2c27a; }")
                                          : QStringLiteral("QFrame { background: #e6f0fb; border: 1px solid #a9c4e6; }"));
    m_text->setText(text);
    show();
}

QString MessageBanner::text() const {
    return isVisible() ? m_text->text() : QString();
}

}  // namespace preflab
