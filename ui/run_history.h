#pragma once
// The runs of this database with their configuration and headline metrics;
// opening one shows its curves (read-only unless it is the active run).
// UI thread.
#include "storage/database_reader.h"

#include <QWidget>

class QStandardItemModel;
class QTableView;
class QTextBrowser;

namespace preflab {

class RunHistory : public QWidget {
    Q_OBJECT
public:
    explicit RunHistory(DatabaseReader* reader, QWidget* parent = nullptr);
    QStandardItemModel* model() const { return m_model; }
    const QVector<RunSummary>& runs() const { return m_runs; }
    // The selected rows' runs, in table order (for Compare).
    QVector<qint64> selectedRuns() const;
    // Selects the rows of these runs (tests, scripted use).
    void selectRuns(const QVector<qint64>& runIds);

public Q_SLOTS:
    void refresh();
    // Emits compareRuns for the selected rows.
    void compareSelected();

Q_SIGNALS:
    void openRun(qint64 runId, const QString& configJson, const QString& status);
    // Overlay these runs' curves (the rows selected when Compare was pressed).
    void compareRuns(const QVector<qint64>& runIds, const QStringList& labels);
    void runsChanged(const QVector<preflab::RunSummary>& runs);

private:
    void showRuns(const QVector<preflab::RunSummary>& runs);
    qint64 selectedRun() const;

    DatabaseReader* m_reader;
    quint64 m_request = 0;
    QVector<RunSummary> m_runs;
    QStandardItemModel* m_model;
    QTableView* m_view;
    QTextBrowser* m_config;
};

}  // namespace preflab
