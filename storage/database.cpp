#include "storage/database.h"

#include "storage/postgres_connection.h"
#include "storage/schema_migrations.h"
#include "storage/sqlite_connection.h"

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

// SQLite keeps the schema version in the file header (user_version);
// PostgreSQL in a one-row table that the first migration transaction creates.
constexpr const char* kPostgresVersionTable = "preflab_schema_version";

int userVersion(SqlConnection& c) {
    if (c.dialect() == SqlDialect::Postgres) {
        SqlStatement exists(c, std::string("SELECT to_regclass('") + kPostgresVersionTable + "') IS NOT NULL");
        if (!exists.step() || exists.int64(0) == 0) return 0;
        SqlStatement s(c, std::string("SELECT version FROM ") + kPostgresVersionTable);
        return s.step() ? static_cast<int>(s.int64(0)) : 0;
    }
    SqlStatement s(c, "PRAGMA user_version");
    return s.step() ? static_cast<int>(s.int64(0)) : 0;
}

void setUserVersion(SqlConnection& c, int version) {
    if (c.dialect() == SqlDialect::Postgres) {
        c.exec(std::string("CREATE TABLE IF NOT EXISTS ") + kPostgresVersionTable + "(version BIGINT NOT NULL)");
        c.exec(std::string("DELETE FROM ") + kPostgresVersionTable);
        c.exec(std::string("INSERT INTO ") + kPostgresVersionTable + "(version) VALUES(" + std::to_string(version) + ")");
        return;
    }
    c.exec("PRAGMA user_version = " + std::to_string(version));
}

void checkNewer(SqlConnection& c, int version) {
    if (version > latestSchemaVersion()) {
        throw StorageError(c.path() + ": made by a newer PrefLab (schema version " + std::to_string(version) +
                           ", this build knows up to " + std::to_string(latestSchemaVersion()) + ")");
    }
}

void checkIntegrity(SqlConnection& c) {
    std::string result;
    try {
        SqlStatement s(c, "PRAGMA quick_check");
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

std::string databaseTitle(const std::string& location) {
    if (!isPostgresUrl(location)) return std::filesystem::path(location).filename().string();
    const PostgresLocation where = describePostgresUrl(location);
    return where.database + " on " + where.host;
}

bool isPasswordFailure(const std::string& location, const std::string& error) {
    return isPostgresUrl(location) && (error.find("password authentication failed") != std::string::npos ||
                                       error.find("no password supplied") != std::string::npos);
}

std::unique_ptr<Database> Database::openPostgres(const std::string& url) {
    std::unique_ptr<Database> db(new Database(std::make_unique<PostgresConnection>(url)));
    if (userVersion(*db->m_conn) == 0) {
        SqlStatement s(*db->m_conn,
                       "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() "
                       "AND table_name <> 'preflab_schema_version'");
        // Read the version after the tables: another process creating the
        // schema may have committed between the two reads.
        if (s.step() && s.int64(0) > 0 && userVersion(*db->m_conn) == 0) {
            throw StorageError(withoutPassword(url) + ": a PostgreSQL database that is not PrefLab's (its schema has tables but no "
                                     "PrefLab schema version); it was left untouched");
        }
    }
    checkNewer(*db->m_conn, userVersion(*db->m_conn));
    db->migrateTo(latestSchemaVersion());
    return db;
}

std::unique_ptr<Database> Database::open(const std::string& path, Mode mode) {
    // A team's database is created by its administrator (createdb); both
    // modes connect to it and create PrefLab's tables when it has none.
    if (isPostgresUrl(path)) return openPostgres(path);
    // SQLite opens a private temporary database for "" that vanishes at exit,
    // so an import would report success into nothing (`--db "$DB"` with DB unset).
    if (path.empty()) {
        throw StorageError("no database given: the database path is empty (an unset variable in --db \"$DB\"?)");
    }
    const bool exists = std::filesystem::exists(path);
    if (!exists) {
        const std::filesystem::path folder = std::filesystem::path(path).parent_path();
        std::error_code ec;
        if (!folder.empty() && !std::filesystem::is_directory(folder, ec)) {
            throw StorageError(path + ": the folder " + folder.string() + " does not exist; nothing was created");
        }
    }
    if (!exists && mode == Mode::OpenExisting) throw StorageError(path + ": no such database");
    if (exists) checkFileIsSqlite(path);
    std::unique_ptr<Database> db(new Database(std::make_unique<SqliteConnection>(path, !exists)));
    checkIntegrity(*db->m_conn);
    if (userVersion(*db->m_conn) == 0) {
        SqlStatement s(*db->m_conn, "SELECT count(*) FROM sqlite_master");
        // Read the version after the tables: another process creating the
        // same database may have committed its schema between the two reads
        // (seen in tst_faults' two runs started at once on a loaded machine).
        if (s.step() && s.int64(0) > 0 && userVersion(*db->m_conn) == 0) {
            throw StorageError(path + ": an SQLite database that is not PrefLab's (it has tables but no PrefLab schema "
                                      "version); it was left untouched");
        }
    }
    checkNewer(*db->m_conn, userVersion(*db->m_conn));
    db->configure();
    db->migrateTo(latestSchemaVersion());
    return db;
}

std::unique_ptr<Database> Database::openAtVersion(const std::string& path, int targetVersion) {
    std::unique_ptr<Database> db(isPostgresUrl(path) ? new Database(std::make_unique<PostgresConnection>(path))
                                                     : new Database(std::make_unique<SqliteConnection>(path, true)));
    db->configure();
    db->migrateTo(targetVersion);
    return db;
}

void Database::configure() {
    if (dialect() == SqlDialect::Postgres) return;  // durable commits and foreign keys are the server's defaults
    // 32 KiB pages for a new file (an existing one keeps its own): fewer,
    // shallower B-tree pages. Importing 100,000 pairs went from about 44,000
    // to 52,000 pairs/s (4 KiB to 32 KiB; 16 KiB: 50,000; 64 KiB: 53,500, but
    // each one-label commit would write 64 KiB pages to the WAL).
    m_conn->exec("PRAGMA page_size = 32768");
    // The WAL is copied back into the file at about 4 MiB, as with SQLite's
    // default of 1,000 4 KiB pages.
    m_conn->exec("PRAGMA wal_autocheckpoint = 128");
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
    SqlStatement s(*m_conn, "SELECT uuid FROM database_identity WHERE singleton = 1");
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
    for (int v = from; v < target; ++v) {
        m_conn->exec(schemaMigrations(dialect())[static_cast<size_t>(v)]);
        migrationCode(v + 1, *m_conn);
    }
    setUserVersion(*m_conn, target);
    tx.commit();
}

std::string Database::transportDescription() const {
    if (const auto* pg = dynamic_cast<const PostgresConnection*>(m_conn.get())) return pg->transportDescription();
    return "a local file";
}

}  // namespace preflab
