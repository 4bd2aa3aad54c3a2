#pragma once
// `preflab run --nproc N`: starts N local processes of this program, ranks 0
// to N-1 of one data-parallel run on a free loopback port, and watches them.
// Rank 0 keeps the terminal (progress, summary); the others print only their
// errors. A rank that ends with an error is named, and the others are given
// the run's timeout to stop on their own before they are ended.
#include "core/distributed/rank_options.h"

#include <QStringList>

namespace preflab {

// `runArgs`: the arguments after `run`, without --nproc. Returns the exit code.
int launchRanks(int nproc, const QStringList& runArgs, const RankOptions& options, bool threadsSet);

}  // namespace preflab
