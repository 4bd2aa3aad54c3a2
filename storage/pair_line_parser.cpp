#include "storage/pair_line_parser.h"

#include "core/values/person_names.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <charconv>
#include <cstdio>
#include <cmath>
#include <unordered_set>
#include <vector>

namespace preflab {

// RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF. Written
// by hand because Qt's public API can tell that a text is invalid UTF-8 but
// not where, and a person fixing a file needs the place.
int64_t invalidUtf8Offset(const std::string& s) {
    const auto* b = reinterpret_cast<const unsigned char*>(s.data());
    const size_t n = s.size();
    for (size_t i = 0; i < n;) {
        const unsigned char c = b[i];
        if (c < 0x80) {
            ++i;
            continue;
        }
        size_t len = 0;
        unsigned char lo = 0x80, hi = 0xBF;  // the allowed range of the second byte
        if (c >= 0xC2 && c <= 0xDF) len = 2;
        else if (c == 0xE0) len = 3, lo = 0xA0;
        else if (c == 0xED) len = 3, hi = 0x9F;
        else if (c >= 0xE1 && c <= 0xEF) len = 3;
        else if (c == 0xF0) len = 4, lo = 0x90;
        else if (c == 0xF4) len = 4, hi = 0x8F;
        else if (c >= 0xF1 && c <= 0xF3) len = 4;
        else return static_cast<int64_t>(i);
        if (i + len > n || b[i + 1] < lo || b[i + 1] > hi) return static_cast<int64_t>(i);
        for (size_t k = 2; k < len; ++k) {
            if (b[i + k] < 0x80 || b[i + k] > 0xBF) return static_cast<int64_t>(i);
        }
        i += len;
    }
    return -1;
}

namespace {

int hexDigit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// The code unit of a \uXXXX escape at json[at] ('\\'), or -1.
int escapedUnit(const std::string& json, size_t at) {
    if (at + 6 > json.size() || json[at] != '\\' || json[at + 1] != 'u') return -1;
    int unit = 0;
    for (size_t k = at + 2; k < at + 6; ++k) {
        const int d = hexDigit(json[k]);
        if (d < 0) return -1;
        unit = unit * 16 + d;
    }
    return unit;
}

void appendUtf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

}  // namespace

std::string strictJsonProblem(const std::string& json) {
    // One pass over the text: a stack of open containers (an object keeps
    // the keys it has seen), every string decoded. No recursion, so depth
    // costs no stack.
    struct Container {
        bool object = false;
        std::unordered_set<std::string> keys;
    };
    std::vector<Container> open;
    const size_t n = json.size();
    std::string text;
    for (size_t i = 0; i < n; ++i) {
        const char c = json[i];
        if (c == '{' || c == '[') {
            open.push_back({c == '{', {}});
            continue;
        }
        if (c == '}' || c == ']') {
            if (!open.empty()) open.pop_back();
            continue;
        }
        if (c != '"') continue;
        const size_t start = i;
        text.clear();
        for (++i; i < n && json[i] != '"'; ++i) {
            if (json[i] != '\\') {
                text += json[i];
                continue;
            }
            if (i + 1 >= n) break;
            const char e = json[i + 1];
            if (e != 'u') {
                const char* from = "\"\\/bfnrt";
                const char* to = "\"\\/\b\f\n\r\t";
                const char* at = std::char_traits<char>::find(from, 8, e);
                text += at ? to[at - from] : e;
                ++i;
                continue;
            }
            const int unit = escapedUnit(json, i);
            if (unit < 0) break;  // not valid JSON: Qt reported it already
            uint32_t cp = static_cast<uint32_t>(unit);
            if (unit >= 0xD800 && unit <= 0xDFFF) {
                const int low = unit <= 0xDBFF ? escapedUnit(json, i + 6) : -1;
                if (low < 0xDC00 || low > 0xDFFF) {
                    char code[8];
                    std::snprintf(code, sizeof code, "%04x", static_cast<unsigned>(unit));
                    return std::string("a lone surrogate \\u") + code + " at column " + std::to_string(i + 1) +
                           " (half of a UTF-16 pair, not a character)";
                }
                cp = 0x10000 + ((static_cast<uint32_t>(unit) - 0xD800) << 10) + (static_cast<uint32_t>(low) - 0xDC00);
                i += 6;
            }
            appendUtf8(text, cp);
            i += 5;
        }
        // A key: a string in an object followed by ':'.
        size_t next = i + 1;
        while (next < n && (json[next] == ' ' || json[next] == '\t' || json[next] == '\n' || json[next] == '\r')) ++next;
        if (next < n && json[next] == ':' && !open.empty() && open.back().object &&
            !open.back().keys.insert(text).second) {
            return "the key \"" + text.substr(0, 60) + "\" appears twice in one object (at column " +
                   std::to_string(start + 1) + "); JSON readers disagree on which one counts";
        }
    }
    return {};
}

namespace {

std::string str(const QJsonValue& v) { return v.toString().toStdString(); }

// HH-RLHF's turn marker: the prompt runs to the end of the last one.
constexpr const char* kAssistantTurn = "\n\nAssistant:";

// An HH-RLHF dialogue ("\n\nHuman: …\n\nAssistant: …\n\nHuman: …\n\nAssistant:")
// as messages, so that a chat model's template renders its turns instead of
// reading the whole transcript as one user message. Text before the first
// turn is a system message; the closing empty assistant turn is where the
// response goes.
std::string dialogueMessages(const std::string& dialogue) {
    static const std::pair<const char*, const char*> kTurns[] = {{"\n\nHuman:", "user"}, {"\n\nAssistant:", "assistant"}};
    auto trim = [](const std::string& t) {
        const size_t b = t.find_first_not_of(" \n");
        return b == std::string::npos ? std::string() : t.substr(b, t.find_last_not_of(" \n") - b + 1);
    };
    QJsonArray messages;
    size_t at = 0;
    const char* role = "system";
    for (;;) {
        size_t next = std::string::npos;
        const std::pair<const char*, const char*>* turn = nullptr;
        for (const auto& t : kTurns) {
            const size_t f = dialogue.find(t.first, at);
            if (f < next) next = f, turn = &t;
        }
        const std::string content = trim(dialogue.substr(at, next == std::string::npos ? std::string::npos : next - at));
        if (!content.empty()) messages.append(QJsonObject{{"role", role}, {"content", QString::fromStdString(content)}});
        if (!turn) break;
        role = turn->second;
        at = next + std::char_traits<char>::length(turn->first);
    }
    return QJsonDocument(messages).toJson(QJsonDocument::Compact).toStdString();
}

// An implicit-prompt row: splits the two dialogues after the last
// "\n\nAssistant:" turn that both share. Not simply chosen's last one: in
// HH-RLHF a response can itself run on into invented turns (4 of the 2,312
// rows of harmless-base/test.jsonl), and its prompt is still the dialogue
// both responses answer.
std::string splitImplicitPrompt(const std::string& chosen, const std::string& rejected, PairRow& pair) {
    const size_t turnLength = std::char_traits<char>::length(kAssistantTurn);
    if (chosen.find(kAssistantTurn) == std::string::npos) {
        return "no \"prompt\", and \"chosen\" has no \"\\n\\nAssistant:\" turn to take the prompt from "
               "(TRL's implicit-prompt format, as HH-RLHF)";
    }
    size_t common = 0;
    while (common < chosen.size() && common < rejected.size() && chosen[common] == rejected[common]) ++common;
    const size_t turn = common < turnLength ? std::string::npos : chosen.rfind(kAssistantTurn, common - turnLength);
    if (turn == std::string::npos) {
        return "chosen and rejected do not share the dialogue up to an \"\\n\\nAssistant:\" turn, so there is no "
               "common prompt";
    }
    const size_t end = turn + turnLength;
    pair.prompt = chosen.substr(0, end);
    pair.a.text = chosen.substr(end);
    pair.b.text = rejected.substr(end);
    pair.promptMessagesJson = dialogueMessages(pair.prompt);
    return {};
}

// A label's optional "seconds" (the time the person took), as export writes it.
std::string parseSeconds(const QJsonObject& o, ParsedLine& out) {
    if (!o.contains("seconds")) return {};
    const QJsonValue v = o["seconds"];
    if (!v.isDouble() || !std::isfinite(v.toDouble()) || v.toDouble() < 0) {
        return "\"seconds\" must be a number of seconds, zero or more";
    }
    out.seconds = v.toDouble();
    return {};
}

std::string parseLabelRow(const QJsonObject& o, ParsedLine& out) {
    for (const char* key : {"prompt", "response_a", "response_b", "annotator", "label"}) {
        if (!o.contains(key)) return std::string("missing \"") + key + "\" (an annotator label row has prompt, response_a, response_b, annotator and label)";
        if (!o[key].isString()) return std::string("\"") + key + "\" must be a string";
    }
    out.format = kAnnotatorLabels;
    out.pair.prompt = str(o["prompt"]);
    out.pair.a.text = str(o["response_a"]);
    out.pair.b.text = str(o["response_b"]);
    out.label = str(o["label"]);
    if (const std::string e = normalizeName(str(o["annotator"]), out.annotator); !e.empty()) return "\"annotator\": " + e;
    if (out.label != "a" && out.label != "b" && out.label != "tie" && out.label != "both_bad" && out.label != "skip") {
        return "\"label\" is '" + out.label.substr(0, 40) + "'; expected a, b, tie, both_bad or skip";
    }
    if (std::string e = parseSeconds(o, out); !e.empty()) return e;
    if (o.contains("shown_first")) {
        out.shownFirst = o["shown_first"].isString() ? str(o["shown_first"]) : std::string("?");
        if (out.shownFirst != "a" && out.shownFirst != "b") return "\"shown_first\" must be \"a\" or \"b\"";
    }
    return {};
}

std::string shortestText(double v) {
    char buf[32];
    const auto res = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, res.ptr);
}

std::string outOfRange(const char* key, double v, const RatingRange& range, const char* scale) {
    return std::string("\"") + key + "\" is " + shortestText(v) + ", outside " + scale + " " + range.describe() +
           " (--rating-range LO-HI accepts another scale)";
}

std::string parseRatingRow(const QJsonObject& o, ParsedLine& out, const LineChecks& checks) {
    out.format = kRatings;
    for (const char* key : {"prompt", "response"}) {
        if (!o.contains(key)) return std::string("missing \"") + key + "\" (a rating row has prompt, response and rating)";
        if (!o[key].isString()) return std::string("\"") + key + "\" must be a string";
    }
    if (!o.contains("rating")) return "missing \"rating\" (a rating row has prompt, response and rating)";
    if (!o["rating"].isDouble() || !std::isfinite(o["rating"].toDouble())) return "\"rating\" must be a finite number";
    out.pair.prompt = str(o["prompt"]);
    out.pair.a.text = str(o["response"]);
    if (out.pair.a.text.empty()) return "\"response\" must not be empty";
    out.rating = o["rating"].toDouble();
    if (!checks.ratings.contains(*out.rating)) return outOfRange("rating", *out.rating, checks.ratings, "the rating scale");
    if (o.contains("sampling_logprob") && !o["sampling_logprob"].isNull()) {
        const QJsonValue lp = o["sampling_logprob"];
        if (!lp.isDouble() || !std::isfinite(lp.toDouble()) || lp.toDouble() > 0) {
            return "\"sampling_logprob\" must be a finite log-probability (a number <= 0)";
        }
        out.pair.a.samplingLogprob = lp.toDouble();
    }
    return {};
}

// A list of messages: each an object with a known role and string content.
std::string checkMessages(const QJsonValue& v, const char* key) {
    const QJsonArray list = v.toArray();
    if (list.isEmpty()) return std::string("\"") + key + "\" is an empty list of messages";
    for (int i = 0; i < list.size(); ++i) {
        const std::string where = std::string("\"") + key + "\" message " + std::to_string(i + 1);
        if (!list[i].isObject()) return where + " is not an object with role and content";
        const QJsonObject m = list[i].toObject();
        if (!m["role"].isString()) return where + " has no \"role\" string";
        const QString role = m["role"].toString();
        if (role != "system" && role != "user" && role != "assistant" && role != "tool") {
            return where + " has role '" + role.toStdString() + "'; expected system, user, assistant or tool";
        }
        if (!m.contains("content")) return where + " has no \"content\"";
        if (!m["content"].isString()) return where + "'s \"content\" is not a string (only text content is supported)";
    }
    return {};
}

QJsonObject lastMessage(const QJsonValue& v) { return v.toArray().last().toObject(); }

std::string compact(const QJsonArray& a) { return QJsonDocument(a).toJson(QJsonDocument::Compact).toStdString(); }

// TRL's conversational format (prompt as a list) or whole conversations in
// chosen and rejected (prompt absent, or a string kept only in the row).
std::string parseConversationRow(const QJsonObject& o, const std::string& line, ParsedLine& out, const LineChecks& checks) {
    for (const char* key : {"chosen", "rejected"}) {
        if (!o.contains(key)) return std::string("missing \"") + key + "\"";
        if (!o[key].isArray()) return std::string("\"") + key + "\" must be a list of messages, as the row's other conversation fields are";
        if (std::string err = checkMessages(o[key], key); !err.empty()) return err;
        if (lastMessage(o[key])["role"].toString() != "assistant") {
            return std::string("\"") + key + "\" must end with an assistant message (the response)";
        }
    }
    const QJsonArray chosen = o["chosen"].toArray(), rejected = o["rejected"].toArray();
    QJsonArray prompt;
    if (o["prompt"].isArray()) {
        out.format = kTrlConversational;
        if (std::string err = checkMessages(o["prompt"], "prompt"); !err.empty()) return err;
        if (chosen.size() != 1 || rejected.size() != 1) {
            return "with \"prompt\" given as messages, \"chosen\" and \"rejected\" must each be one assistant message";
        }
        prompt = o["prompt"].toArray();
    } else {
        if (o.contains("prompt") && !o["prompt"].isString()) return "\"prompt\" must be a string or a list of messages";
        out.format = kConversationsWithPrompt;
        if (chosen.size() < 2 || rejected.size() < 2) {
            return "\"chosen\" and \"rejected\" hold no prompt: without a \"prompt\" list they must be whole "
                   "conversations (the prompt's messages, then the response)";
        }
        for (int i = 0; i + 1 < chosen.size(); ++i) prompt.append(chosen[i]);
        QJsonArray rejectedPrompt;
        for (int i = 0; i + 1 < rejected.size(); ++i) rejectedPrompt.append(rejected[i]);
        if (prompt != rejectedPrompt) {
            return "chosen and rejected do not share the messages before their last one, so there is no common prompt";
        }
        for (const char* key : {"score_chosen", "score_rejected"}) {
            if (o.contains(key) && !o[key].isNull() && (!o[key].isDouble() || !std::isfinite(o[key].toDouble()))) {
                return std::string("\"") + key + "\" must be a finite number";
            }
        }
        for (const char* key : {"score_chosen", "score_rejected"}) {
            if (o[key].isDouble() && !checks.scores.contains(o[key].toDouble())) {
                return outOfRange(key, o[key].toDouble(), checks.scores, "the score scale");
            }
        }
        if (o["score_chosen"].isDouble()) out.scoreA = o["score_chosen"].toDouble();
        if (o["score_rejected"].isDouble()) out.scoreB = o["score_rejected"].toDouble();
    }
    out.pair.promptMessagesJson = compact(prompt);
    out.pair.prompt = plainConversationText(out.pair.promptMessagesJson);
    out.pair.a.text = str(lastMessage(o["chosen"])["content"]);
    out.pair.b.text = str(lastMessage(o["rejected"])["content"]);
    out.pair.sourceRow = line;
    return {};
}

}  // namespace

