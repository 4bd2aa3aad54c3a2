#pragma once
// Where a storage test keeps its database. By default a file in the test's
// temporary folder; with PREFLAB_TEST_ENGINE=postgres (the *_postgres
// variants CTest registers) a new, empty database in the throwaway cluster
// that tests/support/pg_cluster.sh started (PREFLAB_TEST_PG_STATE names its
// state folder). A missing cluster is a failure, never a skip.
#include "storage/postgres_connection.h"

#include <QFile>
#include <QHash>
#include <QTemporaryDir>
#include <QtGlobal>

#include <atomic>
#include <stdexcept>
#include <string>
#include <unistd.h>

namespace preflab::test {

inline bool testingPostgres() {
    return qEnvironmentVariable("PREFLAB_TEST_ENGINE") == QLatin1String("postgres");
}

// The cluster's settings (URLs, pgpass file) from pg_cluster.sh's state
// folder; PGPASSFILE is set for this process and the commands it starts.
inline QHash<QString, QString> postgresCluster() {
    const QString state = qEnvironmentVariable("PREFLAB_TEST_PG_STATE");
    QFile env(state + QStringLiteral("/env"));
    if (state.isEmpty() || !env.open(QIODevice::ReadOnly)) {
        throw std::runtime_error("the PostgreSQL test cluster is not running (no " + env.fileName().toStdString() +
                                 "): run the tests through CTest, whose fixture starts it");
    }
    QHash<QString, QString> out;
    for (const QByteArray& line : env.readAll().split('\n')) {
        const int eq = line.indexOf('=');
        if (eq > 0) out.insert(QString::fromUtf8(line.left(eq)), QString::fromUtf8(line.mid(eq + 1)));
    }
    qputenv("PGPASSFILE", out.value(QStringLiteral("PREFLAB_TEST_PG_PASSFILE")).toUtf8());
    return out;
}

// A new, empty PostgreSQL database in the cluster, reached over its Unix
// socket (`tcp`: over 127.0.0.1, with TLS); returns its URL.
inline std::string createPostgresDatabase(const std::string& name, bool tcp = false) {
    static std::atomic<int> counter{0};
    const QHash<QString, QString> cluster = postgresCluster();
    const std::string base =
        cluster.value(tcp ? QStringLiteral("PREFLAB_TEST_PG_TCP_URL") : QStringLiteral("PREFLAB_TEST_PG_SOCKET_URL"))
            .toStdString();
    const std::string db = "t" + std::to_string(getpid()) + "_" + std::to_string(counter++) + "_" + name;
    PostgresConnection admin(base + "/postgres");
    admin.exec("CREATE DATABASE \"" + db + "\"");
    return base + "/" + db;
}

// A new database for a test: `dir`/`name`.db, or a PostgreSQL database.
inline std::string testDatabase(const QTemporaryDir& dir, const QString& name) {
    if (testingPostgres()) return createPostgresDatabase(name.toStdString());
    return (dir.path() + QLatin1Char('/') + name + QStringLiteral(".db")).toStdString();
}

}  // namespace preflab::test
