#pragma once
// Row types of the PrefLab database. Plain values: they cross threads to the
// storage writer and come back from queries. Choices and sources are the
// stable strings of the schema, as core/values/label.h names them
// (storage/label_rows.h builds label rows from those enums).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace preflab {

struct RunRow {
    int64_t id = 0;
    std::string name;
    int64_t createdMs = 0;
    std::string configJson;
    int64_t seed = 0;
    std::string codeVersion;
    std::string model;
    std::string status = "created";
    int64_t lastStep = 0;
    std::string message;
};

struct ResponseRow {
    std::string text;
    std::optional<int64_t> tokenCount;
    std::optional<int64_t> endedWithEos;
    std::optional<int64_t> step;
    std::optional<double> logprob, samplingLogprob, refLogprob, goldReward;
};

struct PairRow {
    std::optional<int64_t> runId;
    std::optional<int64_t> runIndex;
    std::string prompt;
    ResponseRow a, b;
    std::string source = "generated";  // generated | import
    int64_t createdMs = 0;
    // An imported conversation: the prompt's messages (a JSON list; `prompt`
    // holds them as plain text) and the row as it was read, for export.
    std::string promptMessagesJson;
    std::string sourceRow;
};

// A label for the pair (runId, runIndex), or for pairId when given.
struct LabelRow {
    std::optional<int64_t> pairId;
    std::optional<int64_t> runId;
    std::optional<int64_t> runIndex;
    std::string choice;
    std::string source;
    std::string annotator;
    int64_t createdMs = 0;
    // A person's label: the seconds taken and the side shown first ("a" or
    // "b"); unknown (a judge's label, an older row) when empty.
    std::optional<double> seconds;
    std::string shownFirst;
    // Unique per label given (a person's; empty: none): a retried write of
    // this row stores nothing the second time (schema v10).
    std::string idempotencyKey;
};

// A numeric rating of one response of a pair (side "a" or "b"), e.g. a
// person's 1-7 score; the outcome-based methods (CPO) train on these.
struct RatingRow {
    std::optional<int64_t> pairId;
    std::optional<int64_t> runId;
    std::optional<int64_t> runIndex;
    std::string side;  // "a" | "b"
    double value = 0;
    std::string source;
    std::string annotator;
    int64_t createdMs = 0;
};

// An unpaired label: thumbs up (desirable) or down on one stored response
// (KTO's data; TRL's unpaired format {prompt, completion, label}).
struct ResponseLabelRow {
    int64_t responseId = 0;
    bool desirable = true;
    std::string source;
    std::string annotator;
    int64_t createdMs = 0;
    std::optional<double> seconds;  // the seconds the person took, where known
    std::string idempotencyKey;     // as LabelRow's
};

// Labeling guidelines (Markdown) for one run's pairs or, with no run, for
// every stored pair; the latest is in force (storage/guidelines_store.h).
struct GuidelinesRow {
    std::optional<int64_t> runId;
    std::string text;
    std::string author;
    int64_t createdMs = 0;
};

// An annotator's edit of one response of a pair, preferred to the original
// (a correction, as TRL's and Argilla's workflows keep one): stored as a new
// response naming the one it was made from, a pair (edited, original) of
// source 'edit' in the original pair's run, and the editor's label 'a' on it.
struct PreferredEditRow {
    std::optional<int64_t> pairId;           // a stored pair, or
    std::optional<int64_t> runId, runIndex;  // a run's pair by its index in the run
    std::string side;                        // the pair's own side edited: "a" | "b"
    std::string text;                        // the edited response
    std::string annotator;
    int64_t createdMs = 0;
    std::optional<double> seconds;  // from the pair appearing to the edit saved
    std::string idempotencyKey;     // as LabelRow's: a retried write stores nothing twice
};

// A gold pair (storage/gold_pair_store.h): its known answer in the pair's own
// a/b, set by a lead.
struct GoldPairRow {
    int64_t pairId = 0;
    std::string answer;  // a | b | tie | both_bad
    std::string author;
    int64_t createdMs = 0;
};

// A stored pair's reference log-probabilities of responses a and b (schema
// v13), computed by a run under the reference `fingerprint` names, for the
// token ids `tokensKey` names. Replaces the pair's earlier row; nothing is
// stored when the pair is gone.
struct RefLogprobRow {
    int64_t pairId = 0;
    std::string fingerprint;
    int64_t tokensKey = 0;
    double refA = 0, refB = 0;
    int64_t createdMs = 0;
};

// Takes back a person's label that the run had not used yet (an undo): the
// label row written when it was given, and its ratings, are deleted. The
// label is named by its pair, annotator and time, as it was written.
struct LabelRetraction {
    std::optional<int64_t> pairId;           // a stored pair, or
    std::optional<int64_t> runId, runIndex;  // a run's pair by its index in the run
    std::string annotator;
    int64_t createdMs = 0;
};

// Takes back a person's unpaired label given at `createdMs` (an undo in the
// thumbs mode).
struct ResponseLabelRetraction {
    int64_t responseId = 0;
    std::string annotator;
    int64_t createdMs = 0;
};

// A checkpoint no longer kept: its row goes (the recorder deletes its files
// once this is on disk, so no row ever names a missing file).
struct CheckpointPrune {
    int64_t runId = 0;
    int64_t step = 0;
};

struct TrainedMark {
    int64_t runId = 0;
    int64_t step = 0;
    std::vector<int64_t> runIndices;
};

struct MetricRow {
    int64_t runId = 0;
    int64_t step = 0;
    std::string name;
    double value = 0;
    int64_t createdMs = 0;
};

struct CheckpointRow {
    int64_t runId = 0;
    int64_t step = 0;
    std::string path;
    std::string metricsJson = "{}";
    int64_t createdMs = 0;
};

// A warning the run's metrics raised (RunWarningMonitor), kept with the run.
struct RunEventRow {
    int64_t runId = 0;
    int64_t step = 0;
    std::string kind;
    std::string message;
    std::string advice;
    int64_t createdMs = 0;
};

// The policy's response to a fixed display prompt at an evaluation step.
struct EvalSampleRow {
    int64_t runId = 0;
    int64_t step = 0;
    int64_t promptIndex = 0;
    std::string prompt;
    std::string text;
    double goldReward = 0;
};

struct RunStatusUpdate {
    int64_t runId = 0;
    std::string status;
    int64_t lastStep = 0;
    std::string message;
};

}  // namespace preflab
