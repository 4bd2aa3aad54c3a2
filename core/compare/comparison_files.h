#pragma once
// Reading back what preflab-compare wrote into its folder, for the app's
// frontier view: compare.csv (one row per evaluation of every run: method,
// knob, seed, step, exact KL, gold, run seconds) as runs, and orderings.json
// as claims. No torch; QtCore for JSON. Throws std::runtime_error naming the
// file (and line) and what is wrong.
#include "core/compare/kl_frontier.h"
#include "core/compare/preference_claims.h"

#include <string>
#include <vector>

namespace preflab {

struct ComparisonResults {
    std::string folder;
    std::vector<CompareRun> runs;  // one per (method, knob, seed), trajectory in file order
    std::vector<Claim> claims;     // empty when the folder has no orderings.json
};

ComparisonResults readComparisonFolder(const std::string& folder);

// One CSV line split into fields ("..." quotes a field that holds commas; "" is a quote).
std::vector<std::string> splitCsvLine(const std::string& line);

}  // namespace preflab
