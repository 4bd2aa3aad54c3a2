#pragma once
// Opens a PrefLab database: checks that the file is SQLite and intact before
// touching it, migrates the schema in one transaction, and sets WAL, full
// synchronous commits and foreign keys. One Database per thread.
#include "storage/sqlite_connection.h"

#include <memory>
#include <string>

namespace preflab {

class Database {
public:
    enum class Mode { OpenOrCreate, OpenExisting };
    // Throws StorageError naming the file and the problem; a file that fails a
    // check is left exactly as it was.
    static std::unique_ptr<Database> open(const std::string& path, Mode mode = Mode::OpenOrCreate);
    // Opens without migrating (tests of older schema versions); `targetVersion`
    // migrations are applied.
    static std::unique_ptr<Database> openAtVersion(const std::string& path, int targetVersion);

    SqliteConnection& connection() { return *m_conn; }
    int schemaVersion();
    // The database's identity: a UUID stored in it when it was created
    // (checkpoint folders are keyed by it; checkpoint_paths.h).
    std::string identity();
    const std::string& path() const { return m_conn->path(); }

private:
    explicit Database(std::unique_ptr<SqliteConnection> conn) : m_conn(std::move(conn)) {}
    void configure();
    void migrateTo(int version);
    std::unique_ptr<SqliteConnection> m_conn;
};

}  // namespace preflab
