#pragma once
// Where the offline methods and the reward model get their pairs: every
// stored preference ("db"), one run's ("db:RUN"), a TRL JSON Lines file
// (read, not imported), or for KTO the stored unpaired labels ("unpaired": a
// desirable and an undesirable example side by side, the shorter list
// repeating). Throws std::runtime_error naming the source and what
// is wrong (no pairs, a bad line).
#include "core/values/loop_types.h"
#include "storage/database.h"

#include <string>
#include <vector>

namespace preflab {

// `labelPolicy` (consensus | latest) picks the label in force of a stored pair.
std::vector<OfflinePair> loadOfflinePairs(const std::string& source, Database& db,
                                          const std::string& labelPolicy = "consensus");

// The CPO family's stored ratings ("db" or "db:RUN"), each with the sampling
// log-probability stored when its response was generated. Throws when there
// are none, naming the database and how many lacked a log-probability.
std::vector<RatedResponse> loadRatedResponses(const std::string& source, Database& db);

}  // namespace preflab
