#pragma once
// The SQLite engine of SqlConnection: a thin RAII layer over the sqlite3 C API
// with a cache of prepared statements. Written by hand (about 150 lines)
// because QtSql hides the result codes (SQLITE_FULL, SQLITE_NOTADB) that
// PrefLab turns into actionable messages.
#include "storage/sql_connection.h"

#include <unordered_map>

struct sqlite3;
struct sqlite3_stmt;

namespace preflab {

class SqliteConnection final : public SqlConnection {
public:
    // Opens an existing file, or creates it when `create` is true.
    SqliteConnection(const std::string& path, bool create);
    ~SqliteConnection() override;
    SqliteConnection(const SqliteConnection&) = delete;
    SqliteConnection& operator=(const SqliteConnection&) = delete;

    SqlDialect dialect() const override { return SqlDialect::Sqlite; }
    void exec(const std::string& sql) override;
    int64_t changes() override;
    const std::string& path() const override { return m_path; }
    std::unique_ptr<StatementBackend> prepare(const std::string& sql, SqlReturning returning) override;
    void beginWrite() override { exec("BEGIN IMMEDIATE"); }
    void commit() override { exec("COMMIT"); }
    void rollbackQuietly() noexcept override;

    [[noreturn]] void fail(const std::string& what, int code) const;

private:
    friend class SqliteStatement;
    // Prepared statements are kept per SQL text and reused (reset, bindings
    // cleared): preparing cost more than running for the import's small
    // inserts. A statement in use is out of the cache, so nesting is safe.
    sqlite3_stmt* takePrepared(const std::string& sql);
    void giveBack(std::string sql, sqlite3_stmt* stmt);
    static constexpr size_t kCachedStatements = 64;

    sqlite3* m_db = nullptr;
    std::string m_path;
    std::unordered_map<std::string, sqlite3_stmt*> m_prepared;
};

}  // namespace preflab
