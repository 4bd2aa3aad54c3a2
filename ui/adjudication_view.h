#pragma once
// Adjudication: the pairs on which annotators disagree, each with every
// annotator's latest label, and a reviewer's final label set with a click or
// the keys 1-4 (A, B, tie, both bad). The final label becomes the pair's
// latest, so training uses it; agreement still counts only the annotators.
// Pairs are read through the DatabaseReader and re-read every two seconds
// while shown; the label is written by whoever handles adjudicateRequested
// (the run controller's writer thread). UI thread.
#include "core/values/label.h"
#include "storage/database_reader.h"

#include <QHash>
#include <QWidget>

class QLabel;
class QPlainTextEdit;
class QPushButton;
class QTableWidget;

namespace preflab {

class PolledRequest;

class AdjudicationView : public QWidget {
    Q_OBJECT
public:
    explicit AdjudicationView(DatabaseReader* reader, QWidget* parent = nullptr);

    void setRun(qint64 runId);           // 0: every stored pair
    void setReviewer(const QString& name);
    void refresh();

    // Sets the selected pair's final label (as the buttons and keys do).
    void adjudicateSelected(preflab::Choice choice);

    // For tests and the screenshot.
    int pairCount() const;
    QString summary() const;
    QString finalLabel(int row) const;
    void selectRow(int row);

Q_SIGNALS:
    void adjudicateRequested(qint64 pairId, preflab::Choice choice, const QString& reviewer);
    void loaded();

protected:
    void showEvent(QShowEvent* event) override;
    void hideEvent(QHideEvent* event) override;
    void keyPressEvent(QKeyEvent* event) override;
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    bool takeKey(int key);  // 1-4: a final label for the selected pair
    void showRows(const QVector<Disagreement>& rows);
    void showPair(int row);

    DatabaseReader* m_reader;
    qint64 m_run = 0;
    QString m_reviewer;
    QVector<Disagreement> m_rows;
    qint64 m_shownPair = -1;  // the pair whose texts are on screen
    // Final labels given here and not yet read back from the database.
    QHash<qint64, std::pair<std::string, QString>> m_given;  // pair -> (choice, what the table shows)
    QLabel* m_summary;
    QTableWidget* m_table;
    QLabel* m_prompt;
    QLabel* m_labels;
    QPlainTextEdit* m_responseA;
    QPlainTextEdit* m_responseB;
    QList<QPushButton*> m_buttons;
    PolledRequest* m_poll;
};

}  // namespace preflab
