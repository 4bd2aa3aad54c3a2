#pragma once
// The PostgreSQL engine of SqlConnection, for a team's shared database:
// libpq's C API, with a URL such as postgresql://ann@db.lab:5432/preflab.
//
// Written over libpq itself rather than QtSql's QPSQL plugin: the URL goes to
// libpq unchanged, so every libpq setting (sslmode, sslrootcert,
// connect_timeout, service, ...) and its usual password sources (~/.pgpass,
// PGPASSWORD, PGPASSFILE) work as a PostgreSQL user expects, errors keep their
// SQLSTATE (disk full, lost connection), and the storage library needs no
// plugin found at run time.
#include "storage/sql_connection.h"

#include <unordered_map>
#include <vector>

struct pg_conn;

namespace preflab {

// True for a postgresql:// or postgres:// URL.
bool isPostgresUrl(const std::string& location);
// The URL with every secret in it replaced by "***", for messages: the
// password of the user part (user:SECRET@host) and the value of every query
// parameter whose name, percent-decoded as libpq decodes it (repeatedly, and
// in any letter case, so that spellings libpq refuses are covered too),
// contains "password" (password, pass%77ord, %70assword, sslpassword, ...).
// Every message that shows a URL passes it through this first.
std::string withoutPassword(const std::string& url);
// Whether the URL carries a password in any spelling: a user part with a
// password, any parameter withoutPassword() would hide, or a password or
// sslpassword that libpq's own parser (PQconninfoParse) finds in it.
bool carriesPassword(const std::string& url);
// Text as PostgreSQL stores it: valid UTF-8 without NUL; other bytes become
// U+FFFD (see PostgresStatement::bind).
std::string storableUtf8(const std::string& s);

// The database and host a URL names (libpq's defaults where it names none:
// the user's name, the local socket).
struct PostgresLocation {
    std::string database, host;
};
PostgresLocation describePostgresUrl(const std::string& url);

class PostgresConnection final : public SqlConnection {
public:
    // Connects; throws StorageError naming the server. A URL that carries a
    // password is refused: it would be kept in shell history, the process
    // list, settings and run configs (libpq reads ~/.pgpass and PGPASSWORD).
    explicit PostgresConnection(const std::string& url);
    ~PostgresConnection() override;
    PostgresConnection(const PostgresConnection&) = delete;
    PostgresConnection& operator=(const PostgresConnection&) = delete;

    SqlDialect dialect() const override { return SqlDialect::Postgres; }
    void exec(const std::string& sql) override;
    int64_t changes() override { return m_changes; }
    const std::string& path() const override { return m_url; }
    std::unique_ptr<StatementBackend> prepare(const std::string& sql, SqlReturning returning) override;
    // BEGIN, then a transaction-scoped advisory lock that every PrefLab writer
    // takes: writers are serialised as SQLite's BEGIN IMMEDIATE serialises
    // them, so the repositories' read-then-write steps (the next run index,
    // a prompt's id) mean the same on both engines. A connection the server
    // dropped is re-established before the next statement outside a
    // transaction (ensureConnected), so a server restart costs one error.
    // Another writer's lock is awaited for at most 10 s (SQLite's busy
    // timeout); then the write fails, naming the wait.
    void beginWrite() override;
    void commit() override;
    void rollbackQuietly() noexcept override;

    // Whether the connection is encrypted, and how ("TLSv1.3") or why not.
    bool tlsInUse() const;
    std::string transportDescription() const;

private:
    friend class PostgresStatement;
    [[noreturn]] void fail(const std::string& what, const std::string& message, const char* sqlstate) const;
    void ensureConnected();
    void configureSession();
    // The server-side name of a prepared statement for this text and these
    // parameter types, preparing it the first time.
    const std::string& preparedName(const std::string& sql, const std::vector<unsigned>& types);

    pg_conn* m_conn = nullptr;
    std::string m_url;
    std::unordered_map<std::string, std::string> m_prepared;
    int64_t m_changes = 0;
    bool m_inTransaction = false;
    bool m_committing = false;
};

}  // namespace preflab
