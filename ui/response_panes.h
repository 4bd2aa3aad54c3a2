#pragma once
// The labeling view's two response panes. Each response is rendered from
// Markdown with Qt's own reader (lists, tables, code blocks in a monospace
// font on a tinted background with their language above, links shown but
// never followed, raw HTML shown as text: what the model wrote, not what it
// would do in a browser), or shown raw; the words in which A and B differ are
// marked; one scroll moves both panes. UI thread.
//
// The differences are found on the text as rendered, not on the Markdown
// source: the person reads the rendered text, a change of markup alone (a
// `**` added) is no difference in what they read, and marking the rendered
// document keeps its formatting. In raw mode the same marking runs on the
// raw text, so a change of markup shows there.
#include <QObject>
#include <QPointer>
#include <QString>
#include <QTextBrowser>

class QScrollBar;

namespace preflab {

class ResponsePanes : public QObject {
    Q_OBJECT
public:
    explicit ResponsePanes(QObject* parent = nullptr);
    ~ResponsePanes() override;  // deletes the panes no layout has taken

    QTextBrowser* left() const { return m_left; }
    QTextBrowser* right() const { return m_right; }

    // Shows two responses, or one (`single`: the thumbs mode; no comparison).
    void show(const QString& left, const QString& right, bool single = false);
    void clear();
    // The texts shown, as given (not as rendered).
    QString leftSource() const { return m_leftText; }
    QString rightSource() const { return m_rightText; }

    bool raw() const { return m_raw; }
    void setRaw(bool raw);
    bool diff() const { return m_diff; }
    void setDiff(bool on);
    void setMonospace(bool on);

    // Words marked as differing on each side (0 when the marking is off),
    // whether the last comparison ran (false when the texts were too long),
    // and whether it found the two sharing under half their words: then
    // nothing is marked, as nearly everything would be.
    int markedLeft() const { return m_markedLeft; }
    int markedRight() const { return m_markedRight; }
    bool compared() const { return m_compared; }
    bool differThroughout() const { return m_differThroughout; }

Q_SIGNALS:
    void rendered();  // after every redraw (new texts, raw, marking, font)

private:
    void render();
    void renderOne(QTextBrowser* pane, const QString& text);
    void markDifferences();
    void follow(QScrollBar* from, QScrollBar* to);

    QPointer<QTextBrowser> m_left;  // parented by whoever lays them out
    QPointer<QTextBrowser> m_right;
    QString m_leftText, m_rightText;
    bool m_single = false;
    bool m_raw = false;
    bool m_diff = true;
    bool m_syncing = false;
    int m_markedLeft = 0, m_markedRight = 0;
    bool m_compared = true;
    bool m_differThroughout = false;
};

}  // namespace preflab
