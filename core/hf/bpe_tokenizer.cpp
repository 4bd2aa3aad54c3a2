#include "core/hf/bpe_tokenizer.h"

#include "core/hf/json_file.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QRegularExpression>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <unordered_map>

namespace preflab {
namespace {

// GPT-2's pre-tokenizer pattern (ByteLevel with use_regex = true).
const char* const kGpt2Pattern = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

[[noreturn]] void fail(const std::string& file, const std::string& what) {
    throw std::runtime_error(file + ": " + what);
}

// GPT-2's reversible map from bytes to printable unicode characters: bytes
// that are printable keep their code point, the rest move to 256 + n.
std::array<char32_t, 256> byteToUnicode() {
    std::array<char32_t, 256> map{};
    std::array<bool, 256> direct{};
    for (int b = '!'; b <= '~'; ++b) direct[static_cast<size_t>(b)] = true;
    for (int b = 0xA1; b <= 0xAC; ++b) direct[static_cast<size_t>(b)] = true;
    for (int b = 0xAE; b <= 0xFF; ++b) direct[static_cast<size_t>(b)] = true;
    char32_t next = 256;
    for (int b = 0; b < 256; ++b) map[static_cast<size_t>(b)] = direct[static_cast<size_t>(b)] ? static_cast<char32_t>(b) : next++;
    return map;
}

std::string utf8(char32_t c) {
    std::string out;
    if (c < 0x80) {
        out.push_back(static_cast<char>(c));
    } else if (c < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (c >> 6)));
        out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xE0 | (c >> 12)));
        out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
    return out;
}

}  // namespace

struct BpeTokenizer::Impl {
    std::string path;
    std::unordered_map<std::string, int32_t> vocab;
    std::vector<std::string> idToToken;
    std::unordered_map<std::string, int32_t> mergeRank;  // "left right" -> rank
    std::vector<std::pair<std::string, int32_t>> added;   // content -> id, longest first
    std::vector<bool> isSpecial;
    QRegularExpression pattern;
    bool usePattern = true;
    bool addPrefixSpace = false;
    bool nfc = false;
    bool ignoreMerges = false;
    // SentencePiece-style BPE (Llama 2, TinyLlama): spaces become U+2581,
    // merges act on characters, and a symbol outside the vocabulary falls
    // back to its UTF-8 bytes as <0xXX> tokens.
    bool sentencePiece = false;
    bool prependEverySegment = true;  // Prepend normalizer / Metaspace "always"; "first": the text's start only
    int32_t unk = -1;
    std::array<int32_t, 256> byteToken{};
    std::array<std::string, 256> byteSymbol;          // byte -> its symbol in UTF-8
    std::unordered_map<char32_t, uint8_t> symbolByte;  // symbol code point -> byte
    SpecialTokens specials;
    mutable std::mutex cacheMutex;
    mutable std::unordered_map<std::string, std::vector<int32_t>> cache;

    int32_t idOf(const std::string& token) const {
        const auto it = vocab.find(token);
        return it == vocab.end() ? -1 : it->second;
    }

