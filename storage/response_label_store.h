#pragma once
// Unpaired labels: a thumbs up (desirable) or down on one stored response,
// KTO's data and TRL's unpaired format. Append-only; an annotator's latest
// label of a response is theirs. Uses the caller's connection (one per
// thread); callers wrap batches in a Transaction.
#include "storage/database.h"
#include "storage/records.h"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace preflab {

struct ExportedResponseLabel {  // an unpaired label, as an unpaired file's row
    std::string prompt, completion, annotator;
    bool desirable = true;
    std::optional<double> seconds;  // the time the person took, where stored
};

struct UnpairedExample {  // a response with its desirable / undesirable verdict, for KTO
    std::string prompt, completion;
    bool desirable = true;
};

class ResponseLabelStore {
public:
    explicit ResponseLabelStore(Database& db) : m_db(db) {}
    int64_t insert(const ResponseLabelRow& label);
    // Deletes the person's label of the response given at that time (an
    // undo); returns the rows deleted (0 when it was never stored).
    int64_t retract(const ResponseLabelRetraction& r);
    // An imported unpaired row: its prompt and response found or stored,
    // then its label added unless this source and annotator's latest label
    // of it says the same. Returns whether a label row was added.
    bool insertIfChanged(const std::string& prompt, const ResponseRow& response, bool desirable,
                         const std::string& source, const std::string& annotator, int64_t createdMs,
                         std::optional<double> seconds = std::nullopt);
    // Every unpaired label in the order given, as an unpaired file's rows.
    void forEachForExport(const std::function<void(const ExportedResponseLabel&)>& visit);
    // Each labelled response once, with the majority of its annotators'
    // latest labels (a tie leaves it out): KTO's examples.
    std::vector<UnpairedExample> examples();

private:
    Database& m_db;
};

}  // namespace preflab
