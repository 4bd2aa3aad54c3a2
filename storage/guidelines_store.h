#pragma once
// Labeling guidelines (issue 31): the Markdown text annotators read before
// and while labeling, for one run's pairs or for every stored pair (a
// labeling project). Append-only: the latest text in force, earlier ones kept,
// so a label can be read against the guidelines of its time. Uses the
// caller's connection.
#include "storage/database.h"
#include "storage/records.h"

#include <cstdint>
#include <optional>
#include <string>

namespace preflab {

class GuidelinesStore {
public:
    explicit GuidelinesStore(Database& db) : m_db(db) {}
    int64_t insert(const GuidelinesRow& row);
    // The guidelines in force for run `runId`'s pairs: its own latest, else the
    // latest for every pair; for no run, the latest for every pair. None when
    // none were set (or the latest is empty: guidelines taken away).
    std::optional<GuidelinesRow> current(std::optional<int64_t> runId);

private:
    Database& m_db;
};

}  // namespace preflab