    void readPreTokenizer(const QJsonValue& v) {
        if (sentencePiece) {
            if (v.isNull() || v.isUndefined()) return;  // the normalizer prepends and replaces spaces
            const QJsonObject o = v.toObject();
            if (o.value(QStringLiteral("type")).toString() == QStringLiteral("Metaspace") &&
                o.value(QStringLiteral("replacement")).toString(QString(QChar(0x2581))) == QString(QChar(0x2581)) &&
                !o.value(QStringLiteral("split")).toBool(false)) {
                const QString scheme = o.value(QStringLiteral("prepend_scheme")).toString(QStringLiteral("always"));
                if (scheme == QStringLiteral("never")) fail(path, "Metaspace prepend_scheme 'never' is not supported");
                prependEverySegment = scheme == QStringLiteral("always");
                return;
            }
            fail(path, "a byte-fallback tokenizer needs no pre_tokenizer or a non-splitting Metaspace");
        }
        if (v.isNull() || v.isUndefined()) fail(path, "no pre_tokenizer: only byte-level BPE tokenizers are supported so far");
        const QJsonObject o = v.toObject();
        const QString type = o.value(QStringLiteral("type")).toString();
        if (type == QStringLiteral("ByteLevel")) {
            addPrefixSpace = o.value(QStringLiteral("add_prefix_space")).toBool(false);
            usePattern = o.value(QStringLiteral("use_regex")).toBool(true);
            pattern = QRegularExpression(QString::fromUtf8(kGpt2Pattern), QRegularExpression::UseUnicodePropertiesOption);
            return;
        }
        if (type == QStringLiteral("Sequence")) {
            const QJsonArray parts = o.value(QStringLiteral("pretokenizers")).toArray();
            bool split = false, byteLevel = false;
            for (const QJsonValue& p : parts) {
                const QJsonObject po = p.toObject();
                const QString t = po.value(QStringLiteral("type")).toString();
                if (t == QStringLiteral("Split") && !split) {
                    const QString regex = po.value(QStringLiteral("pattern")).toObject().value(QStringLiteral("Regex")).toString();
                    if (regex.isEmpty() || po.value(QStringLiteral("behavior")).toString() != QStringLiteral("Isolated") ||
                        po.value(QStringLiteral("invert")).toBool(false)) {
                        fail(path, "pre_tokenizer Split: only an isolated, non-inverted Regex pattern is supported");
                    }
                    pattern = QRegularExpression(regex, QRegularExpression::UseUnicodePropertiesOption);
                    split = true;
                } else if (t == QStringLiteral("ByteLevel") && !byteLevel) {
                    addPrefixSpace = po.value(QStringLiteral("add_prefix_space")).toBool(false);
                    if (po.value(QStringLiteral("use_regex")).toBool(true) && !split) {
                        pattern = QRegularExpression(QString::fromUtf8(kGpt2Pattern), QRegularExpression::UseUnicodePropertiesOption);
                        split = true;
                    }
                    byteLevel = true;
                } else {
                    fail(path, "pre_tokenizer Sequence holds '" + t.toStdString() +
                                   "': supported are a Split regex followed by ByteLevel");
                }
            }
            if (!byteLevel) fail(path, "pre_tokenizer Sequence without ByteLevel: only byte-level BPE is supported so far");
            usePattern = split;
            return;
        }
        fail(path, "pre_tokenizer '" + type.toStdString() +
                       "' is not supported (byte-level BPE: ByteLevel, or Sequence[Split, ByteLevel]); "
                       "SentencePiece-style tokenizers (Metaspace, byte fallback) are not yet");
    }

    std::vector<int32_t> bpe(const std::string& piece) const {
        {
            std::lock_guard<std::mutex> lock(cacheMutex);
            const auto it = cache.find(piece);
            if (it != cache.end()) return it->second;
        }
        // Symbols: one per input byte as its mapped character (byte level),
        // or one per character (SentencePiece).
        std::vector<std::string> symbols;
        std::string mapped;
        if (sentencePiece) {
            mapped = piece;
            for (size_t i = 0; i < piece.size();) {
                const unsigned char lead = static_cast<unsigned char>(piece[i]);
                const size_t len = lead < 0x80 ? 1 : lead >> 5 == 0x6 ? 2 : lead >> 4 == 0xE ? 3 : lead >> 3 == 0x1E ? 4 : 1;
                symbols.push_back(piece.substr(i, len));
                i += len;
            }
        } else {
            for (unsigned char b : piece) {
                symbols.push_back(byteSymbol[b]);
                mapped += byteSymbol[b];
            }
        }
        std::vector<int32_t> ids;
        const int32_t whole = ignoreMerges ? idOf(mapped) : -1;
        if (whole >= 0) {
            ids.push_back(whole);
        } else {
            // Merge the lowest-ranked adjacent pair, all its occurrences, until none is left.
            while (symbols.size() > 1) {
                int32_t best = std::numeric_limits<int32_t>::max();
                std::string bestLeft, bestRight;
                for (size_t i = 0; i + 1 < symbols.size(); ++i) {
                    const auto it = mergeRank.find(symbols[i] + " " + symbols[i + 1]);
                    if (it != mergeRank.end() && it->second < best) {
                        best = it->second;
                        bestLeft = symbols[i];
                        bestRight = symbols[i + 1];
                    }
                }
                if (best == std::numeric_limits<int32_t>::max()) break;
                std::vector<std::string> merged;
                for (size_t i = 0; i < symbols.size(); ++i) {
                    if (i + 1 < symbols.size() && symbols[i] == bestLeft && symbols[i + 1] == bestRight) {
                        merged.push_back(bestLeft + bestRight);
                        ++i;
                    } else {
                        merged.push_back(symbols[i]);
                    }
                }
                symbols = std::move(merged);
            }
            for (const std::string& s : symbols) {
                const int32_t id = idOf(s);
                if (id >= 0) {
                    ids.push_back(id);
                } else if (sentencePiece) {
                    for (unsigned char b : s) ids.push_back(byteToken[b] >= 0 ? byteToken[b] : unk);
                } else {
                    fail(path, "the merges produce '" + s + "', which is not in the vocabulary");
                }
            }
        }
        std::lock_guard<std::mutex> lock(cacheMutex);
        if (cache.size() < 100000) cache.emplace(piece, ids);
        return ids;
    }

