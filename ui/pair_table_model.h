#pragma once
// Pairs with their latest label as a table, read lazily from the database:
// rows arrive a page at a time from the DatabaseReader's thread when the view
// scrolls near the end (canFetchMore/fetchMore), so 100 k rows scroll smoothly
// and the UI thread never waits on disk. UI thread.
#include "storage/database_reader.h"

#include <QAbstractTableModel>
#include <QVector>

namespace preflab {

class PairTableModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Id, Run, Index, Step, Prompt, ResponseA, ResponseB, Label, Source, Annotator, TrainedAt, ColumnCount };
    static constexpr int kPageSize = 256;

    explicit PairTableModel(DatabaseReader* reader, QObject* parent = nullptr);

    void setFilter(const PairFilter& filter);  // clears and reloads
    const PairFilter& filter() const { return m_filter; }
    void reload() { setFilter(m_filter); }
    const PairListRow* rowAt(int row) const;
    // Shows a new label at once (the write is already queued).
    void updateLabel(qint64 pairId, const QString& choice, const QString& source, const QString& annotator);
    // Total rows matching the filter (known after the count answer), -1 before.
    qint64 totalCount() const { return m_total; }
    bool isLoading() const { return m_pendingPage != 0; }

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
    bool canFetchMore(const QModelIndex& parent) const override;
    void fetchMore(const QModelIndex& parent) override;

Q_SIGNALS:
    void countChanged(qint64 total);
    void loadFailed(const QString& message);

private:
    void onPage(quint64 request, const QVector<preflab::PairListRow>& rows);

    DatabaseReader* m_reader;
    PairFilter m_filter;
    QVector<PairListRow> m_rows;
    quint64 m_pendingPage = 0, m_countRequest = 0;
    bool m_exhausted = false;
    qint64 m_total = -1;
};

}  // namespace preflab
