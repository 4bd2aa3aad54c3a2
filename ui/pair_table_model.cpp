#include "ui/pair_table_model.h"

#include <QColor>
#include <QDateTime>

namespace preflab {
namespace {

QString oneLine(const std::string& text, int max = 90) {
    QString s = QString::fromStdString(text).simplified();
    return s.size() > max ? s.left(max - 1) + QChar(0x2026) : s;
}

QString choiceDisplay(const std::string& c) {
    if (c == "a") return QObject::tr("A");
    if (c == "b") return QObject::tr("B");
    if (c == "tie") return QObject::tr("tie");
    if (c == "both_bad") return QObject::tr("both bad");
    if (c == "skip") return QObject::tr("skipped");
    return QObject::tr("unlabeled");
}

}  // namespace

PairTableModel::PairTableModel(DatabaseReader* reader, QObject* parent) : QAbstractTableModel(parent), m_reader(reader) {
    connect(reader, &DatabaseReader::pairsFetched, this, &PairTableModel::onPage);
    connect(reader, &DatabaseReader::pairsCounted, this, [this](quint64 request, qint64 count) {
        if (request != m_countRequest) return;
        m_total = count;
        Q_EMIT countChanged(count);
    });
    connect(reader, &DatabaseReader::failed, this, [this](quint64 request, const QString& message) {
        if (request != m_pendingPage && request != m_countRequest) return;
        if (request == m_pendingPage) m_pendingPage = 0;
        m_exhausted = true;
        Q_EMIT loadFailed(message);
    });
}

void PairTableModel::setFilter(const PairFilter& filter) {
    beginResetModel();
    m_filter = filter;
    m_rows.clear();
    m_exhausted = false;
    m_pendingPage = 0;  // an answer to an older request is dropped
    m_total = -1;
    endResetModel();
    m_countRequest = m_reader->countPairs(filter);
    fetchMore({});
}

const PairListRow* PairTableModel::rowAt(int row) const {
    return row >= 0 && row < m_rows.size() ? &m_rows[row] : nullptr;
}

void PairTableModel::updateLabel(qint64 pairId, const QString& choice, const QString& source, const QString& annotator) {
    for (int r = 0; r < m_rows.size(); ++r) {
        if (m_rows[r].pairId != pairId) continue;
        m_rows[r].choice = choice.toStdString();
        m_rows[r].source = source.toStdString();
        m_rows[r].annotator = annotator.toStdString();
        ++m_rows[r].labelCount;
        Q_EMIT dataChanged(index(r, Label), index(r, Annotator));
    }
}

int PairTableModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(m_rows.size());
}

int PairTableModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant PairTableModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) return {};
    const PairListRow& r = m_rows[index.row()];
    auto opt = [](const std::optional<int64_t>& v) { return v ? QVariant(static_cast<qlonglong>(*v)) : QVariant(); };
    if (role == Qt::DisplayRole) {
        switch (index.column()) {
        case Id: return static_cast<qlonglong>(r.pairId);
        case Run: return opt(r.runId);
        case Index: return opt(r.runIndex);
        case Step: return opt(r.generatedStep);
        case Prompt: return oneLine(r.prompt, 60);
        case ResponseA: return oneLine(r.responseA);
        case ResponseB: return oneLine(r.responseB);
        case Label: return choiceDisplay(r.choice) + (r.labelCount > 1 ? QStringLiteral(" (%1 labels)").arg(r.labelCount) : QString());
        case Source: return QString::fromStdString(r.source);
        case Annotator: return QString::fromStdString(r.annotator);
        case TrainedAt: return opt(r.trainedStep);
        }
    } else if (role == Qt::ToolTipRole) {
        switch (index.column()) {
        case Prompt: return QString::fromStdString(r.prompt);
        case ResponseA: return QString::fromStdString(r.responseA) + (r.goldA ? tr("\n\ntrue reward %1").arg(*r.goldA) : QString());
        case ResponseB: return QString::fromStdString(r.responseB) + (r.goldB ? tr("\n\ntrue reward %1").arg(*r.goldB) : QString());
        case TrainedAt: return r.trainedStep ? tr("used by gradient step %1").arg(*r.trainedStep) : tr("not trained on");
        default: return {};
        }
    } else if (role == Qt::ForegroundRole && index.column() == Label && r.choice.empty()) {
        return QColor(Qt::gray);
    } else if (role == Qt::TextAlignmentRole) {
        const int c = index.column();
        if (c == Id || c == Run || c == Index || c == Step || c == TrainedAt) return int(Qt::AlignRight | Qt::AlignVCenter);
    }
    return {};
}

QVariant PairTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
    switch (section) {
    case Id: return tr("Pair");
    case Run: return tr("Run");
    case Index: return tr("#");
    case Step: return tr("Sampled at");
    case Prompt: return tr("Prompt");
    case ResponseA: return tr("Response A");
    case ResponseB: return tr("Response B");
    case Label: return tr("Label");
    case Source: return tr("Source");
    case Annotator: return tr("Annotator");
    case TrainedAt: return tr("Trained at");
    }
    return {};
}

bool PairTableModel::canFetchMore(const QModelIndex& parent) const {
    return !parent.isValid() && !m_exhausted && m_pendingPage == 0;
}

void PairTableModel::fetchMore(const QModelIndex& parent) {
    if (!canFetchMore(parent)) return;
    const qint64 after = m_rows.isEmpty() ? 0 : m_rows.back().pairId;
    m_pendingPage = m_reader->fetchPairs(m_filter, after, kPageSize);
}

void PairTableModel::onPage(quint64 request, const QVector<PairListRow>& rows) {
    if (request != m_pendingPage) return;  // a page of an older filter
    if (rows.size() < kPageSize) m_exhausted = true;
    if (!rows.isEmpty()) {
        // Still "loading" while the rows go in: a view reacting to the insertion
        // must not ask for the page after a last row that is not there yet.
        beginInsertRows({}, static_cast<int>(m_rows.size()), static_cast<int>(m_rows.size() + rows.size() - 1));
        m_rows += rows;
        endInsertRows();
    }
    m_pendingPage = 0;
}

}  // namespace preflab
