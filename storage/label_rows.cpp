#include "storage/label_rows.h"

#include <QUuid>

namespace preflab {
namespace {

std::string newIdempotencyKey() {
    return QUuid::createUuid().toString(QUuid::WithoutBraces).toStdString();
}

}  // namespace

LabelRow labelRow(const LabelTarget& target, Choice choice, LabelSource source, std::string annotator, int64_t timeMs,
                  std::optional<double> seconds, std::optional<Choice> shownFirst) {
    const bool sided = shownFirst == Choice::A || shownFirst == Choice::B;
    const bool person = source == LabelSource::Human || source == LabelSource::Adjudicated;
    return LabelRow{target.pairId,
                    target.runId,
                    target.runIndex,
                    toString(choice),
                    toString(source),
                    std::move(annotator),
                    timeMs,
                    seconds,
                    sided ? toString(*shownFirst) : std::string(),
                    person ? newIdempotencyKey() : std::string()};
}

LabelRetraction labelRetraction(const LabelTarget& target, std::string annotator, int64_t timeMs) {
    return LabelRetraction{target.pairId, target.runId, target.runIndex, std::move(annotator), timeMs};
}

ResponseLabelRow responseLabelRow(int64_t responseId, bool desirable, std::string annotator, int64_t timeMs,
                                  std::optional<double> seconds) {
    return ResponseLabelRow{responseId, desirable, toString(LabelSource::Human), std::move(annotator),
                            timeMs,     seconds,   newIdempotencyKey()};
}

ResponseLabelRetraction responseLabelRetraction(int64_t responseId, std::string annotator, int64_t timeMs) {
    return ResponseLabelRetraction{responseId, std::move(annotator), timeMs};
}

PreferredEditRow preferredEditRow(const LabelTarget& target, Choice side, std::string text, std::string annotator,
                                  int64_t timeMs, std::optional<double> seconds) {
    return PreferredEditRow{target.pairId, target.runId, target.runIndex, toString(side), std::move(text),
                            std::move(annotator), timeMs, seconds, newIdempotencyKey()};
}

std::vector<WriteOp> judgementRows(int64_t runId, const Judgement& j) {
    std::vector<WriteOp> ops;
    ops.emplace_back(labelRow(LabelTarget::runPair(runId, j.pairIndex), j.choice, j.source, j.annotator, j.timeMs,
                              j.seconds, j.shownFirst));
    const std::string source = toString(j.source);
    if (j.ratingA) ops.emplace_back(RatingRow{std::nullopt, runId, j.pairIndex, "a", *j.ratingA, source, j.annotator, j.timeMs});
    if (j.ratingB) ops.emplace_back(RatingRow{std::nullopt, runId, j.pairIndex, "b", *j.ratingB, source, j.annotator, j.timeMs});
    return ops;
}

}  // namespace preflab
