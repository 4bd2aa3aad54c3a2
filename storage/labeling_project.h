#pragma once
// A labeling project without training, as Argilla runs one: the stored pairs
// (every pair, or one run's) are shown to annotators until `overlap` of them
// have labelled each (a skip does not count towards the overlap, but the pair
// is not shown to that annotator again). Each annotator sees the two
// responses in an order of their own (blind: the same pair is A/B for one and
// B/A for another), and never another's label, a model's reward or a judge's
// verdict. A pair that already has some annotators comes before a fresh one,
// so pairs reach their overlap instead of every pair getting one label.
// Each label is committed on its own, the moment it is given.
#include "core/values/label.h"
#include "storage/database.h"
#include "storage/read_models.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace preflab {

struct AnnotatorProgress {
    std::string annotator;
    int64_t labels = 0;       // latest labels of distinct pairs, skips included
    int64_t skips = 0;
    double perMinute = 0;     // labels per minute over the annotator's last hour of work; NaN below two labels
    int64_t lastMs = 0;
};

class LabelingProject {
public:
    LabelingProject(Database& db, int overlap, std::optional<int64_t> runId = std::nullopt);

    // The next pair for this annotator, or none when every pair they have not
    // labelled already has `overlap` annotators.
    std::optional<ProjectPair> next(const std::string& annotator);
    // The next `limit` pairs in that order (a view holds a few ready to show).
    std::vector<ProjectPair> nextPairs(const std::string& annotator, int limit);
    // Stores the annotator's label of the pair as shown ("a" is `first`):
    // mapped back to the pair's own a/b, committed before it returns. The
    // label records that `first` was shown first, and the seconds taken.
    void label(const ProjectPair& pair, const std::string& shownChoice, const std::string& annotator, int64_t timeMs,
               std::optional<double> seconds = std::nullopt);
    // Thumbs mode (unpaired labels, KTO's data): the next responses of the
    // project's pairs (both sides) this annotator has not labelled, while
    // fewer than `overlap` annotators have; and storing a thumbs up or down,
    // committed before it returns.
    std::vector<ProjectResponse> nextResponses(const std::string& annotator, int limit);
    void labelResponse(int64_t responseId, bool desirable, const std::string& annotator, int64_t timeMs,
                       std::optional<double> seconds = std::nullopt);
    int64_t responseCount();          // responses of the project's pairs
    int64_t completeResponseCount();  // of those, with `overlap` annotators

    int64_t pairCount();                                // pairs in the project
    int64_t completeCount();                            // pairs with `overlap` annotators
    int64_t remainingFor(const std::string& annotator);  // pairs still open to this annotator
    std::vector<AnnotatorProgress> progress();

    // Whether this annotator sees the pair as B/A: fixed per (pair, annotator).
    static bool swappedFor(int64_t pairId, const std::string& annotator);
    // The pair's own choice for a choice made on the pair as shown.
    static Choice storedChoice(Choice shown, bool swapped);

private:
    Database& m_db;
    int m_overlap;
    std::optional<int64_t> m_run;
};

}  // namespace preflab
