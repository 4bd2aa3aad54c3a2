// What the annotator reads (issue 31): responses rendered from Markdown (code
// blocks monospace with their language, lists, tables, raw HTML and links as
// text) or raw, the words in which A and B differ marked, both panes
// scrolling together, a multi-turn prompt's turns with their roles, and the
// keys that switch the raw text and the marking.
#include "support/gui_test_main.h"
#include "ui/conversation_turns.h"
#include "ui/guidelines_dialog.h"
#include "ui/guidelines_panel.h"
#include "ui/key_bindings.h"
#include "ui/labeling_view.h"
#include "ui/response_panes.h"
#include "ui/word_diff.h"

#include <QFile>
#include <QHBoxLayout>
#include <QKeyEvent>
#include <QScrollBar>
#include <QTextBlock>
#include <QTextBrowser>
#include <QTextDocument>
#include <QTextList>
#include <QTemporaryDir>
#include <QTextTable>

using namespace preflab;

namespace {

// The block of `doc` whose text is `text`, or an invalid one.
QTextBlock blockWith(const QTextDocument* doc, const QString& text) {
    for (QTextBlock b = doc->begin(); b.isValid(); b = b.next()) {
        if (b.text() == text) return b;
    }
    return {};
}

// Whether the word starting at `at` in `doc` is marked as a difference.
bool marked(const QTextDocument* doc, const QString& word) {
    const QTextCursor found = doc->find(word);
    if (found.isNull()) return false;
    QTextCursor c(const_cast<QTextDocument*>(doc));
    c.setPosition(found.selectionStart() + 1);
    return c.charFormat().background().style() != Qt::NoBrush;
}

const QString kCodeHeavy = QStringLiteral(
    "Use a **list comprehension**:\n\n"
    "```python\nsquares = [x * x for x in range(10)]\nprint(squares)\n```\n\n"
    "- short\n- readable\n\n"
    "| n | n^2 |\n|---|-----|\n| 3 | 9 |\n\n"
    "See [the docs](https://docs.python.org) and <b>this</b>.");

}  // namespace

