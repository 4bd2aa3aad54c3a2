#include "storage/database.h"

#include "storage/schema_migrations.h"

#include <sqlite3.h>

#include <cstring>
#include <filesystem>
#include <fstream>

namespace preflab {
namespace {

void checkFileIsSqlite(const std::string& path) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    if (ec || size == 0) return;  // empty file: SQLite treats it as a new database
    std::ifstream in(path, std::ios::binary);
    char header[16] = {};
    in.read(header, sizeof header);
    if (in.gcount() < 16 || std::memcmp(header, "SQLite format 3\0", 16) != 0) {
        throw StorageError(path + ": not a PrefLab database (the file is not SQLite); it was left untouched");
    }
}

int userVersion(SqliteConnection& c) {
    SqliteStatement s(c, "PRAGMA user_version");
    return s.step() ? static_cast<int>(s.int64(0)) : 0;
}

void checkIntegrity(SqliteConnection& c) {
    std::string result;
    try {
        SqliteStatement s(c, "PRAGMA quick_check");
        while (s.step()) result += (result.empty() ? "" : "; ") + s.text(0);
    } catch (const StorageError& e) {
        // A database that cannot be read for lack of write access (WAL needs
        // its -shm file) is not damaged: pass that error on as it is.
        if (e.code() == SQLITE_READONLY || e.code() == SQLITE_CANTOPEN) throw;
        throw StorageError(c.path() + ": the database failed its integrity check (" + e.what() +
                           "); it was left untouched", e.code());
    }
    if (result != "ok") {
        throw StorageError(c.path() + ": the database failed its integrity check: " + result.substr(0, 300) +
                           "; it was left untouched");
    }
}

}  // namespace

std::unique_ptr<Database> Database::open(const std::string& path, Mode mode) {
    const bool exists = std::filesystem::exists(path);
    if (!exists && mode == Mode::OpenExisting) throw StorageError(path + ": no such database");
    if (exists) checkFileIsSqlite(path);
    std::unique_ptr<Database> db(new Database(std::make_unique<SqliteConnection>(path, !exists)));
    checkIntegrity(*db->m_conn);
    const int version = userVersion(*db->m_conn);
    if (version > latestSchemaVersion()) {
        throw StorageError(path + ": made by a newer PrefLab (schema version " + std::to_string(version) +
                           ", this build knows up to " + std::to_string(latestSchemaVersion()) + ")");
    }
    if (version == 0) {
        SqliteStatement s(*db->m_conn, "SELECT count(*) FROM sqlite_master");
        if (s.step() && s.int64(0) > 0) {
            throw StorageError(path + ": an SQLite database that is not PrefLab's (it has tables but no PrefLab schema "
                                      "version); it was left untouched");
        }
    }
    db->configure();
    db->migrateTo(latestSchemaVersion());
    return db;
}

std::unique_ptr<Database> Database::openAtVersion(const std::string& path, int targetVersion) {
    std::unique_ptr<Database> db(new Database(std::make_unique<SqliteConnection>(path, true)));
    db->configure();
    db->migrateTo(targetVersion);
    return db;
}

void Database::configure() {
    m_conn->exec("PRAGMA journal_mode = WAL");
    // FULL: a commit is on disk when it returns, so an acknowledged label
    // survives a crash of the process or of the machine.
    m_conn->exec("PRAGMA synchronous = FULL");
    m_conn->exec("PRAGMA foreign_keys = ON");
}

int Database::schemaVersion() {
    return userVersion(*m_conn);
}

std::string Database::identity() {
    SqliteStatement s(*m_conn, "SELECT uuid FROM database_identity WHERE singleton = 1");
    if (!s.step()) throw StorageError(path() + ": the database has no identity row (database_identity is empty)");
    return s.text(0);
}

void Database::migrateTo(int target) {
    if (userVersion(*m_conn) >= target) return;
    // Read the version again under the write lock: another process creating
    // the same database may have migrated it in the meantime.
    Transaction tx(*m_conn);
    const int from = userVersion(*m_conn);
    if (from >= target) return;
    for (int v = from; v < target; ++v) m_conn->exec(schemaMigrations()[static_cast<size_t>(v)]);
    m_conn->exec("PRAGMA user_version = " + std::to_string(target));
    tx.commit();
}

}  // namespace preflab
