#pragma once
// The run panel: every setting of a new run, in folding sections, and
// Start / Pause / Stop. The panel is generated from the run config's field
// table (section, name, editor, help), so the GUI, the CLI flags and JSON
// configs offer, accept and refuse exactly the same values; a refused value
// is marked at its field with the reason. UI thread.
#include "core/values/run_config.h"
#include "core/values/run_state.h"

#include <QMap>
#include <QWidget>

class QCheckBox;
class QComboBox;
class QToolButton;
class QFormLayout;
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
    // Whether field `key`'s row is shown (a judge's own fields only with that judge).
    bool fieldShown(const QString& key) const;
    QString fieldError(const QString& key) const;
    void setRunState(bool active, RunState state);
    // The settings the panel edits, in table order (every run config field).
    const QStringList& fieldKeys() const { return m_fieldOrder; }
    // The folding header of a section (tests, screenshots).
    QToolButton* sectionToggle(const QString& group) const { return m_sections.value(group); }

Q_SIGNALS:
    void startRequested(const preflab::RunConfig& config);
    void pauseRequested();
    void resumeRequested();
    void stopRequested();
    void openRunsRequested();

private:
    struct Field {
        const ConfigField* spec = nullptr;
        QLineEdit* edit = nullptr;
        QComboBox* combo = nullptr;
        QCheckBox* check = nullptr;
        QLabel* error = nullptr;
        QFormLayout* form = nullptr;  // its section's form, and its row's label (to hide the row)
        QLabel* label = nullptr;
    };
    void validate();
    void openMethodSection();
    QString fieldText(const QString& key) const;

    QMap<QString, Field> m_fields;
    QStringList m_fieldOrder;
    QMap<QString, QToolButton*> m_sections;
    QPushButton* m_start;
    QPushButton* m_pause;
    QPushButton* m_stop;
    QLabel* m_summary;
    bool m_active = false;
    RunState m_state = RunState::Finished;
};

}  // namespace preflab
