#include "app/gui/gui_app.h"

#include "app/gui/first_run.h"
#include "app/gui/screenshot_mode.h"
#include "app/gui/workbench.h"
#include "storage/data_paths.h"
#include "storage/database.h"
#include "ui/main_window.h"
#include "ui/method_frontiers.h"
#include "preflab_version.h"

#include <clocale>
#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QInputDialog>
#include <QLineEdit>
#include <QMessageBox>
#include <QSettings>

#include <cstdio>
#include <memory>

namespace preflab {

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
    addScreenshotOptions(p);
    p.addOption({QStringLiteral("comparison"),
                 QStringLiteral("Open the method comparison preflab-compare wrote into DIR (its --out) in its tab."),
                 QStringLiteral("dir")});
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

    if (screenshot) return runScreenshot(p, *wb);

    w->loadSettings(settings);
    if (w->size().width() < 800) w->resize(1440, 900);
    w->show();
    if (p.isSet("comparison")) {
        w->showTab(w->methodFrontiers());
        w->methodFrontiers()->openFolder(p.value("comparison"));
    }
    offerFirstRun(wb);
    const int code = app.exec();
    w->saveSettings(settings);
    settings.setValue(QStringLiteral("last_database"), dbPath);
    workbench.reset();  // ordered shutdown: the window, then the run (writes flushed), then the reader
    return code;
}

}  // namespace preflab
