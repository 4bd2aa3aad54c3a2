#include "core/text/byte_tokenizer.h"
#include "support/test_main.h"

#include <set>

using namespace preflab;

class TestTokenizer : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void roundTrip_data() {
        QTest::addColumn<QString>("text");
        QTest::newRow("empty") << QString();
        QTest::newRow("ascii") << QString("Tell me about the red fox.");
        QTest::newRow("whitespace") << QString("  two  spaces\tand\ttabs\n\nnewlines ");
        QTest::newRow("unicode") << QString::fromUtf8("Grüße, 東京, emoji 🦊!");
        QTest::newRow("control") << QString::fromUtf8("\x01\x7f end");
    }
    void roundTrip() {
        QFETCH(QString, text);
        ByteTokenizer tok;
        const std::string utf8 = text.toStdString();
        const TokenIds ids = tok.encode(utf8);
        QCOMPARE(ids.size(), utf8.size());
        for (int32_t id : ids) QVERIFY(id >= 0 && id < 256);
        QCOMPARE(tok.decode(ids), utf8);
    }
    void specialTokens() {
        ByteTokenizer tok;
        const SpecialTokens s = tok.special();
        QCOMPARE(tok.vocabSize(), 260);
        QCOMPARE(std::set<int32_t>({s.bos, s.eos, s.pad, s.sep}).size(), size_t(4));
        const TokenIds ids = tok.promptIds("hi");
        QCOMPARE(ids, (TokenIds{s.bos, 'h', 'i', s.sep}));
        // Special tokens are dropped from text unless asked for.
        QCOMPARE(tok.decode({s.bos, 'o', 'k', s.eos}), std::string("ok"));
        QCOMPARE(tok.decode({s.bos, 'o', 'k', s.eos}, false), std::string("<bos>ok<eos>"));
    }
};

PREFLAB_TEST_MAIN(TestTokenizer)
#include "tst_tokenizer.moc"
