#include "core/text/byte_tokenizer.h"
#include "core/text/context_fit.h"
#include "support/test_main.h"

#include <algorithm>
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

    // The truncation rule for pairs longer than the context: the prompt keeps
    // its end (and a leading BOS) within half the context, the responses
    // their start; a pair that fits is untouched.
    void pairsFitTheContext_data() {
        QTest::addColumn<int>("prompt");
        QTest::addColumn<bool>("withBos");
        QTest::addColumn<int>("chosen");
        QTest::addColumn<int>("rejected");
        QTest::addColumn<int>("wantPrompt");
        QTest::addColumn<int>("wantChosen");
        QTest::addColumn<int>("wantRejected");
        QTest::addColumn<bool>("cut");
        // context 16 throughout
        QTest::newRow("fits") << 4 << true << 3 << 5 << 4 << 3 << 5 << false;
        QTest::newRow("long prompt fits with short responses") << 12 << true << 2 << 3 << 12 << 2 << 3 << false;
        QTest::newRow("long prompt") << 21 << true << 3 << 2 << 8 << 3 << 2 << true;
        QTest::newRow("long response") << 4 << true << 20 << 2 << 4 << 12 << 2 << true;
        QTest::newRow("both, no BOS") << 12 << false << 30 << 9 << 8 << 8 << 8 << true;
    }
    void pairsFitTheContext() {
        QFETCH(int, prompt);
        QFETCH(bool, withBos);
        QFETCH(int, chosen);
        QFETCH(int, rejected);
        QFETCH(int, wantPrompt);
        QFETCH(int, wantChosen);
        QFETCH(int, wantRejected);
        QFETCH(bool, cut);
        const int32_t bos = 256;
        TokenIds p, c, r;
        if (withBos) p.push_back(bos);
        for (int i = static_cast<int>(p.size()); i < prompt; ++i) p.push_back(i);
        for (int i = 0; i < chosen; ++i) c.push_back(100 + i);
        for (int i = 0; i < rejected; ++i) r.push_back(200 + i);
        const TokenIds p0 = p, c0 = c, r0 = r;
        QCOMPARE(fitPairToContext(p, c, r, 16, withBos ? bos : -1), cut);
        QCOMPARE(int(p.size()), wantPrompt);
        QCOMPARE(int(c.size()), wantChosen);
        QCOMPARE(int(r.size()), wantRejected);
        QVERIFY(p.size() + std::max(c.size(), r.size()) <= 16);
        // The prompt keeps its end (and BOS); the responses keep their start.
        QCOMPARE(p.back(), p0.back());
        if (withBos) QCOMPARE(p.front(), bos);
        QVERIFY(std::equal(c.begin(), c.end(), c0.begin()));
        QVERIFY(std::equal(r.begin(), r.end(), r0.begin()));
    }
};

PREFLAB_TEST_MAIN(TestTokenizer)
#include "tst_tokenizer.moc"
