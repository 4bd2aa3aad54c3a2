#pragma once
// One stored pair in full (prompt, both responses, true rewards, label
// history count), relabeled with the labeling keys. UI thread.
#include "storage/read_models.h"
#include "core/values/label.h"
#include "ui/key_bindings.h"

#include <QDialog>

class QLabel;

namespace preflab {

class PairDialog : public QDialog {
    Q_OBJECT
public:
    PairDialog(const PairListRow& row, const KeyBindings& keys, QWidget* parent = nullptr);
    qint64 pairId() const { return m_row.pairId; }

Q_SIGNALS:
    void relabel(qint64 pairId, preflab::Choice choice);

protected:
    void keyPressEvent(QKeyEvent* event) override;

private:
    void choose(Choice c);
    PairListRow m_row;
    KeyBindings m_keys;
    QLabel* m_current;
};

}  // namespace preflab
