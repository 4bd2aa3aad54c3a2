#pragma once
// The run panel: a new run's settings (model, judge, algorithm, beta, learning
// rate, batch size, generation, evaluation, seed) and Start / Pause / Stop.
// Fields come from the run config's field table, so the GUI, the CLI flags and
// JSON configs accept and refuse exactly the same values; a refused value is
// marked at its field with the reason. UI thread.
#include "app/session/session_types.h"

#include <QMap>
#include <QWidget>

class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;

namespace preflab {

class RunPanel : public QWidget {
    Q_OBJECT
public:
    explicit RunPanel(QWidget* parent = nullptr);

    RunConfig config() const;
    void setConfig(const RunConfig& config);
    // Problems with the current values, empty when Start may go ahead.
    QStringList problems() const;
    // Sets one field's text (as a person typing would) and revalidates.
    void setFieldText(const QString& key, const QString& text);
    QString fieldError(const QString& key) const;
    void setRunState(bool active, RunState state);

Q_SIGNALS:
    void startRequested(const preflab::RunConfig& config);
    void pauseRequested();
    void resumeRequested();
    void stopRequested();
    void openRunsRequested();

private:
    struct Field {
        QLineEdit* edit = nullptr;
        QComboBox* combo = nullptr;
        QLabel* error = nullptr;
    };
    void validate();
    QString fieldText(const QString& key) const;

    QMap<QString, Field> m_fields;
    QPushButton* m_start;
    QPushButton* m_pause;
    QPushButton* m_stop;
    QLabel* m_summary;
    bool m_active = false;
    RunState m_state = RunState::Finished;
};

}  // namespace preflab