    void encodeText(const QString& text, bool atStart, TokenIds& out) const {
        QString t = nfc ? text.normalized(QString::NormalizationForm_C) : text;
        if (sentencePiece) {
            // The whole segment is one piece: no pre-tokenizer splits it.
            t.replace(QLatin1Char(' '), QChar(0x2581));
            if (atStart || prependEverySegment) t.prepend(QChar(0x2581));
            const std::vector<int32_t> ids = bpe(t.toStdString());
            out.insert(out.end(), ids.begin(), ids.end());
            return;
        }
        if (addPrefixSpace && atStart && !t.startsWith(QLatin1Char(' '))) t.prepend(QLatin1Char(' '));
        if (!usePattern) {
            const std::vector<int32_t> ids = bpe(t.toStdString());
            out.insert(out.end(), ids.begin(), ids.end());
            return;
        }
        auto it = pattern.globalMatch(t);
        qsizetype covered = 0;
        while (it.hasNext()) {
            const QRegularExpressionMatch m = it.next();
            // Text between matches (a pattern that does not cover everything) stays a piece too.
            if (m.capturedStart() > covered) {
                const std::vector<int32_t> gap = bpe(t.mid(covered, m.capturedStart() - covered).toStdString());
                out.insert(out.end(), gap.begin(), gap.end());
            }
            if (m.capturedLength() == 0) continue;
            const std::vector<int32_t> ids = bpe(m.captured().toStdString());
            out.insert(out.end(), ids.begin(), ids.end());
            covered = m.capturedEnd();
        }
        if (covered < t.size()) {
            const std::vector<int32_t> rest = bpe(t.mid(covered).toStdString());
            out.insert(out.end(), rest.begin(), rest.end());
        }
    }
};

BpeTokenizer::BpeTokenizer() : d(std::make_unique<Impl>()) {}

BpeTokenizer::BpeTokenizer(const std::string& tokenizerJson, const std::string& tokenizerConfigJson)
    : d(std::make_unique<Impl>()) {
    init(readJsonObjectFile(tokenizerJson), tokenizerJson, tokenizerConfigJson);
}

std::unique_ptr<BpeTokenizer> BpeTokenizer::fromJsonText(const std::string& json, const std::string& name) {
    std::unique_ptr<BpeTokenizer> t(new BpeTokenizer());
    t->init(parseJsonObject(json, name), name, {});
    return t;
}

