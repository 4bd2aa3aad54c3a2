#include "app/gui/first_run.h"

#include "app/gui/workbench.h"
#include "app/session/starter_model_job.h"
#include "core/values/judge_registry.h"
#include "ui/main_window.h"

#include <QMessageBox>
#include <QProgressDialog>
#include <QPushButton>
#include <QTimer>

namespace preflab {
namespace {
// The lesson the first run offers: the default demo, narrated.
const char* kFirstLesson = "dpo-aligns";
}  // namespace

RunConfig demoConfig() {
    RunConfig c;
    c.name = "demo";
    c.judge = judgeName(JudgeKind::Task);
    return c;
}

void pretrainWithDialog(MainWindow* window, RunController* controller, std::function<void(bool)> then) {
    auto* job = new StarterModelJob(controller->starterModelPath(), 0, window);
    auto* dialog = new QProgressDialog(QObject::tr("Preparing the built-in starter model (one time only)..."),
                                       QObject::tr("Cancel"), 0, 1000, window);
    dialog->setWindowTitle(QObject::tr("PrefLab: first run"));
    dialog->setMinimumDuration(0);
    dialog->setMinimumWidth(520);
    dialog->setWindowModality(Qt::WindowModal);
    dialog->setAutoClose(false);
    dialog->setAutoReset(false);
    QObject::connect(dialog, &QProgressDialog::canceled, job, &StarterModelJob::cancel);
    QObject::connect(job, &StarterModelJob::progress, dialog, [dialog](qint64 step, qint64 total, double loss, double seconds) {
        dialog->setMaximum(static_cast<int>(total));
        dialog->setValue(static_cast<int>(step));
        const double left = step > 0 ? seconds / static_cast<double>(step) * static_cast<double>(total - step) : 0.0;
        dialog->setLabelText(QObject::tr("Pretraining the built-in starter model on the task's corpus (one time only).\n"
                                         "Step %1 of %2 \u00b7 loss %3 nats/token \u00b7 about %4 s left")
                                 .arg(step)
                                 .arg(total)
                                 .arg(loss, 0, 'f', 3)
                                 .arg(left, 0, 'f', 0));
    });
    QObject::connect(job, &StarterModelJob::finished, window, [job, dialog, then](bool ok, const QString& message) {
        dialog->close();
        dialog->deleteLater();
        job->deleteLater();
        if (!ok && !message.contains(QObject::tr("cancelled"))) {
            QMessageBox::warning(dialog->parentWidget(), QObject::tr("PrefLab"), message);
        }
        then(ok);
    });
    job->start();
    dialog->show();
}

void offerFirstRun(Workbench* wb) {
    MainWindow* w = wb->window();
    RunController* c = wb->controller();
    if (c->starterModelReady()) return;
    // First run: pretrain, then offer the demonstration.
    QTimer::singleShot(0, w, [wb, w, c] {
        pretrainWithDialog(w, c, [wb, w](bool ok) {
            if (!ok) return;
            QMessageBox box(QMessageBox::Question, QObject::tr("PrefLab"),
                            QObject::tr("The starter model is ready. Take the first lesson? It starts the demo run and "
                                        "says what to look at as it goes: reward margin, KL to the reference, gold "
                                        "reward, and why the held-out accuracy is the honest one. (Help \u2192 "
                                        "Lessons lists them all.)"),
                            QMessageBox::NoButton, w);
            QPushButton* lesson = box.addButton(QObject::tr("Take the first lesson"), QMessageBox::AcceptRole);
            QPushButton* demo = box.addButton(QObject::tr("Just start a demo run"), QMessageBox::ActionRole);
            box.addButton(QObject::tr("Not now"), QMessageBox::RejectRole);
            box.exec();
            if (box.clickedButton() == lesson) wb->startLesson(QString::fromLatin1(kFirstLesson), 1, true);
            if (box.clickedButton() == demo) wb->startRun(demoConfig());
        });
    });
}

}  // namespace preflab
