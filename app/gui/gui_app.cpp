#include "app/gui/gui_app.h"

#include "core/method/method_registry.h"
#include "app/gui/workbench.h"
#include "app/session/starter_model_job.h"
#include "storage/data_paths.h"
#include "storage/database.h"
#include "ui/adjudication_view.h"
#include "ui/agreement_view.h"
#include "ui/labeling_view.h"
#include "ui/method_frontiers.h"
#include "ui/completions_view.h"
#include "ui/main_window.h"
#include "ui/run_comparison.h"
#include "ui/run_history.h"
#include "ui/metric_plots.h"
#include "preflab_version.h"

#include <clocale>
#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QInputDialog>
#include <QLineEdit>
#include <QMessageBox>
#include <QProgressDialog>
#include <QPushButton>
#include <QSettings>
#include <QTimer>

#include <cstdio>
#include <memory>

namespace preflab {
namespace {

RunConfig demoConfig() {
    RunConfig c;
    c.name = "demo";
    c.judge = "task";
    return c;
}

// Pretrains the starter model with a progress dialog, then calls `then`.
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

}  // namespace

bool displayAvailable() {
    return qEnvironmentVariableIsSet("DISPLAY") || qEnvironmentVariableIsSet("WAYLAND_DISPLAY") ||
           qEnvironmentVariableIsSet("QT_QPA_PLATFORM");
}

int runGui(int argc, char** argv) {
    // --screenshot renders offscreen when there is no display.
    bool screenshot = false;
    for (int i = 1; i < argc; ++i) screenshot |= std::string(argv[i]) == "--screenshot";
    if (screenshot && !displayAvailable()) qputenv("QT_QPA_PLATFORM", "offscreen");

    QApplication app(argc, argv);
    // Qt adopts the environment's locale; numbers in files and on the command
    // line are read with the C library (strtod, stod), which must see "0.5".
    std::setlocale(LC_NUMERIC, "C");
    QApplication::setApplicationName(QStringLiteral("PrefLab"));
    QApplication::setOrganizationName(QStringLiteral("PrefLab"));
    QApplication::setApplicationVersion(QStringLiteral(PREFLAB_VERSION));

    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral("PrefLab: align language models with preferences (desktop workbench)."));
    p.addHelpOption();
    p.addOption({QStringLiteral("db"),
                 QStringLiteral("The database: a file, or a team's postgresql://user@host[:port]/dbname (the password "
                                "comes from ~/.pgpass or PGPASSWORD, else the window asks for it)."),
                 QStringLiteral("file-or-url")});
    p.addOption({QStringLiteral("data-dir"), QStringLiteral("Where models and checkpoints go."), QStringLiteral("dir")});
    p.addOption({QStringLiteral("screenshot"),
                 QStringLiteral("Start a short demo run, render the window (--screenshot-size) to FILE once the plots hold 20 steps, and exit."),
                 QStringLiteral("file")});
    p.addOption({QStringLiteral("screenshot-judge"),
                 QStringLiteral("The judge of the --screenshot run (task, or human+task to show the labeling view)."),
                 QStringLiteral("judge"), QStringLiteral("task")});
    p.addOption({QStringLiteral("screenshot-size"), QStringLiteral("The window's size for --screenshot (WIDTHxHEIGHT)."),
                 QStringLiteral("size"), QStringLiteral("1440x900")});
    p.addOption({QStringLiteral("screenshot-tab"),
                 QStringLiteral("What --screenshot renders: live (the run's curves), compare (every run in the database "
                                "overlaid against exact KL), completions (the run's responses across steps), frontiers "
                                "(the method comparison in --comparison DIR; no run), agreement (the database's "
                                "annotators; no run), adjudication (the pairs they disagree on; no run) or project (a "
                                "labeling project over the stored pairs; no run)."),
                 QStringLiteral("tab"), QStringLiteral("live")});
    p.addOption({QStringLiteral("comparison"),
                 QStringLiteral("Open the method comparison preflab-compare wrote into DIR (its --out) in its tab."),
                 QStringLiteral("dir")});
    p.addOption({QStringLiteral("screenshot-algorithm"), QStringLiteral("The method of the --screenshot run (e.g. cpo, ppo)."),
                 QStringLiteral("algorithm"), QString::fromUtf8(methodName(Method::OnlineDpo))});
    p.process(app);

