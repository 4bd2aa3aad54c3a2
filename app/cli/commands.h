#pragma once
// The subcommands of `preflab`. Each takes the arguments after its name and
// returns the process exit code (0 ok, 1 failure, 2 usage error).
#include <QCommandLineOption>
#include <QCommandLineParser>
#include <QStringList>

#include <cstdint>
#include <cstdio>
#include <optional>

namespace preflab {

// --db, the same for every subcommand: a file, or a team's PostgreSQL URL.
inline QCommandLineOption databaseCommandLineOption() {
    return {"db",
            "Database: a file (default: preflab.db in the user data directory), or a team's "
            "postgresql://user@host[:port]/dbname[?sslmode=...] (the password comes from ~/.pgpass or PGPASSWORD, "
            "never the URL).",
            "file-or-url"};
}

// A numeric option's value (--run ID): false, after printing why on stderr,
// when it is set and not a whole number, so that `--run abc` is a usage
// error before anything is opened or written, not run 0.
inline bool idOption(const QCommandLineParser& p, const char* command, const char* name, std::optional<int64_t>& out) {
    out.reset();
    if (!p.isSet(QLatin1String(name))) return true;
    bool ok = false;
    const qint64 v = p.value(QLatin1String(name)).trimmed().toLongLong(&ok);
    if (!ok) {
        std::fprintf(stderr, "preflab %s: --%s takes a number, not '%s'\n", command, name,
                     qPrintable(p.value(QLatin1String(name))));
        return false;
    }
    out = v;
    return true;
}

int runPretrainCommand(const QStringList& args);
int runRunCommand(const QStringList& args);
int runImportCommand(const QStringList& args);
int runExportCommand(const QStringList& args);
int runRunsCommand(const QStringList& args);
int runTrainRewardModelCommand(const QStringList& args);
int runScoreCommand(const QStringList& args);
int runTokenizeCommand(const QStringList& args);
int runExportModelCommand(const QStringList& args);
int runAgreementCommand(const QStringList& args);
int runAdjudicateCommand(const QStringList& args);
int runGuidelinesCommand(const QStringList& args);
int runGoldCommand(const QStringList& args);
int runRenderChatCommand(const QStringList& args);
int runAnnotateCommand(const QStringList& args);
int runLessonCommand(const QStringList& args);
// The built-in demonstration: pretrain if needed, then a short task-judge run.
int runDemo(const QStringList& args);

}  // namespace preflab
