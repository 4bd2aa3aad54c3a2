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

// Two word lists side by side (the labeling view's A and B): which words of
// each are outside a longest common subsequence, i.e. differ. The common
// prefix and suffix are matched first, so near-identical long responses stay
// cheap; when what is left would need more than `maxCells` table cells the
// answer is `compared = false` and nothing is marked.
struct WordMatch {
    QVector<bool> onlyInA, onlyInB;  // one flag per word
    bool compared = true;
};
WordMatch matchWords(const QStringList& a, const QStringList& b, qint64 maxCells = 4'000'000);

}  // namespace preflab
