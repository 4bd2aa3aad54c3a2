#pragma once
// Gold pairs (issue 31): stored pairs whose answer a lead knows. They are
// mixed unannounced into each annotator's queue at the gold share (the
// latest one set; 0 when none), are never trained on nor exported as
// training data or as labels, and score each annotator (accuracy on gold,
// core/values/label_timing.h). Which positions of an annotator's queue hold a
// gold pair is fixed by a hash of the name and the position, so the mix does
// not depend on when the queue is read. Uses the caller's connection.
#include "storage/database.h"
#include "storage/records.h"

#include <cstdint>
#include <string>
#include <vector>

namespace preflab {

// The largest gold share a lead may set: beyond it the gold pairs would be
// most of the work, and they train nothing.
constexpr double kMaxGoldShare = 0.5;

// A WHERE condition true for pairs (the table named `pairs`) that are not gold.
inline constexpr const char* kNotGoldPair = "NOT EXISTS(SELECT 1 FROM gold_pairs gp WHERE gp.pair_id = pairs.id)";

// Whether position `position` (0 = the annotator's first item ever) of this
// annotator's queue is a gold pair's, at gold share `share`: a uniform draw
// from a hash of both, so about `share` of positions are.
bool goldSlot(const std::string& annotator, int64_t position, double share);

class GoldPairStore {
public:
    explicit GoldPairStore(Database& db) : m_db(db) {}
    // Marks a stored pair gold with its answer (a newer mark replaces the
    // answer). Throws StorageError naming the pair when it does not exist or
    // the answer is not a, b, tie or both_bad.
    void mark(const GoldPairRow& row);
    bool unmark(int64_t pairId);  // whether the pair was gold
    // The share of each annotator's queue given to gold pairs; throws outside [0, kMaxGoldShare].
    void setShare(double share, const std::string& author, int64_t createdMs);
    double share();  // the latest set, 0 when none
    std::vector<GoldPairRow> all();  // by pair id

private:
    Database& m_db;
};

}  // namespace preflab
