// preflab guidelines: the labeling guidelines annotators read (issue 31),
// set from a Markdown file or printed. For a run's pairs with --run, else
// for every stored pair (a labeling project); `preflab annotate` and the
// workbench's labeling view show the ones in force.
#include "app/cli/commands.h"
#include "core/values/label.h"
#include "core/values/person_names.h"
#include "storage/data_paths.h"
#include "storage/database.h"
#include "storage/guidelines_store.h"

#include <QCommandLineParser>
#include <QFile>

#include <cstdio>

namespace preflab {

int runGuidelinesCommand(const QStringList& args) {
    QCommandLineParser p;
    p.setApplicationDescription(
        "Labeling guidelines: the Markdown text annotators see before and beside each pair (the workbench's labeling "
        "view, `preflab annotate`). Without --set or --clear, prints the guidelines in force. Earlier versions are "
        "kept.");
    p.addHelpOption();
    p.addOption(databaseCommandLineOption());
    p.addOption({"run", "This run's guidelines (default: every stored pair's, a labeling project's).", "id"});
    p.addOption({"set", "Set the guidelines from this Markdown file.", "file"});
    p.addOption({"clear", "Take the guidelines away (stored as an empty version)."});
    p.addOption({"author", "Who wrote them (stored with them).", "name"});
    p.process(QStringList{"preflab guidelines"} + args);
    std::optional<int64_t> run;
    if (!idOption(p, "guidelines", "run", run)) return 2;
    if (p.isSet("set") && p.isSet("clear")) {
        std::fprintf(stderr, "preflab guidelines: --set and --clear exclude each other\n");
        return 2;
    }
    try {
        auto db = Database::open(p.isSet("db") ? p.value("db").toStdString() : defaultDatabasePath(),
                                 Database::Mode::OpenExisting);
        GuidelinesStore store(*db);
        if (p.isSet("set") || p.isSet("clear")) {
            std::string text;
            if (p.isSet("set")) {
                QFile f(p.value("set"));
                if (!f.open(QIODevice::ReadOnly)) {
                    std::fprintf(stderr, "preflab guidelines: cannot read %s: %s\n", qPrintable(p.value("set")),
                                 qPrintable(f.errorString()));
                    return 1;
                }
                text = QString::fromUtf8(f.readAll()).trimmed().toStdString();
                if (text.empty()) {
                    std::fprintf(stderr, "preflab guidelines: %s is empty (--clear takes guidelines away)\n",
                                 qPrintable(p.value("set")));
                    return 2;
                }
            }
            Transaction tx(db->connection());
            store.insert({run, text, p.value("author").toStdString(), nowMs()});
            tx.commit();
            std::printf(text.empty() ? "Guidelines cleared.\n" : "Guidelines set (%zu characters).\n", text.size());
            return 0;
        }
        const std::optional<GuidelinesRow> g = store.current(run);
        if (!g) {
            std::printf("No guidelines are set. `preflab guidelines --set FILE` sets them from a Markdown file.\n");
            return 0;
        }
        std::printf("%s\n", terminalSafe(g->text, true).c_str());  // a file's escape sequences are not the terminal's
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "preflab guidelines: %s\n", e.what());
        return 1;
    }
}

}  // namespace preflab
