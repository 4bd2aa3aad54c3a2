#pragma once
// Prompts, responses, pairs, labels and ratings. Each call is one statement
// group on the caller's connection; callers wrap batches in a Transaction.
#include "storage/database.h"
#include "storage/read_models.h"
#include "storage/records.h"

#include <functional>
#include <map>
#include <utility>
#include <vector>

namespace preflab {

// Which label of a pair training and export take (the run's label_policy).
// Either way a reviewer's final label (source 'adjudicated') stands first.
enum class LabelPolicy {
    // Else the majority of the people's latest labels (each annotator votes
    // once, with their latest label; a person's label without a name counts
    // as one voter; skips do not vote). Where no person labelled, the judges
    // vote the same way, with an import's unnamed summary label. A pair
    // without a single most-voted label, or whose most-voted label is tie or
    // both bad, is left out.
    Consensus,
    // Else the latest label, whoever gave it.
    Latest,
};
// "consensus" or "latest"; throws std::invalid_argument naming the choices.
LabelPolicy labelPolicyFromName(const std::string& name);

struct LabeledPair {  // a pair with the label in force (LabelPolicy), for training and export
    std::string prompt, responseA, responseB, choice, source;
    std::string promptMessagesJson, sourceRow;  // an imported conversation's (PairRow), else empty
    int64_t pairId = 0;
};

// A pair's stored reference log-probabilities (RefLogprobRow) as read: a
// value that is not a number (a damaged row) reads as NaN, for the loop to
// refuse and recompute.
struct StoredRefLogprobs {
    std::string fingerprint;
    int64_t tokensKey = 0;
    double refA = 0, refB = 0;
};

struct StoredRating {  // a rated response with its sampling log-probability, for CPO
    std::string prompt, response;
    bool endedWithEos = true;
    double value = 0;
    double samplingLogprob = 0;
};

struct ExportedLabel {  // one label of a pair, as a label file's row
    std::string prompt, responseA, responseB, annotator, choice;
    std::optional<double> seconds;  // a person's time, where stored
    std::string shownFirst;         // "a", "b", or "" when unknown
};

struct ExportedRating {  // a response's latest rating, as a ratings file's row
    std::string prompt, response;
    double value = 0;
    std::optional<double> samplingLogprob;
};

// The single most-voted choice among `choices` (each voter's one label;
// skips do not vote), or "" when no choice has more votes than every other:
// the rule of LabelPolicy::Consensus, and of a label file read for training.
std::string consensusChoice(const std::vector<std::string>& choices);

// Where an import's pair landed (findOrInsertImportedPair).
struct ImportedPair {
    int64_t id = 0;
    bool created = false;  // stored now, not found
    bool swapped = false;  // found with A and B the other way round: the row's a is the stored b
};

// A name as stored (core/values/person_names.h); throws StorageError naming
// `where` when it is refused.
std::string storedPersonName(const std::string& raw, const char* what, bool required, const std::string& where);

class PreferenceStore {
public:
    explicit PreferenceStore(Database& db) : m_db(db) {}
    int64_t insertPair(const PairRow& pair);  // returns the pair id
    // An imported pair is the stored pair outside any run with the same
    // texts (pair_identity.h: prompt, its messages, and the two responses
    // in either order, compared exactly), else a new one.
    ImportedPair findOrInsertImportedPair(const PairRow& pair);
    // Labels and ratings are append-only; these skip a row the database
    // already holds in force: the same source and annotator's latest label
    // of the pair (rating of the response) equal to this one. Return whether
    // a row was added. Annotator names are normalised (core/values/person_names.h); a bad one
    // throws StorageError.
    bool insertLabelIfChanged(const LabelRow& label);
    bool insertRatingIfChanged(const RatingRow& rating);
    struct RatedResponse {
        bool responseCreated = false;
        bool ratingAdded = false;
        std::string conflict;  // why nothing was stored (a differing log-probability), else empty
    };
    // A rated response outside any run is one response per prompt and text:
    // a second rating of it (a corrected file) is a newer rating of the same
    // response. A sampling log-probability fills one the response lacks; one
    // that differs from the stored one is a conflict: nothing is stored.
    RatedResponse insertRatedResponseIfChanged(const std::string& prompt, const ResponseRow& response, double value,
                                               const std::string& source, const std::string& annotator,
                                               int64_t createdMs);
    // A response outside any run, found by its prompt and text (one per
    // prompt and text), else stored: where imported ratings and unpaired
    // labels attach.
    struct StoredResponse {
        int64_t id = 0;
        bool created = false;
    };
    StoredResponse findOrInsertStoredResponse(const std::string& prompt, const ResponseRow& response);
    // The latest label of the pair by this source and annotator ("" when none).
    std::string latestLabel(int64_t pairId, const std::string& source, const std::string& annotator);
    // consensusChoice over each named annotator's latest label of the pair
    // (people's and imported labels).
    std::string annotatorConsensus(int64_t pairId);
    int64_t maxPairId();
    int64_t insertLabel(const LabelRow& label);
    int64_t insertRating(const RatingRow& rating);
    // A rating of a response that belongs to no pair (a ratings file's row:
    // prompt, response, rating and perhaps its sampling log-probability).
    int64_t insertRatedResponse(const std::string& prompt, const ResponseRow& response, double value,
                                const std::string& source, const std::string& annotator, int64_t createdMs);
    void markTrained(const TrainedMark& mark);
    // Stores (replaces) a pair's reference log-probabilities; nothing when
    // the pair is no longer stored.
    void storeRefLogprobs(const RefLogprobRow& row);
    // Every stored pair's reference log-probabilities, by pair id.
    std::map<int64_t, StoredRefLogprobs> refLogprobs();
    // Deletes the label (and its ratings) that `r` names; returns how many
    // label rows went (0 when none matched).
    int64_t retractLabel(const LabelRetraction& r);
    int64_t countPairs();
    int64_t countLabels(const std::string& source = {});
    // Visits, by pair id, every pair (optionally of one run) whose label in
    // force under `policy` is 'a' or 'b'.
    void forEachPreference(std::optional<int64_t> runId, const std::function<void(const LabeledPair&)>& visit,
                           LabelPolicy policy = LabelPolicy::Consensus);
    // Visits the pairs of run `runId` whose latest label is a person's A or B
    // and that no step trained on, by run index (a resumed run's held-back labels).
    // Visits each annotator's latest label of each pair (of one run, or all):
    // labels with an annotator name, from a person or an imported label file.
    void forEachAnnotatorLabel(std::optional<int64_t> runId,
                               const std::function<void(int64_t pairId, const std::string& annotator,
                                                        const std::string& choice)>& visit);
    // Visits the judges' verdicts on the pairs that named annotators labelled,
    // each judge named by its label source: its latest stored label ("task",
    // "reward_model", and "self", the policy's implicit reward), and where no
    // task label is stored but both responses carry the task's true reward,
    // the task judge's verdict from it (higher reward wins; equal: tie).
    void forEachJudgeVerdict(std::optional<int64_t> runId,
                             const std::function<void(int64_t pairId, const std::string& judge, const std::string& choice)>& visit);
    // (labelSourceDisplayName in core/values/judge_registry.h names them for people.)

