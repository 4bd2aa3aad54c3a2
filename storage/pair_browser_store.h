#pragma once
// Pairs with their latest label, filtered and paged for the data browser.
// Keyset paging (id > afterId) keeps every page equally fast, so 100 k rows
// scroll as smoothly as 100. Uses the caller's connection (one per thread).
#include "storage/database.h"

#include <optional>
#include <string>
#include <vector>

namespace preflab {

struct PairFilter {
    std::optional<int64_t> runId;
    std::string labelSource;  // "" any, "none" unlabeled, or a source name ("human", "task", ...)
    std::string choice;       // "" any, or a choice name ("a", "b", "tie", "both_bad", "skip")
    std::optional<int64_t> trainedStep;  // pairs used by this gradient step
};

struct PairListRow {
    int64_t pairId = 0;
    std::optional<int64_t> runId, runIndex, generatedStep, trainedStep;
    std::string prompt, responseA, responseB;
    std::optional<double> goldA, goldB;
    std::string choice, source, annotator;  // empty when unlabeled
    int64_t labelCount = 0;
};

class PairBrowserStore {
public:
    explicit PairBrowserStore(Database& db) : m_db(db) {}
    std::vector<PairListRow> page(const PairFilter& filter, int64_t afterPairId, int64_t limit);
    int64_t count(const PairFilter& filter);
    std::optional<PairListRow> find(int64_t pairId);

private:
    Database& m_db;
};

}  // namespace preflab