std::string plainConversationText(const std::string& messagesJson) {
    const QJsonArray list = QJsonDocument::fromJson(QByteArray::fromStdString(messagesJson)).array();
    if (list.size() == 1 && list[0].toObject()["role"].toString() == "user") return str(list[0].toObject()["content"]);
    std::string out;
    for (const QJsonValue& v : list) {
        const QJsonObject m = v.toObject();
        std::string role = str(m["role"]);
        if (!role.empty()) role[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(role[0])));
        out += (out.empty() ? "" : "\n\n") + role + ": " + str(m["content"]);
    }
    return out;
}

std::string parseUnpairedRow(const QJsonObject& o, ParsedLine& out) {
    out.format = kTrlUnpaired;
    for (const char* key : {"prompt", "completion"}) {
        if (!o.contains(key)) return std::string("missing \"") + key + "\" (an unpaired row has prompt, completion and label)";
        if (!o[key].isString()) return std::string("\"") + key + "\" must be a string";
    }
    if (!o.contains("label")) return "missing \"label\" (true: a desirable completion, false: an undesirable one)";
    if (!o["label"].isBool()) return "\"label\" of an unpaired row must be true or false";
    out.pair.prompt = str(o["prompt"]);
    out.pair.a.text = str(o["completion"]);
    if (out.pair.a.text.empty()) return "\"completion\" must not be empty";
    out.desirable = o["label"].toBool();
    if (o.contains("annotator")) {
        if (!o["annotator"].isString()) return "\"annotator\" must be a string";
        if (const std::string e = normalizeName(str(o["annotator"]), out.annotator); !e.empty()) return "\"annotator\": " + e;
    }
    return parseSeconds(o, out);
}

