#include "storage/postgres_connection.h"

#include <libpq-fe.h>

#include <QByteArray>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <utility>
#include <vector>

namespace preflab {
namespace {

// Type OIDs from PostgreSQL's catalog (pg_type.dat; server headers are not
// part of libpq-dev): stable since PostgreSQL 7.
constexpr Oid kInt8Oid = 20;
constexpr Oid kFloat8Oid = 701;
constexpr Oid kTextOid = 25;

// The lock every PrefLab writer takes (pg_advisory_xact_lock): "PrefLab" in
// ASCII, so it is unlikely to collide with another application's key.
constexpr const char* kWriteLock = "SELECT pg_advisory_xact_lock(5796583813980514)";

// `?` and `?N` placeholders become `$N`, outside quoted strings and names.
// Returns the number of parameters.
int toDollarPlaceholders(const std::string& sql, std::string& out) {
    out.clear();
    out.reserve(sql.size() + 8);
    int plain = 0, highest = 0;
    char quote = 0;
    for (size_t i = 0; i < sql.size(); ++i) {
        const char c = sql[i];
        if (quote) {
            out += c;
            if (c == quote) quote = 0;
            continue;
        }
        if (c == '\'' || c == '"') {
            quote = c;
            out += c;
            continue;
        }
        if (c != '?') {
            out += c;
            continue;
        }
        size_t j = i + 1;
        int n = 0;
        while (j < sql.size() && sql[j] >= '0' && sql[j] <= '9') n = n * 10 + (sql[j++] - '0');
        if (j == i + 1) n = ++plain;
        i = j - 1;
        highest = std::max(highest, n);
        out += '$' + std::to_string(n);
    }
    return highest;
}

std::string sqlstateOf(const PGresult* r) {
    const char* s = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
    return s ? s : "";
}

std::string trimmed(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}

// PostgreSQL's text holds valid UTF-8 without NUL; SQLite's holds any bytes.
// A byte-level model can stop inside a character (and a file can hold
// "\u0000"), so such bytes are stored as U+FFFD: the text reads the same in
// the workbench, which shows invalid bytes that way on either engine.
// Written by hand: QString's round trip would copy every text, valid or not.
bool isStorableUtf8(const std::string& s) {
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const size_t n = s.size();
    for (size_t i = 0; i < n;) {
        const unsigned char c = p[i];
        if (c >= 0x01 && c < 0x80) {
            ++i;
            continue;
        }
        size_t len = 0;
        uint32_t cp = 0;
        if (c >= 0xC2 && c <= 0xDF) len = 2, cp = c & 0x1F;
        else if (c >= 0xE0 && c <= 0xEF) len = 3, cp = c & 0x0F;
        else if (c >= 0xF0 && c <= 0xF4) len = 4, cp = c & 0x07;
        else return false;  // NUL, a continuation byte, or an invalid lead
        if (i + len > n) return false;
        for (size_t k = 1; k < len; ++k) {
            if ((p[i + k] & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (p[i + k] & 0x3F);
        }
        if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF))) {
            return false;  // overlong, a surrogate, or beyond Unicode
        }
        i += len;
    }
    return true;
}

std::string storableUtf8Impl(const std::string& s) {
    if (isStorableUtf8(s)) return s;
    std::string out;
    out.reserve(s.size() + 8);
    // One byte at a time: a valid sequence is copied, anything else is U+FFFD.
    for (size_t i = 0; i < s.size();) {
        size_t len = 1;
        const auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0xC2 && c <= 0xDF) len = 2;
        else if (c >= 0xE0 && c <= 0xEF) len = 3;
        else if (c >= 0xF0 && c <= 0xF4) len = 4;
        const std::string piece = s.substr(i, len);
        if (piece.size() == len && isStorableUtf8(piece)) {
            out += piece;
            i += len;
        } else {
            out += "\xEF\xBF\xBD";
            ++i;
        }
    }
    return out;
}

struct ResultGuard {
    PGresult* r;
    ~ResultGuard() { PQclear(r); }
};

}  // namespace

bool isPostgresUrl(const std::string& location) {
    return location.rfind("postgresql://", 0) == 0 || location.rfind("postgres://", 0) == 0;
}

std::string storableUtf8(const std::string& s) {
    return storableUtf8Impl(s);
}