    // Visits the pairs (of one run, or all) whose annotators' latest labels
    // (skips aside) are not all the same, by pair id.
    void forEachDisagreement(std::optional<int64_t> runId, const std::function<void(const Disagreement&)>& visit);
    // A reviewer's final label of a pair (source 'adjudicated'); it becomes the
    // pair's latest label, so training uses it, and agreement leaves it out.
    int64_t insertAdjudication(int64_t pairId, const std::string& choice, const std::string& reviewer, int64_t createdMs);
    // An annotator's edit preferred to the original (records.h); returns the
    // correction pair's id. Throws StorageError naming the pair when it is
    // unknown, the side is not a or b, or the text is the original's.
    int64_t insertPreferredEdit(const PreferredEditRow& edit);
    void forEachUntrainedHumanPreference(int64_t runId, const std::function<void(int64_t runIndex, const LabeledPair&)>& visit);
    // Visits each annotator's latest label of each pair (optionally of one
    // run), as agreement counts them: a person's or an imported label with an
    // annotator name (judges' labels and final labels are not an annotator's).
    void forEachLabelForExport(std::optional<int64_t> runId, const std::function<void(const ExportedLabel&)>& visit);
    // Visits every rated response's latest rating, with or without a sampling
    // log-probability (optionally of one run).
    void forEachRatingForExport(std::optional<int64_t> runId, const std::function<void(const ExportedRating&)>& visit);
    // Visits every rated response's latest rating (optionally of one run);
    // responses stored without a sampling log-probability (imports) are
    // counted in the return value, not visited.
    int64_t forEachRating(std::optional<int64_t> runId, const std::function<void(const StoredRating&)>& visit);

private:
    int64_t promptId(const std::string& text);
    // Text as this engine stores it (PostgreSQL: valid UTF-8 without NUL),
    // for comparing a row with a stored one.
    std::string asStored(const std::string& text) const;
    int64_t responseIdOf(int64_t pairId, const std::string& side);
    int64_t resolvePairId(std::optional<int64_t> pairId, std::optional<int64_t> runId, std::optional<int64_t> runIndex,
                          const char* what);
    int64_t insertResponse(int64_t promptId, const ResponseRow& r, std::optional<int64_t> runId);
    Database& m_db;
};

}  // namespace preflab
