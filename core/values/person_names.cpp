#include "core/values/person_names.h"

#include <QList>
#include <QString>

#include <cstdio>

namespace preflab {
namespace {

// Bidirectional embedding, override and isolate controls: a name holding
// U+202E prints everything after it right to left.
bool isBidiControl(char32_t c) {
    return (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069) || c == 0x200E || c == 0x200F || c == 0x061C;
}

bool isControl(char32_t c) {
    return c < 0x20 || (c >= 0x7F && c <= 0x9F) || c == 0x2028 || c == 0x2029 || isBidiControl(c);
}

}  // namespace

std::string normalizeName(const std::string& raw, std::string& name, const char* what, bool required) {
    name.clear();
    const QString text = QString::fromUtf8(raw.data(), static_cast<qsizetype>(raw.size()))
                             .trimmed()
                             .normalized(QString::NormalizationForm_C);
    if (text.isEmpty()) {
        return required ? std::string("the ") + what + " name is empty: labels are counted per " + what : std::string();
    }
    qsizetype length = 0;
    for (const char32_t c : text.toUcs4()) {
        ++length;
        if (c == 0xFFFD) return std::string("the ") + what + " name is not valid UTF-8";
        if (isControl(c)) {
            char code[16];
            std::snprintf(code, sizeof code, c < 0x100 ? "\\x%02X" : "\\u%04X", static_cast<unsigned>(c));
            return std::string("the ") + what + " name holds a control character (" + code + ")";
        }
    }
    if (length > kMaxNameLength) {
        return std::string("the ") + what + " name is " + std::to_string(length) + " characters long; at most " +
               std::to_string(kMaxNameLength) + " are allowed";
    }
    name = text.toStdString();
    return {};
}

std::string terminalSafe(const std::string& text, bool multiline) {
    // Fast path: printable ASCII (and, when multiline, line breaks and tabs).
    bool plain = true;
    for (const char ch : text) {
        const auto c = static_cast<unsigned char>(ch);
        if (c >= 0x80 || c == 0x7F || (c < 0x20 && !(multiline && (c == '\n' || c == '\t')))) {
            plain = false;
            break;
        }
    }
    if (plain) return text;
    std::string out;
    out.reserve(text.size() + 16);
    for (const char32_t c : QString::fromUtf8(text.data(), static_cast<qsizetype>(text.size())).toUcs4()) {
        if (multiline && (c == '\n' || c == '\t')) {
            out += static_cast<char>(c);
        } else if (isControl(c)) {
            char code[16];
            std::snprintf(code, sizeof code, c < 0x100 ? "\\x%02X" : "\\u%04X", static_cast<unsigned>(c));
            out += code;
        } else {
            out += QString::fromUcs4(&c, 1).toStdString();
        }
    }
    return out;
}

}  // namespace preflab
