#pragma once
// Before any work, the ranks of a data-parallel run agree on what they run.
// Rank 0 publishes its configuration, digests of its model and its training
// data, and its resume point; every other rank compares its own and takes
// rank 0's resume point (the checkpoint path and the next pair index, which
// only rank 0's database knows). A difference stops every rank with an error
// naming the rank and the first setting that differs. Core-private.
#include "core/distributed/rank_group.h"
#include "core/loop/online_loop.h"

namespace preflab {

void agreeOnSetup(RankGroup& group, LoopSetup& setup);

// A digest of a model file (size and the hash of its first and last MiB) or
// of a Hugging Face folder (its files' names and sizes and config.json).
std::string modelDigest(const std::string& path);

}  // namespace preflab
