#pragma once
// The method comparison's results in the app: open the folder preflab-compare
// wrote (--out) and see each method's frontier, the best gold reward its KL
// settings reached at each exact KL to the reference (mean over seeds with
// the 95 % interval as a band; core/compare/kl_frontier.h), and the
// literature's claims as the comparison judged them (orderings.json), each
// with its verdict and evidence. The files are read on a worker thread. UI thread.
#include "core/compare/comparison_files.h"

#include <QWidget>

class QCheckBox;
class QCustomPlot;
class QLabel;
class QTableWidget;

namespace preflab {

class MethodFrontiers : public QWidget {
    Q_OBJECT
public:
    explicit MethodFrontiers(QWidget* parent = nullptr);

    // Reads FOLDER/compare.csv and FOLDER/orderings.json off the UI thread;
    // loaded() or failed(message) when done.
    void openFolder(const QString& folder);
    void chooseFolder();  // asks for the folder first

    // For tests and the screenshot.
    int curveCount() const;  // one per method
    int claimCount() const;
    QString verdict(int row) const;
    QString status() const;
    QCustomPlot* plot() const { return m_plot; }

Q_SIGNALS:
    void loaded();
    void failed(const QString& message);

private:
    void show(const ComparisonResults& results);
    void applyRange();

    QLabel* m_status;
    QCustomPlot* m_plot;
    QTableWidget* m_claims;
    QCheckBox* m_zoom;
    int m_curves = 0;
    double m_sharedKl = 0, m_maxKl = 0;  // the KL every method reached; the largest any reached
    double m_minGold = 0, m_maxGold = 0;
    quint64 m_request = 0;  // only the newest request's answer is shown
};

}  // namespace preflab
