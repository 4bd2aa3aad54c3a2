#pragma once
// A word-level diff of two short texts (a response against the reference's
// response to the same prompt), for highlighting what the policy changed.
// Hand-written: Qt has no diff, and responses are a few dozen words, so the
// textbook longest-common-subsequence table (n x m) costs nothing.
#include <QString>
#include <QVector>

namespace preflab {

struct DiffPiece {
    enum class Kind { Same, Added, Removed };
    Kind kind = Kind::Same;
    QString text;  // one word (whitespace-separated, punctuation attached)
};

// The pieces that turn `before` into `after`, in reading order (a removed word
// comes before the word added in its place).
QVector<DiffPiece> wordDiff(const QString& before, const QString& after);

// `after` as HTML with added words highlighted and removed words struck
// through; `changedWords` (optional) counts added plus removed words.
QString diffHtml(const QVector<DiffPiece>& pieces, int* changedWords = nullptr);

}  // namespace preflab
