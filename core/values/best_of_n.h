#pragma once
// Best-of-n sampling, computed exactly over an empirical distribution: for
// one prompt, m samples from the reference with their proxy score (the
// reward model's: what best-of-n maximises) and their gold (the task's true
// reward). Best-of-n draws n samples from that distribution and keeps the one
// the proxy scores highest, a tie broken uniformly at random. Then, with the
// distinct proxy values r_1 < ... < r_L of probabilities p_l (cumulative F_l),
// the kept sample's proxy value is r_l with probability
// q_l = F_l^n - F_{l-1}^n, and given r_l it is uniform over the samples at
// r_l: so the expected gold and proxy, and the KL of the best-of-n policy to
// the reference, KL = sum_l q_l log(q_l / p_l), are exact for this
// distribution. Without ties and as m grows, KL tends to log n - (n-1)/n
// (Stiennon et al. 2020; Gao et al. 2022); with ties that formula is only an
// upper bound, which is why the lessons compute it from the distribution.
// Plain C++.
#include <cstdint>
#include <vector>

namespace preflab {

struct BestOfNPoint {
    int64_t n = 1;
    double gold = 0;    // expected gold of the kept sample
    double proxy = 0;   // expected proxy score of the kept sample
    double kl = 0;      // KL(best-of-n || reference), from the distribution
    bool ties = false;  // some proxy values tie (then log n - (n-1)/n overstates the KL)
};

// Best-of-n over several prompts' samples: the points' means over the
// prompts, one per n (a lesson's best-of-n run).
struct BestOfNTable {
    int64_t prompts = 0, samplesPerPrompt = 0;
    std::vector<BestOfNPoint> rows;
    int64_t tiedPrompts = 0;  // prompts whose proxy rewards tie among their samples (at the largest n)
    double seconds = 0;
};

// One prompt's samples (proxy and gold of equal length, at least one).
BestOfNPoint bestOfN(const std::vector<double>& proxy, const std::vector<double>& gold, int64_t n);
// The analytic KL without ties: log n - (n - 1) / n.
double bestOfNKlWithoutTies(int64_t n);

}  // namespace preflab
