#pragma once
// One database connection, whatever the engine: SQLite (a file) or PostgreSQL
// (a team's shared server). Repositories write one SQL text for both (the
// common subset: `?` or `?N` placeholders, ON CONFLICT, no PRAGMA) through
// SqlStatement; Transaction holds the write lock until commit() or rolls back.
// Errors throw StorageError naming the file or server and what went wrong.
// One connection per thread.
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace preflab {

class StorageError : public std::runtime_error {
public:
    StorageError(const std::string& message, int code = 0) : std::runtime_error(message), m_code(code) {}
    // SQLite's primary result code; 0 for PostgreSQL and errors of PrefLab's own.
    int code() const { return m_code; }

private:
    int m_code;
};

enum class SqlDialect { Sqlite, Postgres };

// The type of a bound value (PostgreSQL is told it, so that `?1 IS NULL OR
// run_id = ?1` needs no guessing).
enum class SqlType { Integer, Real, Text };

// Whether an INSERT reports the id of its row (SqlStatement::insertedId):
// SQLite reads it from the connection (its RETURNING clause made imports a
// quarter slower, measured), PostgreSQL from a RETURNING id clause that it
// adds (one round trip instead of two).
enum class SqlReturning { Nothing, Id };

// One prepared statement of an engine (implementation side of SqlStatement).
class StatementBackend {
public:
    virtual ~StatementBackend() = default;
    virtual void bind(int index, int64_t value) = 0;
    virtual void bind(int index, double value) = 0;
    virtual void bind(int index, const std::string& value) = 0;
    virtual void bindNull(int index, SqlType type) = 0;
    virtual bool step() = 0;
    virtual void reset() = 0;
    virtual int64_t int64(int column) const = 0;
    virtual double real(int column) const = 0;
    virtual std::string text(int column) const = 0;
    virtual bool isNull(int column) const = 0;
    virtual std::optional<int64_t> insertedId() = 0;
};

class SqlConnection {
public:
    virtual ~SqlConnection() = default;
    virtual SqlDialect dialect() const = 0;
    // Runs one or more statements without parameters or rows.
    virtual void exec(const std::string& sql) = 0;
    // Rows the last INSERT, UPDATE or DELETE changed.
    virtual int64_t changes() = 0;
    // The file, or the server and database (never a password): for messages.
    virtual const std::string& path() const = 0;
    virtual std::unique_ptr<StatementBackend> prepare(const std::string& sql, SqlReturning returning) = 0;
    // BEGIN that holds the database's write lock until COMMIT or ROLLBACK, so
    // that a transaction's reads and writes are serialised against every other
    // writer, on either engine.
    virtual void beginWrite() = 0;
    virtual void commit() = 0;
    // Never throws: used from destructors.
    virtual void rollbackQuietly() noexcept = 0;
};

class SqlStatement {
public:
    SqlStatement(SqlConnection& db, const std::string& sql, SqlReturning returning = SqlReturning::Nothing)
        : m_impl(db.prepare(sql, returning)) {}
    SqlStatement(const SqlStatement&) = delete;
    SqlStatement& operator=(const SqlStatement&) = delete;

    SqlStatement& bind(int index, int64_t value) { m_impl->bind(index, value); return *this; }
    SqlStatement& bind(int index, double value) { m_impl->bind(index, value); return *this; }
    SqlStatement& bind(int index, const std::string& value) { m_impl->bind(index, value); return *this; }
    SqlStatement& bindNull(int index, SqlType type) { m_impl->bindNull(index, type); return *this; }
    template <typename T>
    SqlStatement& bind(int index, const std::optional<T>& value) {
        if (value) return bind(index, *value);
        if constexpr (std::is_floating_point_v<T>) return bindNull(index, SqlType::Real);
        else if constexpr (std::is_integral_v<T>) return bindNull(index, SqlType::Integer);
        else return bindNull(index, SqlType::Text);
    }
    // Steps once; true while a row is available.
    bool step() { return m_impl->step(); }
    // Runs to completion (for statements without rows); bindings are cleared.
    void run() {
        while (step()) {
        }
        reset();
    }
    void reset() { m_impl->reset(); }
    // Runs an INSERT made with SqlReturning::Id and returns the new row's id,
    // or nothing when it inserted no row (ON CONFLICT DO NOTHING); bindings
    // are cleared.
    std::optional<int64_t> insertedId() { return m_impl->insertedId(); }
    // The same, for an INSERT that always inserts.
    int64_t insertedIdOrThrow() {
        const std::optional<int64_t> id = insertedId();
        if (!id) throw StorageError("an INSERT stored no row");
        return *id;
    }

    int64_t int64(int column) const { return m_impl->int64(column); }
    double real(int column) const { return m_impl->real(column); }
    std::string text(int column) const { return m_impl->text(column); }
    bool isNull(int column) const { return m_impl->isNull(column); }

private:
    std::unique_ptr<StatementBackend> m_impl;
};

// The write lock on construction (SqlConnection::beginWrite); ROLLBACK on
// destruction unless commit() ran.
class Transaction {
public:
    explicit Transaction(SqlConnection& db) : m_db(db) { m_db.beginWrite(); }
    ~Transaction() {
        if (!m_done) m_db.rollbackQuietly();
    }
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    // A COMMIT that fails leaves m_done unset: the destructor rolls back
    // (SQLite keeps the transaction open after a failed COMMIT).
    void commit() {
        m_db.commit();
        m_done = true;
    }

private:
    SqlConnection& m_db;
    bool m_done = false;
};

}  // namespace preflab