namespace {

// A URL's secrets as byte ranges [begin, end) of the URL, in order.
//
// libpq (conninfo_uri_parse_options, checked against libpq 15 with
// PQconninfoParse) reads postgresql://[user[:password]@]hosts[/dbname][?k=v&...]:
// the user part ends at the first '@' before the path, query keys and values
// are percent-decoded once, and keys are case-sensitive ("PASSWORD=" is an
// error, "pass%77ord=" is the password). Here the user part runs to the *last*
// '@' before the path, and a key counts as a password's when any number of
// decodings, in any letter case, contains "password": wider than libpq, so
// that a secret typed in a spelling libpq refuses (and then quotes in its
// error) is hidden too.
std::vector<std::pair<size_t, size_t>> secretRanges(const std::string& url) {
    std::vector<std::pair<size_t, size_t>> out;
    const size_t scheme = url.find("://");
    if (scheme == std::string::npos) return out;
    const size_t start = scheme + 3;
    const size_t query = url.find('?', start);
    const size_t pathEnd = std::min(url.find('/', start), query);
    const size_t at = url.rfind('@', pathEnd == std::string::npos ? std::string::npos : pathEnd - 1);
    if (at != std::string::npos && at >= start && (pathEnd == std::string::npos || at < pathEnd)) {
        const size_t colon = url.find(':', start);
        if (colon < at) out.emplace_back(colon + 1, at);
    }
    if (query == std::string::npos) return out;
    auto namesPassword = [](const std::string& key) {
        QByteArray k = QByteArray::fromStdString(key);
        for (int i = 0; i < 8; ++i) {  // %2570 decodes to %70, then to p
            const QByteArray decoded = QByteArray::fromPercentEncoding(k);
            if (decoded.toLower().contains("password")) return true;
            if (decoded == k) break;
            k = decoded;
        }
        return k.toLower().contains("password");
    };
    for (size_t p = query + 1; p <= url.size();) {
        size_t end = url.find('&', p);
        if (end == std::string::npos) end = url.size();
        const size_t eq = url.find('=', p);
        if (eq < end) {
            if (namesPassword(url.substr(p, eq - p))) out.emplace_back(eq + 1, end);
        } else if (namesPassword(url.substr(p, end - p))) {
            out.emplace_back(p, end);  // "pass%77ord%3DSECRET": no '=' libpq sees, but a secret all the same
        }
        p = end + 1;
    }
    return out;
}

}  // namespace

std::string withoutPassword(const std::string& url) {
    std::string out;
    size_t from = 0;
    for (const auto& [begin, end] : secretRanges(url)) {
        out += url.substr(from, begin - from) + "***";
        from = end;
    }
    return out + url.substr(from);
}

bool carriesPassword(const std::string& url) {
    if (!secretRanges(url).empty()) return true;
    char* error = nullptr;
    PQconninfoOption* options = PQconninfoParse(url.c_str(), &error);
    PQfreemem(error);
    bool found = false;
    for (PQconninfoOption* o = options; o && o->keyword; ++o) {
        const std::string key = o->keyword;
        found |= (key == "password" || key == "sslpassword") && o->val != nullptr;
    }
    PQconninfoFree(options);
    return found;
}

PostgresLocation describePostgresUrl(const std::string& url) {
    PostgresLocation out{"", "the local socket"};  // libpq's default without a host
    char* error = nullptr;
    PQconninfoOption* options = PQconninfoParse(url.c_str(), &error);
    PQfreemem(error);
    if (!options) return {withoutPassword(url), ""};
    std::string user;
    for (PQconninfoOption* o = options; o->keyword; ++o) {
        if (!o->val || !*o->val) continue;
        const std::string key = o->keyword;
        if (key == "dbname") out.database = o->val;
        else if (key == "host") out.host = o->val;
        else if (key == "user") user = o->val;
    }
    PQconninfoFree(options);
    if (out.database.empty()) out.database = user.empty() ? "postgres" : user;  // libpq's default: the user's name
    if (!out.host.empty() && out.host.front() == '/') out.host = "the local socket";
    return out;
}

PostgresConnection::PostgresConnection(const std::string& url) : m_url(withoutPassword(url)) {
    // Refused before anything else, so that no message can carry it: a
    // password in the URL's user part or in a password= parameter.
    if (carriesPassword(url)) {
        throw StorageError("the PostgreSQL URL carries a password, which PrefLab does not accept there (it would be kept "
                           "in shell history, the process list, settings and run configs): remove it from the URL and "
                           "put it in ~/.pgpass or PGPASSWORD");
    }
    char* parseError = nullptr;
    PQconninfoOption* options = PQconninfoParse(url.c_str(), &parseError);
    if (!options) {
        const std::string why = parseError ? trimmed(parseError) : "out of memory";
        PQfreemem(parseError);
        throw StorageError(withoutPassword(url) + ": not a usable PostgreSQL URL: " + why);
    }
    PQconninfoFree(options);
    // A connect timeout unless the URL sets one (later parameters override
    // earlier ones): an unreachable host fails in seconds, not minutes.
    const char* keywords[] = {"connect_timeout", "fallback_application_name", "client_encoding", "dbname", nullptr};
    const char* values[] = {"10", "preflab", "UTF8", url.c_str(), nullptr};
    m_conn = PQconnectdbParams(keywords, values, 1);
    if (!m_conn || PQstatus(m_conn) != CONNECTION_OK) {
        const std::string why = m_conn ? trimmed(PQerrorMessage(m_conn)) : "out of memory";
        PQfinish(m_conn);
        m_conn = nullptr;
        throw StorageError(withoutPassword(url) + ": cannot connect to the PostgreSQL server: " + why);
    }
    configureSession();
}

