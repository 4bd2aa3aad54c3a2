#include "ui/annotator_box.h"

#include "core/values/person_names.h"

#include <QLineEdit>
#include <QSignalBlocker>

namespace preflab {

AnnotatorBox::AnnotatorBox(QWidget* parent) : QComboBox(parent) {
    setEditable(true);
    setInsertPolicy(QComboBox::NoInsert);
    setMinimumContentsLength(12);
    setToolTip(tr("Who is labeling: stored with every label from now on. Switch at any time, also during a run."));
    lineEdit()->setPlaceholderText(tr("your name"));
    connect(lineEdit(), &QLineEdit::returnPressed, this, &AnnotatorBox::apply);
    connect(this, &QComboBox::activated, this, &AnnotatorBox::apply);
}

void AnnotatorBox::setName(const QString& name) {
    m_name = name;
    setEditText(name);
}

void AnnotatorBox::setProfiles(const QStringList& names) {
    const QSignalBlocker block(this);
    clear();
    addItems(names);
    setEditText(m_name);
}

void AnnotatorBox::apply() {
    std::string stored;
    const std::string problem = normalizeName(currentText().toStdString(), stored, "annotator", false);
    if (!problem.empty()) {
        setEditText(m_name);
        Q_EMIT refused(QString::fromStdString(problem));
        return;
    }
    const QString name = QString::fromStdString(stored);
    if (name != m_name) {
        m_name = name;
        Q_EMIT nameApplied(name);
    }
    Q_EMIT done();
}

}  // namespace preflab