std::string parsePairLine(const std::string& line, ParsedLine& parsed, const LineChecks& checks) {
    PairRow& pair = parsed.pair;
    if (const int64_t at = invalidUtf8Offset(line); at >= 0) {
        return "not valid UTF-8 (byte " + std::to_string(at + 1) + " of the line)";
    }
    QJsonParseError err;
    const QJsonDocument doc = QJsonDocument::fromJson(QByteArray::fromStdString(line), &err);
    if (doc.isNull()) return "not valid JSON (" + err.errorString().toStdString() + " at column " + std::to_string(err.offset + 1) + ")";
    if (!doc.isObject()) return "expected a JSON object with prompt, chosen and rejected";
    if (std::string e = strictJsonProblem(line); !e.empty()) return e;
    const QJsonObject o = doc.object();
    if (o.contains("completion")) return parseUnpairedRow(o, parsed);
    if (o.contains("response_a") || o.contains("label")) return parseLabelRow(o, parsed);
    if (o.contains("response") || o.contains("rating")) return parseRatingRow(o, parsed, checks);
    if (o["chosen"].isArray() || o["rejected"].isArray() || o["prompt"].isArray()) {
        if (!o["chosen"].isArray() || !o["rejected"].isArray()) {
            return "a conversation (list of messages) mixed with text: \"chosen\" and \"rejected\" must both be lists "
                   "of messages";
        }
        const std::string e = parseConversationRow(o, line, parsed, checks);
        if (!e.empty()) return e;
    } else {
        const bool implicit = !o.contains("prompt");
        for (const char* key : {"prompt", "chosen", "rejected"}) {
            if (implicit && std::string(key) == "prompt") continue;
            if (!o.contains(key)) return std::string("missing \"") + key + "\"";
            if (!o[key].isString()) return std::string("\"") + key + "\" must be a string";
        }
        if (implicit) {
            parsed.format = kTrlImplicitPrompt;
            const std::string e = splitImplicitPrompt(str(o["chosen"]), str(o["rejected"]), pair);
            if (!e.empty()) return e;
        } else {
            parsed.format = kTrlStandard;
            pair.prompt = str(o["prompt"]);
            pair.a.text = str(o["chosen"]);
            pair.b.text = str(o["rejected"]);
        }
    }
    // An empty response is a response (a model that said nothing), and real
    // data has them: 4 rows of HH-RLHF's harmless-base test split, in TRL's
    // conversational form, prefer an empty answer. Training scores it as EOS.
    if (pair.a.text == pair.b.text) return "chosen and rejected are identical: there is nothing to learn from the pair";
    return {};
}

}  // namespace preflab