void PostgresConnection::configureSession() {
    // libpq prints the server's notices on stderr by default ("relation
    // already exists, skipping"); PrefLab reports errors, not notices.
    PQsetNoticeProcessor(m_conn, [](void*, const char*) {}, nullptr);
    exec("SET lock_timeout = '10s'");
}

void PostgresConnection::ensureConnected() {
    if (m_inTransaction || PQstatus(m_conn) != CONNECTION_BAD) return;
    PQreset(m_conn);
    m_prepared.clear();  // the new session has none
    if (PQstatus(m_conn) != CONNECTION_OK) {
        throw StorageError(m_url + ": cannot reconnect to the PostgreSQL server: " + trimmed(PQerrorMessage(m_conn)));
    }
    configureSession();
}

PostgresConnection::~PostgresConnection() {
    PQfinish(m_conn);
}

void PostgresConnection::fail(const std::string& what, const std::string& message, const char* sqlstate) const {
    const std::string state = sqlstate ? sqlstate : "";
    std::string msg = m_url + ": " + what + ": " + trimmed(message);
    if (state == "53100") msg += " (the server's disk is full; nothing from this write was stored)";
    if (state == "55P03") {
        msg += " (another PrefLab writer, an import for instance, has held the database's write lock for 10 s; "
               "nothing from this write was stored: try again when it is done)";
    }
    if (state.rfind("08", 0) == 0 || PQstatus(m_conn) == CONNECTION_BAD) {
        msg += m_committing ? " (the connection to the server was lost during COMMIT: the server may or may not have "
                              "stored this write)"
                            : " (the connection to the server was lost; nothing from this write was stored; the next "
                              "statement reconnects)";
    }
    throw StorageError(msg);
}

void PostgresConnection::exec(const std::string& sql) {
    ensureConnected();
    ResultGuard r{PQexec(m_conn, sql.c_str())};
    const ExecStatusType st = PQresultStatus(r.r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        fail("statement failed", PQerrorMessage(m_conn), sqlstateOf(r.r).c_str());
    }
}

void PostgresConnection::beginWrite() {
    exec("BEGIN");
    m_inTransaction = true;
    try {
        exec(kWriteLock);
    } catch (...) {
        rollbackQuietly();
        throw;
    }
}

void PostgresConnection::commit() {
    m_committing = true;
    try {
        exec("COMMIT");
    } catch (...) {
        m_committing = m_inTransaction = false;
        throw;
    }
    m_committing = m_inTransaction = false;
}

void PostgresConnection::rollbackQuietly() noexcept {
    m_inTransaction = false;
    if (PQstatus(m_conn) == CONNECTION_OK) PQclear(PQexec(m_conn, "ROLLBACK"));
}

bool PostgresConnection::tlsInUse() const {
    return PQsslInUse(m_conn) == 1;
}

std::string PostgresConnection::transportDescription() const {
    if (tlsInUse()) {
        const char* protocol = PQsslAttribute(m_conn, "protocol");
        return std::string("TLS") + (protocol ? std::string(" (") + protocol + ")" : "");
    }
    const char* host = PQhost(m_conn);
    if (host && *host == '/') return "a local Unix socket (no TLS needed)";
    return "not encrypted (the server offers no TLS, or sslmode=disable)";
}

const std::string& PostgresConnection::preparedName(const std::string& sql, const std::vector<unsigned>& types) {
    std::string key = sql;
    key += '\0';
    for (unsigned t : types) key += std::to_string(t) + ',';
    const auto it = m_prepared.find(key);
    if (it != m_prepared.end()) return it->second;
    const std::string name = "preflab_" + std::to_string(m_prepared.size());
    std::vector<Oid> oids(types.begin(), types.end());
    ResultGuard r{PQprepare(m_conn, name.c_str(), sql.c_str(), static_cast<int>(oids.size()), oids.data())};
    if (PQresultStatus(r.r) != PGRES_COMMAND_OK) {
        fail("cannot prepare '" + sql.substr(0, 60) + "'", PQerrorMessage(m_conn), sqlstateOf(r.r).c_str());
    }
    return m_prepared.emplace(std::move(key), name).first->second;
}

