#include "storage/gold_pair_store.h"

#include "storage/preference_store.h"

#include <QByteArray>

namespace preflab {

bool goldSlot(const std::string& annotator, int64_t position, double share) {
    if (!(share > 0)) return false;
    // FNV-1a over the name and the position (as LabelingProject::swappedFor:
    // std::hash differs between builds), its top 32 bits a uniform draw.
    uint64_t h = 1469598103934665603ull;
    auto mix = [&](unsigned char c) { h = (h ^ c) * 1099511628211ull; };
    for (char c : annotator) mix(static_cast<unsigned char>(c));
    mix(0xff);  // the name ends
    for (int i = 0; i < 8; ++i) mix(static_cast<unsigned char>(static_cast<uint64_t>(position) >> (8 * i)));
    // FNV's low bits mix poorly into the high ones over a short input: one
    // round of a 64-bit finaliser (MurmurHash3's fmix64) spreads them.
    h ^= h >> 33, h *= 0xff51afd7ed558ccdull, h ^= h >> 33, h *= 0xc4ceb9fe1a85ec53ull, h ^= h >> 33;
    return static_cast<double>(h >> 32) / 4294967296.0 < share;
}

void GoldPairStore::mark(const GoldPairRow& row) {
    auto& c = m_db.connection();
    if (row.answer != "a" && row.answer != "b" && row.answer != "tie" && row.answer != "both_bad")
        throw StorageError(c.path() + ": a gold pair's answer is a, b, tie or both_bad, not '" + row.answer + "'");
    SqlStatement exists(c, "SELECT source FROM pairs WHERE id = ?");
    exists.bind(1, row.pairId);
    if (!exists.step()) throw StorageError(c.path() + ": no pair " + std::to_string(row.pairId) + " to make gold");
    if (exists.text(0) == "edit")
        throw StorageError(c.path() + ": pair " + std::to_string(row.pairId) +
                           " is an annotator's correction (an edited response), not a pair to test annotators on");
    SqlStatement s(c, "INSERT INTO gold_pairs(pair_id, answer, author, created_ms) VALUES(?,?,?,?) "
                      "ON CONFLICT(pair_id) DO UPDATE SET answer = excluded.answer, author = excluded.author, "
                      "created_ms = excluded.created_ms");
    s.bind(1, row.pairId).bind(2, row.answer).bind(3, storedPersonName(row.author, "author", false, c.path())).bind(4, row.createdMs);
    s.run();
}

bool GoldPairStore::unmark(int64_t pairId) {
    SqlStatement s(m_db.connection(), "DELETE FROM gold_pairs WHERE pair_id = ?");
    s.bind(1, pairId);
    s.run();
    return m_db.connection().changes() > 0;
}

void GoldPairStore::setShare(double share, const std::string& author, int64_t createdMs) {
    auto& c = m_db.connection();
    if (!(share >= 0 && share <= kMaxGoldShare))
        throw StorageError(c.path() + ": the gold share is a fraction from 0 to " + QByteArray::number(kMaxGoldShare).toStdString() +
                           ", not " + QByteArray::number(share).toStdString());
    SqlStatement s(c, "INSERT INTO gold_shares(share, author, created_ms) VALUES(?,?,?)");
    s.bind(1, share).bind(2, storedPersonName(author, "author", false, c.path())).bind(3, createdMs);
    s.run();
}

double GoldPairStore::share() {
    SqlStatement s(m_db.connection(), "SELECT share FROM gold_shares ORDER BY id DESC LIMIT 1");
    return s.step() ? s.real(0) : 0.0;
}

std::vector<GoldPairRow> GoldPairStore::all() {
    SqlStatement s(m_db.connection(), "SELECT pair_id, answer, author, created_ms FROM gold_pairs ORDER BY pair_id");
    std::vector<GoldPairRow> out;
    while (s.step()) out.push_back({s.int64(0), s.text(1), s.text(2), s.int64(3)});
    return out;
}

}  // namespace preflab