void BpeTokenizer::init(const QJsonObject& root, const std::string& tokenizerJson, const std::string& tokenizerConfigJson) {
    d->path = tokenizerJson;
    const QJsonObject model = root.value(QStringLiteral("model")).toObject();
    const QString type = model.value(QStringLiteral("type")).toString();
    if (type != QStringLiteral("BPE")) {
        fail(tokenizerJson, "model type '" + type.toStdString() + "' is not supported (BPE is; WordPiece, Unigram are not)");
    }
    d->sentencePiece = model.value(QStringLiteral("byte_fallback")).toBool(false);
    d->ignoreMerges = model.value(QStringLiteral("ignore_merges")).toBool(false);
    const QJsonObject vocab = model.value(QStringLiteral("vocab")).toObject();
    if (vocab.isEmpty()) fail(tokenizerJson, "model.vocab is missing or empty");
    int32_t maxId = -1;
    for (auto it = vocab.begin(); it != vocab.end(); ++it) {
        const double v = it.value().toDouble(-1);
        if (v < 0 || v > 1e8 || v != static_cast<int32_t>(v)) fail(tokenizerJson, "vocab entry '" + it.key().toStdString() + "' has no valid id");
        const int32_t id = static_cast<int32_t>(v);
        d->vocab[it.key().toStdString()] = id;
        maxId = std::max(maxId, id);
    }
    const QJsonArray merges = model.value(QStringLiteral("merges")).toArray();
    int32_t rank = 0;
    for (const QJsonValue& m : merges) {
        std::string pair;
        if (m.isString()) {
            pair = m.toString().toStdString();  // "left right"
        } else if (m.isArray() && m.toArray().size() == 2) {
            pair = m.toArray()[0].toString().toStdString() + " " + m.toArray()[1].toString().toStdString();
        } else {
            fail(tokenizerJson, "merge " + std::to_string(rank) + " is neither \"a b\" nor [a, b]");
        }
        d->mergeRank.emplace(std::move(pair), rank++);
    }
    for (const QJsonValue& a : root.value(QStringLiteral("added_tokens")).toArray()) {
        const QJsonObject o = a.toObject();
        const std::string content = o.value(QStringLiteral("content")).toString().toStdString();
        const int32_t id = o.value(QStringLiteral("id")).toInt(-1);
        if (content.empty() || id < 0) fail(tokenizerJson, "an added token has no content or id");
        d->added.emplace_back(content, id);
        d->vocab.emplace(content, id);
        maxId = std::max(maxId, id);
        if (static_cast<int32_t>(d->isSpecial.size()) <= id) d->isSpecial.resize(static_cast<size_t>(id) + 1, false);
        d->isSpecial[static_cast<size_t>(id)] = o.value(QStringLiteral("special")).toBool(false);
    }
    std::sort(d->added.begin(), d->added.end(), [](const auto& x, const auto& y) { return x.first.size() > y.first.size(); });
    // Real vocabularies number their tokens 0..N-1 (a few holes at most); a
    // far larger id would make the id table absurdly large.
    const size_t entries = d->vocab.size();
    if (static_cast<size_t>(maxId) >= 2 * entries + 1024) {
        fail(tokenizerJson, "token ids are not dense: id " + std::to_string(maxId) + " among " + std::to_string(entries) + " tokens");
    }
    d->idToToken.resize(static_cast<size_t>(maxId) + 1);
    d->isSpecial.resize(static_cast<size_t>(maxId) + 1, false);
    for (const auto& [token, id] : d->vocab) d->idToToken[static_cast<size_t>(id)] = token;

    const QJsonValue normalizer = root.value(QStringLiteral("normalizer"));
    if (normalizer.isObject()) {
        const QJsonObject no = normalizer.toObject();
        const QString n = no.value(QStringLiteral("type")).toString();
        if (n == QStringLiteral("NFC")) {
            d->nfc = true;
        } else if (n == QStringLiteral("Sequence") && d->sentencePiece) {
            // Llama 2's: Prepend("▁") then Replace(" ", "▁"), which encodeText does.
            for (const QJsonValue& step : no.value(QStringLiteral("normalizers")).toArray()) {
                const QJsonObject so = step.toObject();
                const QString t = so.value(QStringLiteral("type")).toString();
                const bool prepend = t == QStringLiteral("Prepend") && so.value(QStringLiteral("prepend")).toString() == QString(QChar(0x2581));
                const bool replace = t == QStringLiteral("Replace") &&
                                     so.value(QStringLiteral("pattern")).toObject().value(QStringLiteral("String")).toString() == QStringLiteral(" ") &&
                                     so.value(QStringLiteral("content")).toString() == QString(QChar(0x2581));
                if (!prepend && !replace) fail(tokenizerJson, "normalizer step '" + t.toStdString() + "' is not supported");
            }
        } else {
            fail(tokenizerJson, "normalizer '" + n.toStdString() + "' is not supported (none, NFC, or Llama 2's Prepend/Replace)");
        }
    }
    d->readPreTokenizer(root.value(QStringLiteral("pre_tokenizer")));
    if (!d->pattern.isValid()) fail(tokenizerJson, "the pre-tokenizer regex does not compile: " + d->pattern.errorString().toStdString());
    if (d->sentencePiece) {
        char name[8];
        for (int b = 0; b < 256; ++b) {
            std::snprintf(name, sizeof name, "<0x%02X>", b);
            d->byteToken[static_cast<size_t>(b)] = d->idOf(name);
        }
        d->unk = d->idOf(model.value(QStringLiteral("unk_token")).toString(QStringLiteral("<unk>")).toStdString());
    }
    const auto map = byteToUnicode();
    for (int b = 0; b < 256; ++b) {
        d->byteSymbol[static_cast<size_t>(b)] = utf8(map[static_cast<size_t>(b)]);
        d->symbolByte[map[static_cast<size_t>(b)]] = static_cast<uint8_t>(b);
    }

    // BOS / EOS / PAD from tokenizer_config.json where it names them.
    std::string bos, eos, pad;
    if (!tokenizerConfigJson.empty()) {
        const QJsonObject cfg = readJsonObjectFile(tokenizerConfigJson);
        bos = tokenContent(cfg.value(QStringLiteral("bos_token")));
        eos = tokenContent(cfg.value(QStringLiteral("eos_token")));
        pad = tokenContent(cfg.value(QStringLiteral("pad_token")));
    }
    if (eos.empty()) eos = "<|endoftext|>";
    d->specials.bos = bos.empty() ? -1 : d->idOf(bos);
    d->specials.eos = d->idOf(eos);
    d->specials.pad = pad.empty() ? d->specials.eos : d->idOf(pad);
    d->specials.sep = -1;
}

