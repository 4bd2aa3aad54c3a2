#include "storage/sqlite_connection.h"

#include <sqlite3.h>

namespace preflab {

namespace {

// Once, before SQLite initialises: no global memory statistics, whose mutex
// every allocation took (measured: ~8 % of an import). Has no effect (and
// does no harm) when something else initialised SQLite first.
void configureSqliteOnce() {
    static const bool done = [] {
        sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
        return true;
    }();
    (void)done;
}

}  // namespace

SqliteConnection::SqliteConnection(const std::string& path, bool create) : m_path(path) {
    configureSqliteOnce();
    const int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_NOMUTEX;
    const int rc = sqlite3_open_v2(path.c_str(), &m_db, flags, nullptr);
    if (rc != SQLITE_OK) {
        const std::string msg = m_db ? sqlite3_errmsg(m_db) : sqlite3_errstr(rc);
        sqlite3_close(m_db);
        m_db = nullptr;
        throw StorageError(path + ": cannot open database: " + msg, rc);
    }
    sqlite3_extended_result_codes(m_db, 0);
    // SQLITE_OPEN_READWRITE quietly opens a write-protected file read-only;
    // PrefLab writes to every database it opens, so say so now.
    if (sqlite3_db_readonly(m_db, "main") == 1) {
        sqlite3_close(m_db);
        m_db = nullptr;
        throw StorageError(path + ": the database is read-only (this user may not write the file); PrefLab stores runs "
                                  "and labels in it: make it writable or choose another database (--db)",
                           SQLITE_READONLY);
    }
    // Another process may be writing: wait for its lock (up to 10 s) from the
    // very first statement, the integrity check at open included.
    sqlite3_busy_timeout(m_db, 10000);
}

SqliteConnection::~SqliteConnection() {
    for (auto& [sql, stmt] : m_prepared) sqlite3_finalize(stmt);
    sqlite3_close_v2(m_db);
}

sqlite3_stmt* SqliteConnection::takePrepared(const std::string& sql) {
    const auto it = m_prepared.find(sql);
    if (it != m_prepared.end()) {
        sqlite3_stmt* stmt = it->second;
        m_prepared.erase(it);
        return stmt;
    }
    sqlite3_stmt* stmt = nullptr;
    const int rc = sqlite3_prepare_v2(m_db, sql.c_str(), -1, &stmt, nullptr);
    if (rc != SQLITE_OK) fail("cannot prepare '" + sql.substr(0, 60) + "'", rc);
    return stmt;
}

void SqliteConnection::giveBack(std::string sql, sqlite3_stmt* stmt) {
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    if (m_prepared.size() >= kCachedStatements || !m_prepared.emplace(std::move(sql), stmt).second) {
        sqlite3_finalize(stmt);
    }
}

void SqliteConnection::fail(const std::string& what, int code) const {
    std::string msg = m_path + ": " + what + ": " + sqlite3_errmsg(m_db);
    if (code == SQLITE_FULL) msg += " (the disk is full; nothing from this write was stored)";
    if (code == SQLITE_CORRUPT || code == SQLITE_NOTADB) msg += " (the database file is damaged)";
    if (code == SQLITE_READONLY || code == SQLITE_CANTOPEN) {
        msg += " (the database or its folder is read-only: SQLite also writes " + m_path + "-wal and " + m_path +
               "-shm beside it)";
    }
    throw StorageError(msg, code);
}

void SqliteConnection::exec(const std::string& sql) {
    char* err = nullptr;
    const int rc = sqlite3_exec(m_db, sql.c_str(), nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
        sqlite3_free(err);
        fail("statement failed", rc);
    }
}

int64_t SqliteConnection::changes() {
    return sqlite3_changes(m_db);
}

void SqliteConnection::rollbackQuietly() noexcept {
    sqlite3_exec(m_db, "ROLLBACK", nullptr, nullptr, nullptr);
}

class SqliteStatement final : public StatementBackend {
public:
    SqliteStatement(SqliteConnection& db, const std::string& sql) : m_db(db), m_stmt(db.takePrepared(sql)), m_sql(sql) {}
    ~SqliteStatement() override { m_db.giveBack(std::move(m_sql), m_stmt); }

    void bind(int index, int64_t value) override { sqlite3_bind_int64(m_stmt, index, value); }
    void bind(int index, double value) override { sqlite3_bind_double(m_stmt, index, value); }
    void bind(int index, const std::string& value) override {
        sqlite3_bind_text(m_stmt, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
    }
    void bindNull(int index, SqlType) override { sqlite3_bind_null(m_stmt, index); }

    bool step() override {
        const int rc = sqlite3_step(m_stmt);
        if (rc == SQLITE_ROW) return true;
        if (rc == SQLITE_DONE) return false;
        m_db.fail("write or query failed", rc);
    }
    void reset() override {
        sqlite3_reset(m_stmt);
        sqlite3_clear_bindings(m_stmt);
    }

    int64_t int64(int column) const override { return sqlite3_column_int64(m_stmt, column); }
    double real(int column) const override { return sqlite3_column_double(m_stmt, column); }
    std::string text(int column) const override {
        const unsigned char* t = sqlite3_column_text(m_stmt, column);
        return t ? std::string(reinterpret_cast<const char*>(t), static_cast<size_t>(sqlite3_column_bytes(m_stmt, column)))
                 : std::string();
    }
    bool isNull(int column) const override { return sqlite3_column_type(m_stmt, column) == SQLITE_NULL; }
    std::optional<int64_t> insertedId() override {
        while (step()) {
        }
        reset();
        if (sqlite3_changes(m_db.m_db) != 1) return std::nullopt;
        return sqlite3_last_insert_rowid(m_db.m_db);
    }

private:
    SqliteConnection& m_db;
    sqlite3_stmt* m_stmt = nullptr;
    std::string m_sql;
};

std::unique_ptr<StatementBackend> SqliteConnection::prepare(const std::string& sql, SqlReturning) {
    return std::make_unique<SqliteStatement>(*this, sql);
}

}  // namespace preflab