class TestResponsePanes : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void markdownIsRendered() {
        ResponsePanes panes;
        panes.show(kCodeHeavy, QStringLiteral("Plain."));
        const QTextDocument* doc = panes.left()->document();
        const QString text = doc->toPlainText();
        QVERIFY2(!text.contains("**") && !text.contains("```") && text.contains("list comprehension"),
                 qPrintable(text));
        // The code block: its language above it, its lines in the fixed font on a tint.
        QVERIFY(blockWith(doc, "python").isValid());
        const QTextBlock code = blockWith(doc, "squares = [x * x for x in range(10)]");
        QVERIFY(code.isValid());
        QVERIFY(code.next().text() == "print(squares)");
        QTextCursor inCode(code);
        inCode.movePosition(QTextCursor::Right);
        QVERIFY(inCode.charFormat().fontFixedPitch());
        QVERIFY(code.blockFormat().background().style() != Qt::NoBrush);
        QCOMPARE(code.previous().text(), QString("python"));
        // The list and the table.
        const QTextBlock item = blockWith(doc, "short");
        QVERIFY(item.isValid() && item.textList());
        QCOMPARE(item.textList()->count(), 2);
        QTextCursor table = doc->find("n^2");
        QVERIFY(!table.isNull() && table.currentTable());
        // Raw HTML is text; a link is shown, not followed.
        QVERIFY2(text.contains("<b>this</b>"), qPrintable(text));
        QVERIFY(!panes.left()->openLinks() && !panes.left()->openExternalLinks());
        QVERIFY(text.contains("the docs") && !text.contains("https://"));
        // Raw: the text as written.
        panes.setRaw(true);
        QCOMPARE(panes.left()->toPlainText(), kCodeHeavy);
        QCOMPARE(panes.leftSource(), kCodeHeavy);
    }

    void differencesAreMarkedOnBothSides() {
        ResponsePanes panes;
        panes.show("The **cat** sleeps on the mat.", "The dog sleeps on the mat.");
        QCOMPARE(panes.markedLeft(), 1);
        QCOMPARE(panes.markedRight(), 1);
        QVERIFY(marked(panes.left()->document(), "cat"));
        QVERIFY(marked(panes.right()->document(), "dog"));
        QVERIFY(!marked(panes.left()->document(), "sleeps"));
        // Markup alone is no difference in what is read; raw, it is.
        panes.show("The **cat** sleeps.", "The cat sleeps.");
        QCOMPARE(panes.markedLeft(), 0);
        panes.setRaw(true);
        QCOMPARE(panes.markedLeft(), 1);
        QVERIFY(marked(panes.left()->document(), "**cat**"));
        QVERIFY(!marked(panes.left()->document(), "sleeps."));  // a redraw starts unmarked
        panes.show("The cat sleeps.", "The **cat** sleeps.");
        QVERIFY(!marked(panes.left()->document(), "The") && marked(panes.left()->document(), "cat"));
        panes.setDiff(false);
        QCOMPARE(panes.markedLeft(), 0);
        QVERIFY(!marked(panes.left()->document(), "**cat**"));
        // Sharing under half their words, the two are not marked: nearly
        // everything would be. Half shared is still marked.
        panes.setRaw(false);
        panes.setDiff(true);
        panes.show("one two three four five", "one six seven eight nine");
        QVERIFY(panes.differThroughout());
        QCOMPARE(panes.markedLeft() + panes.markedRight(), 0);
        panes.show("one two three four", "one two seven eight");
        QVERIFY(!panes.differThroughout());
        QCOMPARE(panes.markedLeft(), 2);
        // One response (thumbs mode): nothing to compare.
        panes.show("Only one.", {}, true);
        QCOMPARE(panes.markedLeft(), 0);
    }

    void matchWordsByHand_data() {
        QTest::addColumn<QString>("a");
        QTest::addColumn<QString>("b");
        QTest::addColumn<QString>("onlyInA");  // one digit per word
        QTest::addColumn<QString>("onlyInB");
        QTest::newRow("same") << "x y z"
                              << "x y z"
                              << "000"
                              << "000";
        QTest::newRow("middle replaced") << "x y z"
                                         << "x q r z"
                                         << "010"
                                         << "0110";
        QTest::newRow("prefix only") << "x y"
                                     << "x y z w"
                                     << "00"
                                     << "0011";
        // LCS of (a b c a b) and (b a b c) is 3 long; the backtrack keeps b a b.
        QTest::newRow("reordered") << "a b c a b"
                                   << "b a b c"
                                   << "10100"
                                   << "0001";
        QTest::newRow("nothing shared") << "p q"
                                        << "r"
                                        << "11"
                                        << "1";
    }
    void matchWordsByHand() {
        QFETCH(QString, a);
        QFETCH(QString, b);
        QFETCH(QString, onlyInA);
        QFETCH(QString, onlyInB);
        const WordMatch m = matchWords(a.split(' '), b.split(' '));
        auto flags = [](const QVector<bool>& v) {
            QString s;
            for (bool f : v) s += f ? '1' : '0';
            return s;
        };
        QVERIFY(m.compared);
        QCOMPARE(flags(m.onlyInA), onlyInA);
        QCOMPARE(flags(m.onlyInB), onlyInB);
    }

    // 3000 different words each side: the middle's table would need 9 million
    // cells, over the limit: nothing is marked, and the caller is told.
    void tooLongToCompareMarksNothing() {
        QStringList a, b;
        for (int i = 0; i < 3000; ++i) a << QString("a%1").arg(i), b << QString("b%1").arg(i);
        a.prepend("same");
        b.prepend("same");
        const WordMatch m = matchWords(a, b);
        QVERIFY(!m.compared);
        QVERIFY(!m.onlyInA.contains(true) && !m.onlyInB.contains(true));
        // A long shared text with one change stays cheap: prefix and suffix match first.
        QStringList c = a, d = a;
        d[1500] = "changed";
        const WordMatch n = matchWords(c, d, 100);
        QVERIFY(n.compared);
        QCOMPARE(n.onlyInA.count(true), 1);
        QCOMPARE(n.onlyInB.indexOf(true), 1500);
    }

    // Scrolling one pane moves the other to the same share of its length.
    void onePaneScrollsBoth() {
        ResponsePanes panes;
        QWidget holder;
        auto* row = new QHBoxLayout(&holder);
        row->addWidget(panes.left());
        row->addWidget(panes.right());
        holder.resize(600, 200);
        QString longer, shorter;
        for (int i = 0; i < 200; ++i) longer += QString("Line %1 of the long one.\n\n").arg(i);
        for (int i = 0; i < 100; ++i) shorter += QString("Line %1 of the short one.\n\n").arg(i);
        panes.show(longer, shorter);
        holder.show();
        QScrollBar* l = panes.left()->verticalScrollBar();
        QScrollBar* r = panes.right()->verticalScrollBar();
        QVERIFY(QTest::qWaitFor([&] { return l->maximum() > 0 && r->maximum() > 0; }, 5000));
        l->setValue(l->maximum() / 2);
        QVERIFY2(std::abs(r->value() - r->maximum() / 2) <= 1,
                 qPrintable(QString("%1 of %2").arg(r->value()).arg(r->maximum())));
        r->setValue(r->maximum());
        QCOMPARE(l->value(), l->maximum());
    }

    void turnsOfAMultiTurnPrompt_data() {
        QTest::addColumn<QString>("prompt");
        QTest::addColumn<QStringList>("turns");  // "role: content"
        QTest::newRow("HH")
            << "\n\nHuman: Hi there\n\nAssistant: Hello! How can I help?\n\nHuman: Name a fruit.\n\nAssistant:"
            << QStringList{"user: Hi there", "assistant: Hello! How can I help?", "user: Name a fruit."};
        QTest::newRow("imported conversation")
            << "System: Be brief.\n\nUser: Why?\n\nAssistant: Because.\n\nUser: Really?"
            << QStringList{"system: Be brief.", "user: Why?", "assistant: Because.", "user: Really?"};
        QTest::newRow("one turn is no conversation") << "\n\nHuman: Just this\n\nAssistant:" << QStringList{};
        QTest::newRow("plain text") << "Translate: the cat\n\nUser: not a turn" << QStringList{};
        QTest::newRow("a colon mid-line") << "Write this down. User: me" << QStringList{};
    }
    void turnsOfAMultiTurnPrompt() {
        QFETCH(QString, prompt);
        QFETCH(QStringList, turns);
        QStringList got;
        for (const ChatMessage& m : conversationTurns(prompt.toStdString())) {
            got << QString::fromStdString(m.role + ": " + m.content);
        }
        QCOMPARE(got, turns);
    }

    // The last user turn in full and emphasised; earlier ones folded to a
    // line until the link unfolds them; plain prompts escaped as they are.
    void promptHtmlFoldsEarlierTurns() {
        const std::string longTurn(300, 'w');
        const std::string prompt =
            "\n\nHuman: " + longTurn + "\n\nAssistant: Sure.\n\nHuman: <the question>\n\nAssistant:";
        const QString folded = promptHtml(prompt, false);
        QVERIFY2(folded.contains("&lt;the question&gt;") && folded.contains("User:") && folded.contains("Assistant:"),
                 qPrintable(folded));
        QVERIFY(!folded.contains(QString::fromStdString(longTurn)) && folded.contains(QChar(0x2026)));
        QVERIFY(folded.contains("href=\"#earlier\"") && folded.contains("show the 2 earlier turns in full"));
        QVERIFY(folded.indexOf("&lt;the question&gt;") > folded.indexOf("Sure."));  // the last user turn comes last
        QVERIFY(promptHtml(prompt, true).contains(QString::fromStdString(longTurn)));
        QCOMPARE(promptHtml("a < b\nc", false), QString("a &lt; b<br>c"));
        // Short earlier turns are shown whole: no link to unfold them.
        QVERIFY(!promptHtml("User: Hi\n\nAssistant: Hello.\n\nUser: Bye", false).contains("href"));
    }

    // M and H switch the raw text and the marking in the labeling view, by
    // default, without clashing with any other key.
    void keysSwitchRawTextAndDifferences() {
        KeyBindings keys;
        QVERIFY(keys.conflict().isEmpty());
        LabelAction action;
        QKeyEvent m(QEvent::KeyPress, Qt::Key_M, Qt::NoModifier), h(QEvent::KeyPress, Qt::Key_H, Qt::NoModifier);
        QVERIFY(keys.match(&m, &action) && action == LabelAction::ToggleRaw);
        QVERIFY(keys.match(&h, &action) && action == LabelAction::ToggleDiff);
        LabelingView view;
        QVERIFY(!view.rawText() && view.diffShown());  // rendered, with the differences, by default
        QTest::keyClick(&view, Qt::Key_M);
        QVERIFY(view.rawText());
        QTest::keyClick(&view, Qt::Key_H);
        QVERIFY(!view.diffShown());
        QTest::keyClick(&view, Qt::Key_M);
        QVERIFY(!view.rawText() && !view.diffShown());
        // G: the guidelines, when there are any.
        QKeyEvent g(QEvent::KeyPress, Qt::Key_G, Qt::NoModifier);
        QVERIFY(keys.match(&g, &action) && action == LabelAction::ToggleGuidelines);
        QTest::keyClick(&view, Qt::Key_G);
        QVERIFY(!view.guidelinesShown());  // none set: nothing to show
        view.setGuidelines("# Rules\n\nPrefer the *correct* one. <script>x</script>");
        QVERIFY(view.guidelinesShown());
        QVERIFY(view.guidelinesPanel()->renderedText().contains("Prefer the correct one. <script>x</script>"));
        QTest::keyClick(&view, Qt::Key_G);
        QVERIFY(!view.guidelinesShown());
        view.setGuidelines({});
        QTest::keyClick(&view, Qt::Key_G);
        QVERIFY(!view.guidelinesShown());
    }

    // The guidelines editor: the stored text, its rendering beside it, and a
    // file's text in its place on Import; a file that cannot be read says why.
    void guidelinesEditorPreviewsAndImports() {
        GuidelinesDialog dialog("# Rules\n\n- be **fair**");
        QCOMPARE(dialog.markdown(), QString("# Rules\n\n- be **fair**"));
        QVERIFY2(dialog.preview().contains("be fair") && !dialog.preview().contains("**"),
                 qPrintable(dialog.preview()));
        QTemporaryDir dir;
        const QString path = dir.path() + "/g.md";
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("Prefer *short* answers.");
        f.close();
        QVERIFY(dialog.importFile(path).isEmpty());
        QCOMPARE(dialog.markdown(), QString("Prefer *short* answers."));
        QCOMPARE(dialog.preview(), QString("Prefer short answers."));
        const QString problem = dialog.importFile(dir.path() + "/missing.md");
        QVERIFY2(problem.contains("missing.md"), qPrintable(problem));
        QCOMPARE(dialog.markdown(), QString("Prefer *short* answers."));
    }
};

PREFLAB_GUI_TEST_MAIN(TestResponsePanes)
#include "tst_response_panes.moc"
