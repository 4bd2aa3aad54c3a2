#pragma once
// Pairs with their latest label, filtered and paged for the data browser.
// Keyset paging (id > afterId) keeps every page equally fast, so 100 k rows
// scroll as smoothly as 100. Uses the caller's connection (one per thread).
#include "storage/database.h"
#include "storage/read_models.h"

#include <optional>
#include <string>
#include <vector>

namespace preflab {

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
