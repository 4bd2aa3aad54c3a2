#pragma once
// The samples and data browser: every stored pair with its label, source,
// annotator and steps, filtered by run, source and label; double-click opens a
// pair to read and relabel it. UI thread.
#include "app/session/run_controller.h"
#include "ui/key_bindings.h"
#include "ui/pair_table_model.h"

#include <QWidget>

class QComboBox;
class QLabel;
class QPushButton;
class QTableView;

namespace preflab {

class DataBrowser : public QWidget {
    Q_OBJECT
public:
    DataBrowser(DatabaseReader* reader, RunController* controller, QWidget* parent = nullptr);

    PairTableModel* model() const { return m_model; }
    QTableView* view() const { return m_view; }
    void setKeyBindings(const KeyBindings& keys) { m_keys = keys; }
    void setAnnotator(const QString& name) { m_annotator = name; }
    void setRuns(const QVector<preflab::RunSummary>& runs);
    // Shows the pairs a run's gradient step trained on (from a plot click).
    void showTrainedAt(qint64 runId, qint64 step);

public Q_SLOTS:
    void applyFilter();

private:
    void openPair(const QModelIndex& index);

    DatabaseReader* m_reader;
    RunController* m_controller;
    PairTableModel* m_model;
    QTableView* m_view;
    QComboBox* m_run;
    QComboBox* m_source;
    QComboBox* m_choice;
    QPushButton* m_stepChip;
    QLabel* m_count;
    std::optional<int64_t> m_trainedStep;
    KeyBindings m_keys;
    QString m_annotator;
};

}  // namespace preflab
