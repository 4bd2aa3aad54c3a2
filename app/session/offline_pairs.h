#pragma once
// Where the offline methods and the reward model get their pairs: every
// stored preference ("db"), one run's ("db:RUN"), or a TRL JSON Lines file
// (read, not imported). Throws std::runtime_error naming the source and what
// is wrong (no pairs, a bad line).
#include "core/loop/loop_types.h"
#include "storage/database.h"

#include <string>
#include <vector>

namespace preflab {

std::vector<OfflinePair> loadOfflinePairs(const std::string& source, Database& db);

}  // namespace preflab
