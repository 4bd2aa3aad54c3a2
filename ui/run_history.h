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

public Q_SLOTS:
    void refresh();

Q_SIGNALS:
    void openRun(qint64 runId, const QString& configJson, const QString& status);
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
