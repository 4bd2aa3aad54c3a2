#include "ui/response_panes.h"

#include "ui/word_diff.h"

#include <QFontDatabase>
#include <QScrollBar>
#include <QTextBlock>
#include <QTextBrowser>
#include <QTextCursor>
#include <QTextDocument>

#include <algorithm>

namespace preflab {
namespace {

const QColor kCodeBackground(0xf3, 0xf3, 0xf3);
const QColor kDifference(0xff, 0xe0,
                         0x8a);  // amber: "only here", the same on both sides (A and B are no before and after)

QTextBrowser* makePane() {
    auto* t = new QTextBrowser;
    t->setFocusPolicy(Qt::NoFocus);  // keys belong to the view; the pane still scrolls with the wheel
    t->setOpenLinks(false);          // a link in a response is text to judge, not somewhere to go
    t->setOpenExternalLinks(false);
    t->setLineWrapMode(QTextEdit::WidgetWidth);
    t->document()->setUndoRedoEnabled(false);
    QFont f = t->font();
    f.setPointSizeF(f.pointSizeF() * 1.25);
    t->setFont(f);
    return t;
}

bool isCodeBlock(const QTextBlock& b) {
    const QTextBlockFormat f = b.blockFormat();
    return f.hasProperty(QTextFormat::BlockCodeFence) || f.hasProperty(QTextFormat::BlockCodeLanguage);
}

// Code blocks in the fixed font on a tinted background, each fenced one with
// its language in a small caption line above it.
void styleCode(QTextDocument* doc) {
    QTextCharFormat mono;
    mono.setFontFamilies({QFontDatabase::systemFont(QFontDatabase::FixedFont).family()});
    mono.setFontFixedPitch(true);
    QTextBlockFormat tinted;
    tinted.setBackground(kCodeBackground);
    bool previousCode = false;
    for (QTextBlock b = doc->begin(); b.isValid(); b = b.next()) {
        const bool code = isCodeBlock(b);
        if (code) {
            QTextCursor c(b);
            c.movePosition(QTextCursor::EndOfBlock, QTextCursor::KeepAnchor);
            c.mergeCharFormat(mono);
            c.mergeBlockFormat(tinted);
            const QString language = b.blockFormat().stringProperty(QTextFormat::BlockCodeLanguage);
            if (!previousCode && !language.isEmpty()) {
                // Split at the block's start: the code moves down into a new
                // block of its own format, and `b`, left empty above it,
                // becomes the caption (on the same tint).
                QTextBlockFormat caption = b.blockFormat();
                QTextCursor above(b);
                above.insertBlock(caption);
                caption.clearProperty(QTextFormat::BlockCodeFence);
                caption.clearProperty(QTextFormat::BlockCodeLanguage);
                above.movePosition(QTextCursor::PreviousBlock);
                above.setBlockFormat(caption);
                QTextCharFormat small;
                small.setForeground(QColor(0x70, 0x70, 0x70));
                small.setFontPointSize(std::max(6.0, doc->defaultFont().pointSizeF() * 0.8));
                above.insertText(language, small);
            }
        }
        previousCode = code;
    }
}

// A word of a document: where it starts and how long it is.
struct Word {
    int start = 0, length = 0;
};

bool separates(QChar c) {
    // Block, line and table-cell separators and the object placeholder split words as spaces do.
    return c.isSpace() || c == QChar::ParagraphSeparator || c == QChar::LineSeparator || c.unicode() == 0xfdd0 ||
           c.unicode() == 0xfdd1 || c == QChar::ObjectReplacementCharacter;
}

// The words of `doc` by document position (characterAt, so positions match
// a cursor's), and their texts.
QVector<Word> wordsOf(const QTextDocument* doc, QStringList* texts) {
    QVector<Word> out;
    const int n = doc->characterCount();
    QString current;
    int start = -1;
    for (int i = 0; i <= n; ++i) {
        const QChar c = i < n ? doc->characterAt(i) : QChar(QChar::Space);
        if (!separates(c)) {
            if (start < 0) start = i;
            current += c;
            continue;
        }
        if (start >= 0) {
            out.push_back({start, i - start});
            *texts << current;
            current.clear();
            start = -1;
        }
    }
    return out;
}

int mark(QTextDocument* doc, const QVector<Word>& words, const QVector<bool>& differs) {
    QTextCharFormat marked;
    marked.setBackground(kDifference);
    QTextCursor c(doc);
    c.beginEditBlock();
    int count = 0;
    for (int i = 0; i < words.size(); ++i) {
        if (!differs[i]) continue;
        c.setPosition(words[i].start);
        c.setPosition(words[i].start + words[i].length, QTextCursor::KeepAnchor);
        c.mergeCharFormat(marked);
        ++count;
    }
    c.endEditBlock();
    return count;
}

}  // namespace

ResponsePanes::ResponsePanes(QObject* parent) : QObject(parent), m_left(makePane()), m_right(makePane()) {
    // One scroll moves both: the other pane follows in proportion, so the
    // same part of two responses of different lengths stays side by side.
    connect(m_left->verticalScrollBar(), &QScrollBar::valueChanged, this,
            [this] { follow(m_left->verticalScrollBar(), m_right->verticalScrollBar()); });
    connect(m_right->verticalScrollBar(), &QScrollBar::valueChanged, this,
            [this] { follow(m_right->verticalScrollBar(), m_left->verticalScrollBar()); });
}

ResponsePanes::~ResponsePanes() {
    for (QTextBrowser* pane : {m_left.data(), m_right.data()}) {
        if (pane && !pane->parent()) delete pane;
    }
}

void ResponsePanes::follow(QScrollBar* from, QScrollBar* to) {
    if (m_syncing || m_single) return;
    m_syncing = true;  // the follower's own valueChanged must not lead back
    const double at = from->maximum() > 0 ? static_cast<double>(from->value()) / from->maximum() : 0.0;
    to->setValue(static_cast<int>(at * to->maximum() + 0.5));
    m_syncing = false;
}

void ResponsePanes::show(const QString& left, const QString& right, bool single) {
    m_leftText = left;
    m_rightText = single ? QString() : right;
    m_single = single;
    render();
}

void ResponsePanes::clear() {
    show({}, {});
}

void ResponsePanes::setRaw(bool raw) {
    if (raw == m_raw) return;
    m_raw = raw;
    render();
}

void ResponsePanes::setDiff(bool on) {
    if (on == m_diff) return;
    m_diff = on;
    render();
}

void ResponsePanes::setMonospace(bool on) {
    for (QTextBrowser* t : {m_left, m_right}) {
        QFont f = on ? QFontDatabase::systemFont(QFontDatabase::FixedFont) : QFont();
        f.setPointSizeF(QFont().pointSizeF() * 1.25);
        t->setFont(f);
    }
    render();
}

void ResponsePanes::renderOne(QTextBrowser* pane, const QString& text) {
    // The pane's own cursor format would colour text inserted next (the
    // marking's background on all of a raw text): start from none.
    pane->setCurrentCharFormat(QTextCharFormat());
    if (m_raw) {
        pane->document()->setPlainText(text);
        return;
    }
    // GitHub's dialect (tables, strikethrough, task lists) without raw HTML:
    // a <b> or <img> in a response shows as the text the model wrote.
    pane->document()->setMarkdown(
        text, QTextDocument::MarkdownFeatures(QTextDocument::MarkdownDialectGitHub | QTextDocument::MarkdownNoHTML));
    styleCode(pane->document());
}

void ResponsePanes::render() {
    renderOne(m_left, m_leftText);
    renderOne(m_right, m_rightText);
    m_markedLeft = m_markedRight = 0;
    m_compared = true;
    m_differThroughout = false;
    if (m_diff && !m_single) markDifferences();
    Q_EMIT rendered();
}

void ResponsePanes::markDifferences() {
    QStringList leftWords, rightWords;
    const QVector<Word> left = wordsOf(m_left->document(), &leftWords);
    const QVector<Word> right = wordsOf(m_right->document(), &rightWords);
    const WordMatch match = matchWords(leftWords, rightWords);
    m_compared = match.compared;
    // Marking helps where the two are mostly the same; where they share
    // under half their words, nearly everything would be marked and the
    // marks would hide more than they show.
    const qsizetype common = match.onlyInA.count(false);
    m_differThroughout = m_compared && common * 2 < std::max(leftWords.size(), rightWords.size());
    if (!m_compared || m_differThroughout) return;
    m_markedLeft = mark(m_left->document(), left, match.onlyInA);
    m_markedRight = mark(m_right->document(), right, match.onlyInB);
}

}  // namespace preflab
