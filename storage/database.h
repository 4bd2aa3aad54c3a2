#pragma once
// Opens a PrefLab database: an SQLite file, or a team's PostgreSQL database
// given as a postgresql:// URL. For a file: checks that it is SQLite and
// intact before touching it, and sets WAL, full synchronous commits and
// foreign keys. Either way the schema is migrated in one transaction. One
// Database per thread.
#include "storage/sql_connection.h"

#include <memory>
#include <string>

namespace preflab {

// A short name for a database location, for a window title: the file's
// name, or "dbname on host" for a PostgreSQL URL.
std::string databaseTitle(const std::string& location);
// Whether a failure to open `location` was the server asking for a password
// (none given, or a wrong one): the GUI then asks for it.
bool isPasswordFailure(const std::string& location, const std::string& error);

class Database {
public:
    enum class Mode { OpenOrCreate, OpenExisting };
    // `location`: a file path or a postgresql:// URL. Throws StorageError
    // naming the file or server and the problem; a database that fails a check
    // is left exactly as it was.
    static std::unique_ptr<Database> open(const std::string& location, Mode mode = Mode::OpenOrCreate);
    // Opens without migrating (tests of older schema versions); `targetVersion`
    // migrations are applied.
    static std::unique_ptr<Database> openAtVersion(const std::string& path, int targetVersion);

    SqlConnection& connection() { return *m_conn; }
    SqlDialect dialect() const { return m_conn->dialect(); }
    int schemaVersion();
    // The database's identity: a UUID stored in it when it was created
    // (checkpoint folders are keyed by it; checkpoint_paths.h).
    std::string identity();
    // The file, or the URL (which never carries a password).
    const std::string& path() const { return m_conn->path(); }
    // How the connection travels: "a local file", "TLS (TLSv1.3)", ...
    std::string transportDescription() const;

private:
    explicit Database(std::unique_ptr<SqlConnection> conn) : m_conn(std::move(conn)) {}
    void configure();
    void migrateTo(int version);
    static std::unique_ptr<Database> openPostgres(const std::string& url);
    std::unique_ptr<SqlConnection> m_conn;
};

}  // namespace preflab
