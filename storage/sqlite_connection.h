#pragma once
// A thin RAII layer over the sqlite3 C API: one connection per thread, prepared
// statements, transactions that roll back unless committed. Errors throw
// StorageError with the file name and SQLite's message. Written by hand (about
// 150 lines) because QtSql hides the result codes (SQLITE_FULL, SQLITE_NOTADB)
// that PrefLab turns into actionable messages.
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <unordered_map>

struct sqlite3;
struct sqlite3_stmt;

namespace preflab {

class StorageError : public std::runtime_error {
public:
    StorageError(const std::string& message, int code = 0) : std::runtime_error(message), m_code(code) {}
    int code() const { return m_code; }  // SQLite primary result code, 0 if none
private:
    int m_code;
};

class SqliteConnection;

class SqliteStatement {
public:
    SqliteStatement(SqliteConnection& db, const std::string& sql);
    ~SqliteStatement();
    SqliteStatement(const SqliteStatement&) = delete;
    SqliteStatement& operator=(const SqliteStatement&) = delete;

    SqliteStatement& bind(int index, int64_t value);
    SqliteStatement& bind(int index, double value);
    SqliteStatement& bind(int index, const std::string& value);
    SqliteStatement& bindNull(int index);
    template <typename T>
    SqliteStatement& bind(int index, const std::optional<T>& value) {
        return value ? bind(index, *value) : bindNull(index);
    }
    // Steps once; true while a row is available.
    bool step();
    // Runs to completion (for statements without rows).
    void run();
    void reset();

    int64_t int64(int column) const;
    double real(int column) const;
    std::string text(int column) const;
    bool isNull(int column) const;

private:
    SqliteConnection& m_db;
    sqlite3_stmt* m_stmt = nullptr;
    std::string m_sql;
};

class SqliteConnection {
public:
    // Opens an existing file, or creates it when `create` is true.
    SqliteConnection(const std::string& path, bool create);
    ~SqliteConnection();
    SqliteConnection(const SqliteConnection&) = delete;
    SqliteConnection& operator=(const SqliteConnection&) = delete;

    void exec(const std::string& sql);
    int64_t lastInsertId() const;
    const std::string& path() const { return m_path; }
    sqlite3* handle() const { return m_db; }
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

// BEGIN IMMEDIATE on construction; ROLLBACK on destruction unless commit() ran.
class Transaction {
public:
    explicit Transaction(SqliteConnection& db);
    ~Transaction();
    void commit();

private:
    SqliteConnection& m_db;
    bool m_done = false;
};

}  // namespace preflab
