#pragma once
// Where this process stands in a data-parallel run: its rank, how many
// processes train together and where they meet (rank 0 hosts the rendezvous
// store). The CLI fills it from --rank/--world-size/--master-addr/
// --master-port/--dist-timeout, or from --nproc's launcher. Plain C++.
#include "core/values/run_config.h"

#include <string>

namespace preflab {

struct RankOptions {
    int rank = 0;
    int worldSize = 1;  // 1: one process, no communication at all
    std::string masterAddr = "127.0.0.1";
    int masterPort = 29500;
    // How long a rank waits for the others (rendezvous, each gradient
    // exchange, rank 0's evaluation) before it stops with an error naming
    // the rank it waited for.
    int timeoutSeconds = 300;

    bool distributed() const { return worldSize > 1; }
    bool leader() const { return rank == 0; }
};

// Why `config` cannot train on several processes yet, or "" when it can:
// data-parallel training covers the pairwise family (the DPO family and
// SAIL) with a programmatic judge; a person labels on one process, and PPO's
// and the CPO family's side models are fitted per process.
std::string dataParallelProblem(const RunConfig& config, int worldSize);

// A TCP port on the loopback interface that nothing listens on now (0 if
// none could be found): --nproc's rendezvous port, and the tests'.
int freeLoopbackPort();

}  // namespace preflab
