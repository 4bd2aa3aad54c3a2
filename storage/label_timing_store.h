#pragma once
// The labels the quality signals read (core/values/label_timing.h): each
// annotator's latest label of each pair, the same labels agreement counts
// (a person's or an imported label with an annotator name), with the seconds
// it took and the side shown first where stored, and a gold pair's answer
// (gold pairs count for every run's project they are mixed into). An export
// and an import of the labels give the same signals, gold aside: gold pairs'
// labels are not exported. Uses the caller's connection.
#include "core/values/label_timing.h"
#include "storage/database.h"

#include <optional>
#include <vector>

namespace preflab {

// Of one run's pairs, or of every pair; by pair, then annotator.
std::vector<TimedLabel> annotatorLabelTimings(Database& db, std::optional<int64_t> runId);

}  // namespace preflab
