#include "app/cli/rank_follower.h"

#include "app/session/offline_pairs.h"
#include "core/judges/make_judge.h"
#include "core/loop/online_loop.h"

#include <QByteArray>
#include <QList>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <unistd.h>

namespace preflab {

namespace {

// A fault for tests/tst_data_parallel, which checks how the other ranks
// react: PREFLAB_TEST_FAULT="RANK:STEP:exit" ends rank RANK abruptly (exit
// code 9, no clean-up) before it trains step STEP; "RANK:STEP:hang" stops it
// there for good.
void injectedFault(int rank, int64_t nextStep) {
    const QList<QByteArray> f = qgetenv("PREFLAB_TEST_FAULT").split(':');
    if (f.size() != 3 || f[0].toInt() != rank || f[1].toLongLong() != nextStep) return;
    if (f[2] == "exit") _exit(9);
    if (f[2] == "hang") {
        for (;;) pause();
    }
}

}  // namespace

int runFollowerRank(const SessionSetup& setup) {
    // Stopping is rank 0's decision (it goes out with the gradients).
    std::signal(SIGINT, SIG_IGN);
    const int rank = setup.ranks.rank;
    try {
        LoopSetup loopSetup;
        loopSetup.config = setup.config;
        loopSetup.modelPath = setup.modelPath;
        loopSetup.ranks = setup.ranks;
        if (!setup.config.pairs.empty() || !setup.config.ratings.empty()) {
            auto db = Database::open(setup.databasePath);
            if (!setup.config.pairs.empty()) loopSetup.offlinePairs = loadOfflinePairs(setup.config.pairs, *db, setup.config.labelPolicy);
            if (!setup.config.ratings.empty()) loopSetup.ratedResponses = loadRatedResponses(setup.config.ratings, *db);
        }
        OnlineLoop loop(loopSetup, makeJudge(setup.config, nullptr), nullptr);
        const std::atomic_bool never{false};
        for (;;) {
            injectedFault(rank, loop.currentStep() + 1);
            switch (loop.step(never)) {
            case StepOutcome::Trained: continue;
            case StepOutcome::Finished:
            case StepOutcome::Cancelled: return 0;
            case StepOutcome::Halted:
                // Every rank halted together; rank 0 reports it and keeps the checkpoint.
                std::fprintf(stderr, "preflab rank %d: %s\n", rank, loop.lastError().c_str());
                return 0;
            case StepOutcome::WaitingForLabels:
                std::fprintf(stderr, "preflab rank %d: this rank's judge waits for a person\n", rank);
                return 1;
            }
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "preflab rank %d: %s\n", rank, e.what());
        return 1;
    }
}

}  // namespace preflab
