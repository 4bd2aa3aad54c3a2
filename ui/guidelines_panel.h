#pragma once
// The labeling guidelines beside the pair: the project's or run's Markdown
// text (preflab guidelines; storage/guidelines_store.h), rendered as the
// responses are (links shown, not followed), scrolled on its own. UI thread.
#include <QWidget>

class QLabel;
class QTextBrowser;

namespace preflab {

class GuidelinesPanel : public QWidget {
    Q_OBJECT
public:
    explicit GuidelinesPanel(QWidget* parent = nullptr);
    void setMarkdown(const QString& markdown);
    QString markdown() const { return m_markdown; }
    bool empty() const { return m_markdown.trimmed().isEmpty(); }
    // The key that shows and hides it, for the title ("G").
    void setKeyCaption(const QString& caption);
    QString renderedText() const;  // as shown, for tests

private:
    QLabel* m_title;
    QTextBrowser* m_text;
    QString m_markdown;
};

}  // namespace preflab
