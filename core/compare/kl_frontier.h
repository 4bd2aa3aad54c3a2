#pragma once
// Comparing methods at matched KL (algorithms.md §5c): each run is a
// trajectory of evaluations (exact KL to the reference, gold reward); a
// method's frontier at KL = k is the best gold any of its KL-knob settings
// reached when its trajectory crossed k, per seed; methods are compared by the
// mean over seeds of the paired differences, with a t interval. Plain C++,
// no torch: preflab-compare uses it and tests check it by hand.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace preflab {

struct TrajectoryPoint {
    int64_t step = 0;
    double kl = 0;    // exact KL(policy || reference), nats per response
    double gold = 0;  // mean true reward of fresh samples
};

struct CompareRun {
    std::string method;
    double knob = 0;  // beta, PPO's KL coefficient, or the learning rate
    int64_t seed = 0;
    std::vector<TrajectoryPoint> trajectory;  // in step order, from step 0
};

// Gold at the first point where the trajectory's KL reaches `kl`, linear
// between the two evaluations around it; NaN when it never does.
double goldAtKl(const std::vector<TrajectoryPoint>& trajectory, double kl);

// The largest KL the trajectory reached.
double maxKl(const std::vector<TrajectoryPoint>& trajectory);

// Mean and half-width of the 95 % interval of the mean (Student t; 0 for one value).
struct Estimate {
    double mean = 0;
    double halfWidth = 0;
    int n = 0;
    double low() const { return mean - halfWidth; }
    double high() const { return mean + halfWidth; }
};
Estimate estimate(const std::vector<double>& values);

// One term of a paired contrast: weight x a method's frontier at KL = kl.
struct FrontierTerm {
    std::string method;
    double weight = 1;
    double kl = 0;
};

class KlFrontier {
public:
    explicit KlFrontier(std::vector<CompareRun> runs) : m_runs(std::move(runs)) {}

    std::vector<std::string> methods() const;
    std::vector<int64_t> seeds(const std::string& method) const;
    // Best gold over the method's knob settings at KL = kl, for one seed (NaN if none reached it).
    double frontier(const std::string& method, int64_t seed, double kl) const;
    // Over seeds; n = 0 unless every seed reached kl.
    Estimate frontier(const std::string& method, double kl) const;
    // Paired by seed: frontier(a) - frontier(b) over the seeds both have; n = 0 unless all reached kl.
    Estimate difference(const std::string& a, const std::string& b, double kl) const;
    // The largest KL every seed of every listed method reached (so all can be compared there).
    double sharedKl(const std::vector<std::string>& methods) const;
    // Paired by seed: sum of weight x frontier(method, seed, kl) over the
    // seeds every term's method has; n = 0 unless each reached its kl. For
    // example a change along one frontier, g(6) - g(2), which (unlike a
    // run's best minus its last gold) can come out either side of 0, or a
    // difference of two differences.
    Estimate contrast(const std::vector<FrontierTerm>& terms) const;

private:
    std::vector<CompareRun> m_runs;
};

}  // namespace preflab
