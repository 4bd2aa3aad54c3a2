#pragma once
// The subcommands of `preflab`. Each takes the arguments after its name and
// returns the process exit code (0 ok, 1 failure, 2 usage error).
#include <QCommandLineOption>
#include <QStringList>

namespace preflab {

// --db, the same for every subcommand: a file, or a team's PostgreSQL URL.
inline QCommandLineOption databaseCommandLineOption() {
    return {"db",
            "Database: a file (default: preflab.db in the user data directory), or a team's "
            "postgresql://user@host[:port]/dbname[?sslmode=...] (the password comes from ~/.pgpass or PGPASSWORD, "
            "never the URL).",
            "file-or-url"};
}

int runPretrainCommand(const QStringList& args);
int runRunCommand(const QStringList& args);
int runImportCommand(const QStringList& args);
int runExportCommand(const QStringList& args);
int runRunsCommand(const QStringList& args);
int runTrainRewardModelCommand(const QStringList& args);
int runTokenizeCommand(const QStringList& args);
int runExportModelCommand(const QStringList& args);
int runAgreementCommand(const QStringList& args);
int runAdjudicateCommand(const QStringList& args);
int runAnnotateCommand(const QStringList& args);
// The built-in demonstration: pretrain if needed, then a short task-judge run.
int runDemo(const QStringList& args);

}  // namespace preflab
