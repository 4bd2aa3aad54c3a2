// The completions view's word diff against hand-worked cases: the pieces,
// their order, and the HTML it highlights with.
#include "support/test_main.h"
#include "ui/word_diff.h"

using namespace preflab;

namespace {

// Pieces as "=word", "+word", "-word".
QStringList flat(const QVector<DiffPiece>& pieces) {
    QStringList out;
    for (const DiffPiece& p : pieces) {
        out << (p.kind == DiffPiece::Kind::Same ? QStringLiteral("=") : p.kind == DiffPiece::Kind::Added ? QStringLiteral("+") : QStringLiteral("-")) + p.text;
    }
    return out;
}

}  // namespace

class TestWordDiff : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void pieces_data() {
        QTest::addColumn<QString>("before");
        QTest::addColumn<QString>("after");
        QTest::addColumn<QStringList>("expected");
        QTest::newRow("same") << "The cat sleeps." << "The  cat\nsleeps." << QStringList{"=The", "=cat", "=sleeps."};
        QTest::newRow("one word replaced") << "The cat sleeps." << "The dog sleeps."
                                           << QStringList{"=The", "-cat", "+dog", "=sleeps."};
        QTest::newRow("appended") << "The cat." << "The cat. It is kind."
                                  << QStringList{"=The", "=cat.", "+It", "+is", "+kind."};
        QTest::newRow("removed") << "Whatever. The cat likes seeds." << "The cat likes seeds."
                                 << QStringList{"-Whatever.", "=The", "=cat", "=likes", "=seeds."};
        QTest::newRow("from nothing") << "" << "Hi there" << QStringList{"+Hi", "+there"};
        QTest::newRow("to nothing") << "Hi there" << "" << QStringList{"-Hi", "-there"};
        // LCS of (a b c a b) and (b a b c): length 3 ("a b c" or "b a b").
        QTest::newRow("reordered") << "a b c a b" << "b a b c"
                                   << QStringList{"-a", "=b", "-c", "=a", "=b", "+c"};
    }
    void pieces() {
        QFETCH(QString, before);
        QFETCH(QString, after);
        QFETCH(QStringList, expected);
        QCOMPARE(flat(wordDiff(before, after)), expected);
        // The Same and Added pieces spell `after`; Same and Removed spell `before`.
        QStringList a, b;
        for (const DiffPiece& p : wordDiff(before, after)) {
            if (p.kind != DiffPiece::Kind::Removed) a << p.text;
            if (p.kind != DiffPiece::Kind::Added) b << p.text;
        }
        QCOMPARE(a.join(' '), after.simplified());
        QCOMPARE(b.join(' '), before.simplified());
    }

    void htmlMarksChangesAndEscapes() {
        int changed = -1;
        const QString html = diffHtml(wordDiff("The <cat> sleeps.", "The dog & cat sleeps."), &changed);
        QCOMPARE(changed, 4);  // -<cat>, +dog, +&, +cat
        QVERIFY(html.contains("line-through\">&lt;cat&gt;</span>"));
        QVERIFY(html.contains("background:#c6efc6\">&amp;</span>"));
        QVERIFY(html.startsWith("The "));
    }
};

PREFLAB_TEST_MAIN(TestWordDiff)
#include "tst_word_diff.moc"
