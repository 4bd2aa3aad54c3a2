#pragma once
// `preflab-bench --soak MINUTES`: runs the real online loop (`preflab run`, a
// child process) for that long and samples, at a fixed interval, the child's
// resident memory, the database's size and the steps' times (from the
// database the run writes). Reports each series' least-squares slope after a
// warm-up, so "memory does not grow" and "steps do not slow down" are figures.
#include <string>
#include <vector>

namespace preflab::bench {

struct SoakOptions {
    double minutes = 120;
    double intervalSeconds = 30;
    double warmupMinutes = 10;  // left out of the slopes (capped at a quarter of the soak)
    std::string preflab;        // the `preflab` executable
    std::string folder;         // database and checkpoints; a temporary folder when empty
    std::string dataDir;        // where the starter model is cached; the user's data folder when empty
    std::vector<std::string> runArgs;  // more `preflab run` options (fixed settings: defaults when none)
    bool json = false;
};

// One straight line through (x, y) by least squares: y = intercept + slope x.
struct LineFit {
    double slope = 0, intercept = 0, slopeStdError = 0;
    int points = 0;
};
LineFit fitLine(const std::vector<double>& x, const std::vector<double>& y);

// Runs the soak; prints a line per sample, then the slopes. Returns the exit code.
int runSoak(const SoakOptions& options);

}  // namespace preflab::bench