// Parameters and results travel as text (libpq's text format): PrefLab binds
// only integers, doubles and UTF-8 strings, whose text forms are exact
// (%.17g round-trips a double).
class PostgresStatement final : public StatementBackend {
public:
    PostgresStatement(PostgresConnection& db, const std::string& sql) : m_db(db) {
        const int n = toDollarPlaceholders(sql, m_sql);
        m_values.resize(static_cast<size_t>(n));
        m_types.assign(static_cast<size_t>(n), 0u);
    }
    ~PostgresStatement() override { PQclear(m_result); }

    void bind(int index, int64_t value) override { set(index, std::to_string(value), kInt8Oid); }
    void bind(int index, double value) override {
        if (std::isnan(value)) {  // as SQLite stores it: NULL
            bindNull(index, SqlType::Real);
            return;
        }
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.17g", value);  // "nan", "inf": float8in reads both
        set(index, buf, kFloat8Oid);
    }
    void bind(int index, const std::string& value) override { set(index, storableUtf8Impl(value), kTextOid); }
    void bindNull(int index, SqlType type) override {
        check(index);
        m_values[static_cast<size_t>(index - 1)].reset();
        m_types[static_cast<size_t>(index - 1)] =
            type == SqlType::Integer ? kInt8Oid : type == SqlType::Real ? kFloat8Oid : kTextOid;
    }

    bool step() override {
        if (!m_result) execute();
        return ++m_row < PQntuples(m_result);
    }
    void reset() override {
        PQclear(m_result);
        m_result = nullptr;
        m_row = -1;
        for (auto& v : m_values) v.reset();
    }

    int64_t int64(int column) const override {
        const char* v = value(column);
        if (v[0] == 't' || v[0] == 'f') return v[0] == 't';  // a boolean column
        return std::strtoll(v, nullptr, 10);
    }
    double real(int column) const override { return std::strtod(value(column), nullptr); }
    std::string text(int column) const override {
        const char* v = value(column);
        return std::string(v, static_cast<size_t>(PQgetlength(m_result, m_row, column)));
    }
    bool isNull(int column) const override {
        value(column);  // checks the row and column
        return PQgetisnull(m_result, m_row, column) == 1;
    }
    std::optional<int64_t> insertedId() override {
        std::optional<int64_t> id;
        if (step()) id = int64(0);  // the RETURNING id row, absent when nothing was inserted
        reset();
        return id;
    }

private:
    void check(int index) const {
        if (index < 1 || static_cast<size_t>(index) > m_values.size()) {
            throw StorageError(m_db.path() + ": parameter " + std::to_string(index) + " out of range for '" +
                               m_sql.substr(0, 60) + "'");
        }
    }
    void set(int index, std::string v, Oid type) {
        check(index);
        m_values[static_cast<size_t>(index - 1)] = std::move(v);
        m_types[static_cast<size_t>(index - 1)] = type;
    }
    const char* value(int column) const {
        if (!m_result || m_row < 0 || m_row >= PQntuples(m_result) || column < 0 || column >= PQnfields(m_result)) {
            throw StorageError(m_db.path() + ": no row or column " + std::to_string(column) + " to read in '" +
                               m_sql.substr(0, 60) + "'");
        }
        return PQgetvalue(m_result, m_row, column);
    }

    void execute() {
        m_db.ensureConnected();
        const std::string& name = m_db.preparedName(m_sql, m_types);
        std::vector<const char*> params(m_values.size());
        for (size_t i = 0; i < m_values.size(); ++i) params[i] = m_values[i] ? m_values[i]->c_str() : nullptr;
        m_result = PQexecPrepared(m_db.m_conn, name.c_str(), static_cast<int>(params.size()), params.data(), nullptr,
                                  nullptr, 0);
        const ExecStatusType st = PQresultStatus(m_result);
        if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
            const std::string state = sqlstateOf(m_result);
            const std::string message = PQerrorMessage(m_db.m_conn);
            PQclear(m_result);
            m_result = nullptr;
            m_db.fail("write or query failed", message, state.c_str());
        }
        const char* changed = PQcmdTuples(m_result);
        m_db.m_changes = (changed && *changed) ? std::strtoll(changed, nullptr, 10) : 0;
        m_row = -1;
    }

    PostgresConnection& m_db;
    std::string m_sql;
    std::vector<std::optional<std::string>> m_values;
    std::vector<unsigned> m_types;
    PGresult* m_result = nullptr;
    int m_row = -1;
};

std::unique_ptr<StatementBackend> PostgresConnection::prepare(const std::string& sql, SqlReturning returning) {
    return std::make_unique<PostgresStatement>(*this, returning == SqlReturning::Id ? sql + " RETURNING id" : sql);
}

}  // namespace preflab
