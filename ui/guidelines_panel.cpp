#include "ui/guidelines_panel.h"

#include <QLabel>
#include <QTextBrowser>
#include <QVBoxLayout>

namespace preflab {

GuidelinesPanel::GuidelinesPanel(QWidget* parent) : QWidget(parent) {
    m_title = new QLabel;
    m_text = new QTextBrowser;
    m_text->setFocusPolicy(Qt::NoFocus);  // the keys stay with the labeling view
    m_text->setOpenLinks(false);
    m_text->setOpenExternalLinks(false);
    m_text->setStyleSheet(QStringLiteral("QTextBrowser { background: #fbfaf4; }"));
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_title);
    layout->addWidget(m_text, 1);
    setKeyCaption({});
}

void GuidelinesPanel::setMarkdown(const QString& markdown) {
    m_markdown = markdown;
    // Raw HTML shown as text, as in the responses: guidelines are read, not run.
    m_text->document()->setMarkdown(markdown, QTextDocument::MarkdownFeatures(QTextDocument::MarkdownDialectGitHub |
                                                                              QTextDocument::MarkdownNoHTML));
}

void GuidelinesPanel::setKeyCaption(const QString& caption) {
    m_title->setText(caption.isEmpty() ? tr("<b>Guidelines</b>")
                                       : tr("<b>Guidelines</b> &nbsp; [%1] hides them").arg(caption));
}

QString GuidelinesPanel::renderedText() const {
    return m_text->toPlainText();
}

}  // namespace preflab