    QSettings settings;
    const QString dataDir = p.isSet("data-dir") ? p.value("data-dir") : QString::fromStdString(defaultDataDir());
    QString dbPath = p.isSet("db") ? p.value("db") : QString::fromStdString(defaultDatabasePath());
    if (!p.isSet("db") && !screenshot) dbPath = settings.value(QStringLiteral("last_database"), dbPath).toString();
    QDir().mkpath(dataDir);
    for (int attempt = 0;; ++attempt) {
        try {
            Database::open(dbPath.toStdString());  // creates or migrates; refuses a corrupt or foreign file
            break;
        } catch (const std::exception& e) {
            // A team server that wants a password nobody gave (or a wrong
            // one): ask, up to three times. It goes to PGPASSWORD of this
            // process only, where libpq reads it for every connection the
            // workbench's threads open; never to settings, logs or the title.
            if (!screenshot && attempt < 3 && isPasswordFailure(dbPath.toStdString(), e.what())) {
                bool ok = false;
                const QString password = QInputDialog::getText(
                    nullptr, QObject::tr("PrefLab \u2014 database password"),
                    QObject::tr("%1\n\nPassword for %2:")
                        .arg(QString::fromUtf8(e.what()), QString::fromStdString(databaseTitle(dbPath.toStdString()))),
                    QLineEdit::Password, QString(), &ok);
                if (ok) {
                    qputenv("PGPASSWORD", password.toUtf8());
                    continue;
                }
            }
            if (screenshot) {
                std::fprintf(stderr, "preflab: %s\n", e.what());
            } else {
                QMessageBox::critical(nullptr, QObject::tr("PrefLab"),
                                      QObject::tr("The database could not be opened:\n\n%1\n\nNothing in it was "
                                                  "changed. Start PrefLab with --db to use another file or server.")
                                          .arg(QString::fromUtf8(e.what())));
            }
            return 1;
        }
    }

    auto workbench = std::make_unique<Workbench>(dbPath, dataDir);
    Workbench* wb = workbench.get();
    MainWindow* w = wb->window();
    RunController* c = wb->controller();

    QObject::connect(wb, &Workbench::starterModelNeeded, w, [wb, w, c](const RunConfig& config) {
        pretrainWithDialog(w, c, [wb, config](bool ok) {
            if (ok) wb->startRun(config);
        });
    });

