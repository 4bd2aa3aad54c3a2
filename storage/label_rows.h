#pragma once
// The one place a label becomes a row: a run's judge or person labelling a
// pair of that run (by its index in the run), a person or reviewer
// labelling a stored pair (by its database id), or a person's thumbs up or
// down on one stored response. The choice and the source are
// stored by their names in core/values/label.h. Plain values; any thread.
#include "core/values/label.h"
#include "storage/storage_writer.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace preflab {

// Which pair a label belongs to. A run's pair index (runIndex) and a stored
// pair's database id (pairId) are two names: a row carries one of them.
struct LabelTarget {
    std::optional<int64_t> pairId;
    std::optional<int64_t> runId, runIndex;

    static LabelTarget storedPair(int64_t pairId) { return {pairId, std::nullopt, std::nullopt}; }
    static LabelTarget runPair(int64_t runId, int64_t runIndex) { return {std::nullopt, runId, runIndex}; }
};

// `seconds` and `shownFirst` (A or B) are a person's (Judgement's); a
// shown side other than A or B is stored as unknown. A person's or a
// reviewer's label gets a new idempotency key (records.h): each call is one
// label given.
LabelRow labelRow(const LabelTarget& target, Choice choice, LabelSource source, std::string annotator, int64_t timeMs,
                  std::optional<double> seconds = std::nullopt, std::optional<Choice> shownFirst = std::nullopt);
// Takes back a person's label given at `timeMs` (an undo), with its ratings.
LabelRetraction labelRetraction(const LabelTarget& target, std::string annotator, int64_t timeMs);

// A person's thumbs up (desirable) or down on one stored response (the
// thumbs mode; KTO's unpaired labels), and its undo.
ResponseLabelRow responseLabelRow(int64_t responseId, bool desirable, std::string annotator, int64_t timeMs,
                                  std::optional<double> seconds = std::nullopt);
ResponseLabelRetraction responseLabelRetraction(int64_t responseId, std::string annotator, int64_t timeMs);

// A person's edit of side `side` (the pair's own A or B) of the target pair,
// preferred to the original (records.h); gets a new idempotency key.
PreferredEditRow preferredEditRow(const LabelTarget& target, Choice side, std::string text, std::string annotator,
                                  int64_t timeMs, std::optional<double> seconds = std::nullopt);

// A judgement of run `runId`'s pair as rows: its label, then its ratings of
// A and B where given (a person's rating mode).
std::vector<WriteOp> judgementRows(int64_t runId, const Judgement& j);

}  // namespace preflab
