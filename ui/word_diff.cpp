#include "ui/word_diff.h"

#include <QRegularExpression>
#include <QStringList>

#include <vector>

namespace preflab {

QVector<DiffPiece> wordDiff(const QString& before, const QString& after) {
    static const QRegularExpression space(QStringLiteral("\\s+"));
    const QStringList a = before.split(space, Qt::SkipEmptyParts);
    const QStringList b = after.split(space, Qt::SkipEmptyParts);
    const int n = static_cast<int>(a.size()), m = static_cast<int>(b.size());
    // lcs[i][j]: longest common subsequence of a[i..] and b[j..].
    std::vector<std::vector<int>> lcs(n + 1, std::vector<int>(m + 1, 0));
    for (int i = n - 1; i >= 0; --i) {
        for (int j = m - 1; j >= 0; --j) {
            lcs[i][j] = a[i] == b[j] ? lcs[i + 1][j + 1] + 1 : std::max(lcs[i + 1][j], lcs[i][j + 1]);
        }
    }
    QVector<DiffPiece> out;
    int i = 0, j = 0;
    while (i < n || j < m) {
        if (i < n && j < m && a[i] == b[j]) {
            out.push_back({DiffPiece::Kind::Same, b[j]});
            ++i;
            ++j;
        } else if (i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1])) {
            out.push_back({DiffPiece::Kind::Removed, a[i++]});
        } else {
            out.push_back({DiffPiece::Kind::Added, b[j++]});
        }
    }
    return out;
}

QString diffHtml(const QVector<DiffPiece>& pieces, int* changedWords) {
    QStringList words;
    int changed = 0;
    for (const DiffPiece& p : pieces) {
        const QString w = p.text.toHtmlEscaped();
        switch (p.kind) {
        case DiffPiece::Kind::Same: words << w; break;
        case DiffPiece::Kind::Added:
            words << QStringLiteral("<span style=\"background:#c6efc6\">%1</span>").arg(w);
            ++changed;
            break;
        case DiffPiece::Kind::Removed:
            words << QStringLiteral("<span style=\"color:#b03030; text-decoration:line-through\">%1</span>").arg(w);
            ++changed;
            break;
        }
    }
    if (changedWords) *changedWords = changed;
    return words.join(QLatin1Char(' '));
}

WordMatch matchWords(const QStringList& a, const QStringList& b, qint64 maxCells) {
    WordMatch out;
    out.onlyInA = QVector<bool>(a.size(), true);
    out.onlyInB = QVector<bool>(b.size(), true);
    int begin = 0, endA = static_cast<int>(a.size()), endB = static_cast<int>(b.size());
    while (begin < endA && begin < endB && a[begin] == b[begin]) {
        out.onlyInA[begin] = out.onlyInB[begin] = false;
        ++begin;
    }
    while (endA > begin && endB > begin && a[endA - 1] == b[endB - 1]) {
        out.onlyInA[--endA] = false;
        out.onlyInB[--endB] = false;
    }
    const int n = endA - begin, m = endB - begin;
    if (static_cast<qint64>(n + 1) * (m + 1) > maxCells) {
        out.onlyInA.fill(false);
        out.onlyInB.fill(false);
        out.compared = false;
        return out;
    }
    // lcs[i][j]: longest common subsequence of the middles from i and j on.
    std::vector<std::vector<int>> lcs(n + 1, std::vector<int>(m + 1, 0));
    for (int i = n - 1; i >= 0; --i) {
        for (int j = m - 1; j >= 0; --j) {
            lcs[i][j] = a[begin + i] == b[begin + j] ? lcs[i + 1][j + 1] + 1 : std::max(lcs[i + 1][j], lcs[i][j + 1]);
        }
    }
    int i = 0, j = 0;
    while (i < n && j < m) {
        if (a[begin + i] == b[begin + j]) {
            out.onlyInA[begin + i++] = false;
            out.onlyInB[begin + j++] = false;
        } else if (lcs[i + 1][j] >= lcs[i][j + 1]) {
            ++i;
        } else {
            ++j;
        }
    }
    return out;
}

}  // namespace preflab
