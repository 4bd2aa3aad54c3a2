#pragma once
// A rank other than 0 of a data-parallel run: it trains its share of every
// step and sends its pairs and metrics to rank 0, which alone stores them,
// writes checkpoints and reports. It opens the database only to read what
// it trains on (--pairs db) or a resumed run's settings. Returns the exit code.
#include "app/session/session_types.h"

namespace preflab {

int runFollowerRank(const SessionSetup& setup);

}  // namespace preflab
