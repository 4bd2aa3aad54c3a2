#pragma once
// preflab-bench --offline-dpo: offline DPO over stored pairs shaped like
// HH-RLHF (a 120-byte prompt, 46-byte responses: about 122 + 47 tokens with
// the byte tokenizer) on the 10.8 M model (context 192), two epochs, timed
// as before issue 33 (each response packed with its own prompt, the reference
// log-probabilities recomputed at every draw), with the prompt shared, and
// with the reference log-probabilities cached as well: within the run
// (computed in the first epoch, reused in the second) and from an earlier run
// (as the database hands them back). The losses are compared and printed: the
// speed-up must not change them (exit status 1 if it did).
#include <vector>

namespace preflab::bench {

struct OfflineDpoOptions {
    int repetitions = 3;
    int pairs = 32;      // batch 8: four steps per epoch
    bool json = false;
};

int runOfflineDpoBench(const OfflineDpoOptions& options);

// The same workload with PrefLab's defaults (prompt shared, reference
// log-probs cached in the first epoch), for preflab-bench --peer's
// hh_offline_dpo_ratio: the seconds of each repetition's two epochs, and the
// first step's loss (ln 2: the policy starts as the reference).
struct HhOfflineDpoTiming {
    std::vector<double> seconds;
    double firstLoss = 0;
};
HhOfflineDpoTiming hhOfflineDpoSeconds(int repetitions, int pairs = 32);

}  // namespace preflab::bench
