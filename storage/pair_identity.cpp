#include "storage/pair_identity.h"

#include <QCryptographicHash>

#include <algorithm>

namespace preflab {

int64_t pairTextKey(const std::string& prompt, const std::string& promptMessagesJson, const std::string& a,
                    const std::string& b) {
    // Each text with its length in front, so that no two different tuples of
    // texts hash the same bytes (a separator character could occur inside a
    // text: "p\x1fq" + "r" and "p" + "q\x1fr" were one pair before v7).
    QCryptographicHash h(QCryptographicHash::Sha256);
    auto add = [&h](const std::string& text) {
        const uint64_t n = text.size();
        char length[8];
        for (int i = 0; i < 8; ++i) length[i] = static_cast<char>((n >> (8 * i)) & 0xFF);
        h.addData(QByteArrayView(length, 8));
        h.addData(QByteArrayView(text.data(), static_cast<qsizetype>(text.size())));
    };
    add(prompt);
    add(promptMessagesJson);
    add(std::min(a, b));
    add(std::max(a, b));
    const QByteArray digest = h.result();
    uint64_t key = 0;
    for (int i = 0; i < 8; ++i) key = (key << 8) | static_cast<unsigned char>(digest[i]);
    return static_cast<int64_t>(key);
}

}  // namespace preflab
