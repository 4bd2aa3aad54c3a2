#pragma once
// The samples and data browser: every stored pair with its label, source,
// annotator and steps, filtered by run, source and label; double-click opens a
// pair to read and relabel it. UI thread.
#include "core/values/label.h"
#include "storage/database_reader.h"
#include "ui/key_bindings.h"
#include "ui/pair_dialog.h"
#include "ui/pair_table_model.h"

#include <QPointer>
#include <QWidget>

class QComboBox;
class QLabel;
class QPushButton;
class QTableView;

namespace preflab {

class DataBrowser : public QWidget {
    Q_OBJECT
public:
    explicit DataBrowser(DatabaseReader* reader, QWidget* parent = nullptr);

    PairTableModel* model() const { return m_model; }
    QTableView* view() const { return m_view; }
    void setKeyBindings(const KeyBindings& keys) { m_keys = keys; }
    void setAnnotator(const QString& name) { m_annotator = name; }
    void setRuns(const QVector<preflab::RunSummary>& runs);
    // Shows the pairs a run's gradient step trained on (from a plot click).
    void showTrainedAt(qint64 runId, qint64 step);

    // The dialog of the pair opened last (nullptr before any; for tests).
    PairDialog* openDialog() const { return m_openDialog; }
    // Opens the pair in `row` of the table to read and relabel (double-click).
    void openPair(const QModelIndex& index);

public Q_SLOTS:
    void applyFilter();

Q_SIGNALS:
    // A person relabeled a stored pair; the table shows the new label at once.
    void relabelRequested(qint64 pairId, preflab::Choice choice, const QString& annotator);

private:
    DatabaseReader* m_reader;
    QPointer<PairDialog> m_openDialog;
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