    if (screenshot) {
        const QString file = p.value("screenshot");
        const QStringList size = p.value("screenshot-size").split(QLatin1Char('x'));
        const int width = size.value(0).toInt(), height = size.value(1).toInt();
        if (size.size() != 2 || width < 320 || height < 240) {
            std::fprintf(stderr, "preflab: --screenshot-size %s: expected WIDTHxHEIGHT, at least 320x240\n",
                         qPrintable(p.value("screenshot-size")));
            return 2;
        }
        w->resize(width, height);
        w->show();
        // Saves the window once a tab has drawn what it loaded (a moment after, so the paint is done).
        auto saveWindow = [w, file = p.value("screenshot")] {
            QTimer::singleShot(100, w, [w, file] {
                const bool ok = w->grab().save(file);
                std::printf("preflab: %s %s\n", ok ? "wrote" : "could not write", qPrintable(file));
                QApplication::exit(ok ? 0 : 1);
            });
        };
        if (p.value("screenshot-tab") == QLatin1String("agreement")) {
            AgreementView* a = w->agreement();
            QObject::connect(a, &AgreementView::loaded, w, saveWindow, Qt::SingleShotConnection);
            w->showTab(a);
            return app.exec();
        }
        if (p.value("screenshot-tab") == QLatin1String("project")) {
            w->labelingView()->setAnnotator(QStringLiteral("screenshot"));
            if (!wb->startProject(2)) return 1;
            QObject::connect(wb->project(), &LabelingProjectSession::queueChanged, w, saveWindow, Qt::SingleShotConnection);
            return app.exec();
        }
        if (p.value("screenshot-tab") == QLatin1String("adjudication")) {
            AdjudicationView* a = w->adjudication();
            QObject::connect(a, &AdjudicationView::loaded, w, saveWindow, Qt::SingleShotConnection);
            w->showTab(a);
            return app.exec();
        }
        if (p.value("screenshot-tab") == QLatin1String("frontiers")) {
            if (!p.isSet("comparison")) {
                std::fprintf(stderr, "preflab: --screenshot-tab frontiers needs --comparison DIR\n");
                return 2;
            }
            MethodFrontiers* f = w->methodFrontiers();
            w->showTab(f);
            QObject::connect(f, &MethodFrontiers::failed, w, [](const QString& m) {
                std::fprintf(stderr, "preflab: %s\n", qPrintable(m));
                QApplication::exit(1);
            });
            QObject::connect(f, &MethodFrontiers::loaded, w, saveWindow);
            f->openFolder(p.value("comparison"));
            return app.exec();
        }
        RunConfig demo = demoConfig();
        demo.judge = p.value("screenshot-judge").toStdString();
        if (p.isSet("screenshot-algorithm")) demo.algorithm = p.value("screenshot-algorithm").toStdString();
        if (demo.judge != "task") demo.annotator = "screenshot";
        demo.steps = 60;
        demo.evalEvery = 10;
        demo.evalSamples = 32;
        auto start = [wb, demo] { wb->startRun(demo); };
        if (c->starterModelReady()) {
            QTimer::singleShot(0, w, start);
        } else {
            std::printf("preflab: pretraining the starter model first (about 3 minutes)\n");
            auto* job = new StarterModelJob(c->starterModelPath(), 0, w);
            QObject::connect(job, &StarterModelJob::finished, w, [start](bool ok, const QString& m) {
                if (!ok) {
                    std::fprintf(stderr, "preflab: %s\n", qPrintable(m));
                    QApplication::exit(1);
                    return;
                }
                start();
            });
            job->start();
        }
        const QString tab = p.value("screenshot-tab");
        if (tab != QLatin1String("live") && tab != QLatin1String("compare") && tab != QLatin1String("completions")) {
            std::fprintf(stderr, "preflab: --screenshot-tab %s: expected live, compare or completions\n", qPrintable(tab));
            return 2;
        }
        // Let a pending replot land, then grab, stop the run and quit.
        auto grab = [w, c, file] {
            QTimer::singleShot(100, w, [w, c, file] {
                const bool ok = w->grab().save(file);
                std::printf("preflab: %s %s\n", ok ? "wrote" : "could not write", qPrintable(file));
                c->stop();
                QObject::connect(c, &RunController::runEnded, w, [ok] { QApplication::exit(ok ? 0 : 1); });
            });
        };
        auto* poll = new QTimer(w);
        QObject::connect(poll, &QTimer::timeout, w, [w, poll, tab, grab] {
            if (w->plots()->maxStep() < 20 || w->plots()->pointCount(QStringLiteral("gold/reward")) < 3) return;
            poll->stop();
            if (tab == QLatin1String("compare")) {
                RunHistory* history = w->runHistory();
                QObject::connect(w->runComparison(), &RunComparison::loaded, w, [w, grab] {
                    w->runComparison()->setXAxis(RunComparison::XAxis::ExactKl);
                    grab();
                }, Qt::SingleShotConnection);
                QObject::connect(history, &RunHistory::runsChanged, w, [history](const QVector<RunSummary>& runs) {
                    QVector<qint64> ids;
                    for (const RunSummary& r : runs) ids << r.run.id;
                    history->selectRuns(ids);
                    history->compareSelected();
                }, Qt::SingleShotConnection);
                history->refresh();
            } else if (tab == QLatin1String("completions")) {
                QObject::connect(w->completions(), &CompletionsView::loaded, w, grab, Qt::SingleShotConnection);
                w->showTab(w->completions());
            } else {
                grab();
            }
        });
        poll->start(100);
        return app.exec();
    }

    w->loadSettings(settings);
    if (w->size().width() < 800) w->resize(1440, 900);
    w->show();
    if (p.isSet("comparison")) {
        w->showTab(w->methodFrontiers());
        w->methodFrontiers()->openFolder(p.value("comparison"));
    }
    if (!c->starterModelReady()) {
        // First run: pretrain, then offer the demonstration.
        QTimer::singleShot(0, w, [wb, w, c] {
            pretrainWithDialog(w, c, [wb, w](bool ok) {
                if (!ok) return;
                QMessageBox box(QMessageBox::Question, QObject::tr("PrefLab"),
                                QObject::tr("The starter model is ready. Start a demo run? The task judge labels the pairs "
                                            "and you watch gold reward rise and KL to the reference grow."),
                                QMessageBox::NoButton, w);
                QPushButton* yes = box.addButton(QObject::tr("Start a demo run"), QMessageBox::AcceptRole);
                box.addButton(QObject::tr("Not now"), QMessageBox::RejectRole);
                box.exec();
                if (box.clickedButton() == yes) wb->startRun(demoConfig());
            });
        });
    }
    const int code = app.exec();
    w->saveSettings(settings);
    settings.setValue(QStringLiteral("last_database"), dbPath);
    workbench.reset();  // ordered shutdown: the window, then the run (writes flushed), then the reader
    return code;
}

}  // namespace preflab