BpeTokenizer::~BpeTokenizer() = default;

TokenIds BpeTokenizer::encode(std::string_view text) const {
    TokenIds out;
    // Added tokens are matched first, longest first, and never merged.
    size_t start = 0, pos = 0;
    bool atStart = true;
    while (pos < text.size()) {
        const std::pair<std::string, int32_t>* hit = nullptr;
        for (const auto& a : d->added) {
            if (text.compare(pos, a.first.size(), a.first) == 0) {
                hit = &a;
                break;
            }
        }
        if (!hit) {
            ++pos;
            continue;
        }
        if (pos > start) d->encodeText(QString::fromUtf8(text.data() + start, static_cast<qsizetype>(pos - start)), atStart, out);
        out.push_back(hit->second);
        pos += hit->first.size();
        start = pos;
        atStart = false;
    }
    if (start < text.size()) d->encodeText(QString::fromUtf8(text.data() + start, static_cast<qsizetype>(text.size() - start)), atStart, out);
    return out;
}

std::string BpeTokenizer::decode(const TokenIds& ids, bool skipSpecial) const {
    std::string out;
    for (int32_t id : ids) {
        if (id < 0 || id >= static_cast<int32_t>(d->idToToken.size())) continue;
        const std::string& token = d->idToToken[static_cast<size_t>(id)];
        if (d->isSpecial[static_cast<size_t>(id)]) {
            if (!skipSpecial) out += token;
            continue;
        }
        if (d->sentencePiece) {
            unsigned int byte = 0;
            if (token.size() == 6 && std::sscanf(token.c_str(), "<0x%2X>", &byte) == 1) {
                out.push_back(static_cast<char>(byte));
            } else {
                out += QString::fromStdString(token).replace(QChar(0x2581), QLatin1Char(' ')).toStdString();
            }
            continue;
        }
        // Map each symbol back to its byte; an added non-special token is literal text.
        const QString symbols = QString::fromStdString(token);
        std::string bytes;
        bool mapped = true;
        for (char32_t c : symbols.toUcs4()) {
            const auto it = d->symbolByte.find(c);
            if (it == d->symbolByte.end()) {
                mapped = false;
                break;
            }
            bytes.push_back(static_cast<char>(it->second));
        }
        out += mapped ? bytes : token;
    }
    // SentencePiece decoders strip the space that encoding prepended.
    if (d->sentencePiece && !out.empty() && out.front() == ' ') out.erase(0, 1);
    return out;
}

int32_t BpeTokenizer::vocabSize() const {
    return static_cast<int32_t>(d->idToToken.size());
}

SpecialTokens BpeTokenizer::special() const {
    return d->specials;
}

std::string BpeTokenizer::tokenText(int32_t id) const {
    return id >= 0 && id < vocabSize() ? d->idToToken[static_cast<size_t>(id)] : std::string();
}

std::unique_ptr<BpeTokenizer> loadFolderTokenizer(const std::string& folder) {
    const std::filesystem::path dir(folder);
    const std::filesystem::path json = dir / "tokenizer.json";
    if (!std::filesystem::exists(json)) throw std::runtime_error(folder + ": no tokenizer.json in the model folder");
    const std::filesystem::path config = dir / "tokenizer_config.json";
    return std::make_unique<BpeTokenizer>(json.string(), std::filesystem::exists(config) ? config.string() : std::string());
}

}  // namespace preflab
