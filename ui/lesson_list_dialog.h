#pragma once
// Help → Lessons: the guided lessons (issue 29) to choose from, each with its
// summary, its runs and whether it needs a person; a seed and step mode; and
// "Open saved lesson..." for a state file a teacher handed out. UI thread.
#include "core/values/lesson.h"

#include <QDialog>

#include <vector>

class QCheckBox;
class QLabel;
class QListWidget;
class QSpinBox;

namespace preflab {

class LessonListDialog : public QDialog {
    Q_OBJECT
public:
    LessonListDialog(std::vector<Lesson> lessons, QWidget* parent = nullptr);

    // After accept(): the lesson chosen (nullptr: a saved state was chosen instead).
    const Lesson* chosenLesson() const;
    qint64 seed() const;
    bool stepMode() const;
    // After accept() through "Open saved lesson...": the state file (else empty).
    QString savedStatePath() const { return m_savedState; }
    QListWidget* list() const { return m_list; }
    // Selects the lesson `id` (for tests and the first-run offer); false when absent.
    bool select(const QString& id);

private:
    void showDetails();

    std::vector<Lesson> m_lessons;
    QListWidget* m_list;
    QLabel* m_details;
    QSpinBox* m_seed;
    QCheckBox* m_stepMode;
    QString m_savedState;
};

}  // namespace preflab
