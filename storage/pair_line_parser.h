#pragma once
// One line of a preference or rating file, recognised by its keys and
// checked. The formats (ImportReport::formats names them):
//   TRL standard            {"prompt": str, "chosen": str, "rejected": str}
//   TRL implicit prompt     {"chosen": str, "rejected": str}, as Anthropic's HH-RLHF: the
//                           prompt is the dialogue both share up to and including the
//                           final "\n\nAssistant:" turn
//   TRL conversational      {"prompt": [messages], "chosen": [one assistant message],
//                           "rejected": [one assistant message]}
//   message lists with the prompt inside (UltraFeedback binarized, TRL's conversational
//                           implicit prompt): "chosen" and "rejected" are whole
//                           conversations that share every message but the last, an
//                           assistant turn; optional "score_chosen"/"score_rejected"
//   annotator labels        {"prompt", "response_a", "response_b", "annotator", "label"},
//                           label one of a, b, tie, both_bad, skip
//   ratings                 {"prompt", "response", "rating"[, "sampling_logprob"]}
//   TRL unpaired            {"prompt", "completion", "label": true|false[, "annotator"]}:
//                           a thumbs up (true) or down on one response (KTO's data)
// A message is {"role": system|user|assistant|tool, "content": str, ...}.
// A conversational pair keeps its prompt's messages (JSON) and the row as read,
// so that export writes the row back unchanged; its prompt text is the
// messages in the plain format (plainConversationText), which the GUI shows
// and the built-in model trains on. Plain C++ and QtCore.
#include "storage/import_text.h"
#include "storage/records.h"

#include <optional>
#include <string>

namespace preflab {

inline const char* const kTrlStandard = "TRL standard (prompt, chosen, rejected)";
inline const char* const kTrlImplicitPrompt = "TRL implicit prompt (chosen, rejected; HH-RLHF)";
inline const char* const kTrlConversational = "TRL conversational (prompt, chosen, rejected as messages)";
inline const char* const kConversationsWithPrompt =
    "message lists that include the prompt (chosen, rejected; UltraFeedback binarized)";
inline const char* const kAnnotatorLabels = "annotator labels (prompt, response_a, response_b, annotator, label)";
inline const char* const kRatings = "ratings (prompt, response, rating)";
inline const char* const kTrlUnpaired = "TRL unpaired (prompt, completion, label)";

// One good line. For a pair, pair.a is the chosen response, except in label
// files, where a and b are as given.
struct ParsedLine {
    const char* format = kTrlStandard;
    PairRow pair;
    std::string label = "a";
    std::string annotator;
    // An annotator label row's optional "seconds" (the time the person took;
    // an unpaired row's too) and "shown_first" ("a" or "b"; empty when not given).
    std::optional<double> seconds;
    std::string shownFirst;
    std::optional<double> scoreA, scoreB;  // UltraFeedback's score_chosen / score_rejected
    // A rating row: the prompt in pair.prompt, the response in pair.a.
    std::optional<double> rating;
    bool isRating() const { return rating.has_value(); }
    // An unpaired row: the prompt in pair.prompt, the completion in pair.a.
    std::optional<bool> desirable;
    bool isUnpaired() const { return desirable.has_value(); }
};

// What a line's numbers must satisfy beyond being finite.
struct LineChecks {
    RatingRange ratings;         // a rating row's "rating" (a person's 1-7 by default)
    RatingRange scores{1, 10};   // UltraFeedback's score_chosen/score_rejected (its 1-10 scale)
};

// Validates one line; returns what is wrong, empty when the line is good.
// Beyond what QJsonDocument checks: a key given twice in one object (Qt keeps
// the last silently, other readers the first) and a \u escape of a lone
// surrogate (Qt stores it as '?') are bad lines; an annotator's name is
// normalised (core/values/person_names.h) and refused when empty, over-long or holding control
// characters.
std::string parsePairLine(const std::string& line, ParsedLine& out, const LineChecks& checks = {});

// The first key that occurs twice in one object of `json`, or a lone
// surrogate escape, as a message (empty when neither). `json` is valid JSON.
// Written by hand: Qt's JSON reader drops the earlier duplicate and replaces
// the surrogate without a word, and offers no hook to see either.
std::string strictJsonProblem(const std::string& json);

// The byte offset of the first byte that is not valid UTF-8, or -1.
int64_t invalidUtf8Offset(const std::string& s);

// A conversation (a JSON list of messages) as plain text: one user message is
// its content; otherwise each message as "Role: content", separated by a
// blank line ("System: …\n\nUser: …\n\nAssistant: …\n\nUser: …").
std::string plainConversationText(const std::string& messagesJson);

}  // namespace preflab
