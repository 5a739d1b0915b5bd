// SqliteAccountStore: accounts, tokens and owned files in SQLite, one
// transaction per call. Statements are prepared per call: account traffic is a
// few requests per user action, far from the rate where caching them would
// matter.
#include "accounts/sqlite_account_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <limits>
#include <string_view>
#include <unistd.h>

#include "core/check.h"

namespace satload::accounts {
namespace {

// Migration N (1-based) takes the account schema from N-1 to N. Append only.
constexpr std::string_view kMigrations[] = {
    // 1: users, tokens (sessions and API tokens, hashed) and owned files.
    R"sql(
CREATE TABLE account_users (
    account_id           INTEGER PRIMARY KEY,
    username             TEXT NOT NULL UNIQUE,
    salt                 BLOB NOT NULL CHECK (length(salt) = 16),
    auth_hash            BLOB NOT NULL CHECK (length(auth_hash) = 32),
    master_by_password   BLOB NOT NULL CHECK (length(master_by_password) = 60),
    recovery_auth_hash   BLOB NOT NULL CHECK (length(recovery_auth_hash) = 32),
    master_by_recovery   BLOB NOT NULL CHECK (length(master_by_recovery) = 60),
    quota_override_bytes INTEGER CHECK (quota_override_bytes IS NULL OR quota_override_bytes >= 0),
    created_s            INTEGER NOT NULL
) STRICT;
CREATE TABLE account_tokens (
    token_id   INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES account_users (account_id) ON DELETE CASCADE,
    kind       TEXT NOT NULL CHECK (kind IN ('session', 'api')),
    name       TEXT NOT NULL,
    token_hash BLOB NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    created_s  INTEGER NOT NULL,
    expires_s  INTEGER,
    revoked    INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1))
) STRICT;
CREATE INDEX account_tokens_by_account ON account_tokens (account_id, kind, token_id);
CREATE TABLE account_files (
    file_id        TEXT PRIMARY KEY NOT NULL,
    account_id     INTEGER NOT NULL REFERENCES account_users (account_id) ON DELETE CASCADE,
    wrapped_secret BLOB NOT NULL CHECK (length(wrapped_secret) = 44),
    size_bytes     INTEGER NOT NULL CHECK (size_bytes >= 0),
    created_s      INTEGER NOT NULL
) STRICT;
CREATE INDEX account_files_by_account ON account_files (account_id, file_id);
)sql",
};
static_assert(std::size(kMigrations) == kSqliteAccountSchemaVersion,
              "kSqliteAccountSchemaVersion must equal the number of migrations");

constexpr const char* kUserColumns =
    "account_id, username, salt, auth_hash, master_by_password, "
    "recovery_auth_hash, "
    "master_by_recovery, quota_override_bytes, created_s";
constexpr const char* kTokenColumns =
    "token_id, account_id, kind, name, token_hash, created_s, expires_s, "
    "revoked";
constexpr const char* kFileColumns = "file_id, account_id, wrapped_secret, size_bytes, created_s";

StoreFailure sqlite_failure(sqlite3* db, std::string_view what) {
    const int code = sqlite3_extended_errcode(db);
    std::string message(what);
    message += ": ";
    message += sqlite3_errmsg(db);
    const bool duplicate = code == SQLITE_CONSTRAINT_PRIMARYKEY || code == SQLITE_CONSTRAINT_UNIQUE;
    return StoreFailure{duplicate ? StoreError::exists : StoreError::io, std::move(message)};
}

StoreResult<sqlite3_int64> to_db(std::uint64_t value) {
    if (value > static_cast<std::uint64_t>(std::numeric_limits<sqlite3_int64>::max())) {
        return fail(StoreFailure{StoreError::io, "value too large for the database"});
    }
    return static_cast<sqlite3_int64>(value);
}

sqlite3_int64 limit_to_db(std::size_t limit) {
    constexpr auto max = static_cast<std::size_t>(std::numeric_limits<sqlite3_int64>::max());
    return static_cast<sqlite3_int64>(std::min(limit, max));
}

// One statement prepared for one call; bindings assert, since they only fail on
// a bad index.
class Query {
public:
    Query(sqlite3* db, const std::string& sql) {
        m_rc = sqlite3_prepare_v2(db, sql.c_str(), -1, &m_s, nullptr);
    }
    ~Query() { sqlite3_finalize(m_s); }
    Query(const Query&) = delete;
    Query& operator=(const Query&) = delete;

    [[nodiscard]] bool prepared() const { return m_rc == SQLITE_OK; }
    Query& text(int i, std::string_view v) {
        SATLOAD_ASSERT(sqlite3_bind_text64(m_s, i, v.data(), v.size(), SQLITE_TRANSIENT,
                                           SQLITE_UTF8) == SQLITE_OK);
        return *this;
    }
    Query& blob(int i, ByteSpan v) {
        SATLOAD_ASSERT(sqlite3_bind_blob64(m_s, i,
                                           v.empty() ? "" : static_cast<const void*>(v.data()),
                                           v.size(), SQLITE_TRANSIENT) == SQLITE_OK);
        return *this;
    }
    Query& i64(int i, sqlite3_int64 v) {
        SATLOAD_ASSERT(sqlite3_bind_int64(m_s, i, v) == SQLITE_OK);
        return *this;
    }
    Query& null(int i) {
        SATLOAD_ASSERT(sqlite3_bind_null(m_s, i) == SQLITE_OK);
        return *this;
    }
    [[nodiscard]] int step() { return sqlite3_step(m_s); }
    [[nodiscard]] sqlite3_stmt* get() const { return m_s; }

private:
    sqlite3_stmt* m_s = nullptr;
    int m_rc;
};

std::string column_text(sqlite3_stmt* s, int i) {
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(s, i));
    const int size = sqlite3_column_bytes(s, i);
    return text ? std::string(text, static_cast<std::size_t>(size)) : std::string();
}
Bytes column_blob(sqlite3_stmt* s, int i) {
    const auto* data = static_cast<const std::uint8_t*>(sqlite3_column_blob(s, i));
    const int size = sqlite3_column_bytes(s, i);
    return data ? Bytes(data, data + size) : Bytes();
}
template <std::size_t N>
std::array<std::uint8_t, N> column_array(sqlite3_stmt* s, int i) {
    const Bytes b = column_blob(s, i);
    SATLOAD_ASSERT(b.size() == N);  // the schema's CHECK constraints fix these lengths
    std::array<std::uint8_t, N> out{};
    std::copy(b.begin(), b.end(), out.begin());
    return out;
}
std::uint64_t column_u64(sqlite3_stmt* s, int i) {
    const sqlite3_int64 v = sqlite3_column_int64(s, i);
    SATLOAD_ASSERT(v >= 0);
    return static_cast<std::uint64_t>(v);
}

AccountRecord read_user(sqlite3_stmt* s) {
    AccountRecord a;
    a.account_id = sqlite3_column_int64(s, 0);
    a.username = column_text(s, 1);
    a.password.salt = column_array<crypto::kAccountSaltBytes>(s, 2);
    a.password.auth_hash = column_array<32>(s, 3);
    a.password.master_by_password = column_blob(s, 4);
    a.recovery_auth_hash = column_array<32>(s, 5);
    a.master_by_recovery = column_blob(s, 6);
    if (sqlite3_column_type(s, 7) != SQLITE_NULL) a.quota_override_bytes = column_u64(s, 7);
    a.created_s = sqlite3_column_int64(s, 8);
    return a;
}

TokenRecord read_token(sqlite3_stmt* s) {
    TokenRecord t;
    t.token_id = sqlite3_column_int64(s, 0);
    t.account_id = sqlite3_column_int64(s, 1);
    t.kind = column_text(s, 2) == "api" ? TokenKind::api : TokenKind::session;
    t.name = column_text(s, 3);
    t.token_hash = column_array<32>(s, 4);
    t.created_s = sqlite3_column_int64(s, 5);
    if (sqlite3_column_type(s, 6) != SQLITE_NULL) t.expires_s = sqlite3_column_int64(s, 6);
    t.revoked = sqlite3_column_int64(s, 7) != 0;
    return t;
}

OwnedFileRecord read_file(sqlite3_stmt* s) {
    OwnedFileRecord f;
    f.file_id = column_text(s, 0);
    f.account_id = sqlite3_column_int64(s, 1);
    f.wrapped_secret = column_blob(s, 2);
    f.size_bytes = column_u64(s, 3);
    f.created_s = sqlite3_column_int64(s, 4);
    return f;
}

const char* kind_text(TokenKind kind) { return kind == TokenKind::api ? "api" : "session"; }

StoreResult<void> exec(sqlite3* db, const std::string& sql, std::string_view what) {
    if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
        return fail(sqlite_failure(db, what));
    }
    return {};
}

// Rolls back unless committed, so every early return leaves the database as it
// was.
class Transaction {
public:
    explicit Transaction(sqlite3* db) : m_db(db) {}
    ~Transaction() {
        if (m_open) sqlite3_exec(m_db, "ROLLBACK", nullptr, nullptr, nullptr);
    }
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    // Writers take the write lock up front so a read-then-write never fails on
    // lock upgrade.
    StoreResult<void> begin(bool write) {
        if (auto r = exec(m_db, write ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED", "begin"); !r) {
            return r;
        }
        m_open = true;
        return {};
    }
    StoreResult<void> commit() {
        if (auto r = exec(m_db, "COMMIT", "commit"); !r) return r;
        m_open = false;
        return {};
    }

private:
    sqlite3* m_db;
    bool m_open = false;
};

// Runs a statement that returns no rows; gives the number of rows changed.
StoreResult<int> run(sqlite3* db, Query& q, std::string_view what) {
    if (!q.prepared() || q.step() != SQLITE_DONE) return fail(sqlite_failure(db, what));
    return sqlite3_changes(db);
}

// Collects every row of a SELECT through `read`.
template <class T, class Read>
StoreResult<std::vector<T>> collect(sqlite3* db, Query& q, Read read, std::string_view what) {
    if (!q.prepared()) return fail(sqlite_failure(db, what));
    std::vector<T> out;
    for (;;) {
        const int rc = q.step();
        if (rc == SQLITE_DONE) return out;
        if (rc != SQLITE_ROW) return fail(sqlite_failure(db, what));
        out.push_back(read(q.get()));
    }
}

template <class T, class Read>
StoreResult<std::optional<T>> first(sqlite3* db, Query& q, Read read, std::string_view what) {
    auto rows = collect<T>(db, q, read, what);
    if (!rows) return fail(rows.error());
    if (rows->empty()) return std::optional<T>();
    return std::optional<T>(std::move(rows->front()));
}

StoreResult<int> read_version(sqlite3* db) {
    Query q(db, "SELECT coalesce(max(version), 0) FROM account_schema_version");
    if (!q.prepared() || q.step() != SQLITE_ROW) {
        return fail(sqlite_failure(db, "read account schema version"));
    }
    return static_cast<int>(sqlite3_column_int64(q.get(), 0));
}

StoreResult<void> migrate(sqlite3* db) {
    Transaction tx(db);
    if (auto r = tx.begin(true); !r) return r;
    if (auto r = exec(db,
                      "CREATE TABLE IF NOT EXISTS account_schema_version ("
                      " version INTEGER PRIMARY KEY NOT NULL,"
                      " applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP) STRICT",
                      "create account_schema_version");
        !r) {
        return r;
    }
    auto current = read_version(db);
    if (!current) return fail(current.error());
    if (*current > kSqliteAccountSchemaVersion) {
        return fail(StoreFailure{StoreError::io, "account schema version " +
                                                     std::to_string(*current) +
                                                     " is newer than this program's " +
                                                     std::to_string(kSqliteAccountSchemaVersion)});
    }
    for (int version = *current + 1; version <= kSqliteAccountSchemaVersion; ++version) {
        const std::string sql(kMigrations[static_cast<std::size_t>(version - 1)]);
        if (auto r = exec(db, sql, "apply account migration " + std::to_string(version)); !r) {
            return r;
        }
        if (auto r = exec(db,
                          "INSERT INTO account_schema_version (version) VALUES (" +
                              std::to_string(version) + ")",
                          "record account schema version");
            !r) {
            return r;
        }
    }
    return tx.commit();
}

}  // namespace

SqliteAccountStore::SqliteAccountStore(sqlite3* db) : m_db(db) {}

SqliteAccountStore::~SqliteAccountStore() { sqlite3_close_v2(m_db); }

StoreResult<std::unique_ptr<SqliteAccountStore>> SqliteAccountStore::open(
    std::filesystem::path db_file) {
    std::error_code ec;
    if (db_file.has_parent_path()) std::filesystem::create_directories(db_file.parent_path(), ec);
    if (ec) return fail(StoreFailure{StoreError::io, "create database directory: " + ec.message()});
    // Create the file private before SQLite opens it (its -wal and -shm files
    // follow the mode).
    const int fd = ::open(db_file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        return fail(StoreFailure{StoreError::io,
                                 std::string("create database file: ") + std::strerror(errno)});
    }
    ::close(fd);

    sqlite3* raw = nullptr;
    const int rc =
        sqlite3_open_v2(db_file.c_str(), &raw,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    std::unique_ptr<sqlite3, int (*)(sqlite3*)> db(raw, sqlite3_close_v2);
    if (rc != SQLITE_OK) {
        return fail(StoreFailure{
            StoreError::io,
            std::string("open database: ") + (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc))});
    }
    sqlite3_extended_result_codes(db.get(), 1);
    sqlite3_busy_timeout(db.get(), kSqliteAccountBusyTimeoutMs);
    {
        Query q(db.get(), "PRAGMA journal_mode=WAL");
        if (!q.prepared() || q.step() != SQLITE_ROW || column_text(q.get(), 0) != "wal") {
            return fail(StoreFailure{StoreError::io, "database refused WAL journal mode"});
        }
    }
    // synchronous=FULL fsyncs the WAL on every commit: a returned call is
    // durable. secure_delete overwrites freed pages, so a replaced wrapped key
    // does not linger.
    if (auto r = exec(db.get(),
                      "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA "
                      "secure_delete=ON;",
                      "set pragmas");
        !r) {
        return fail(r.error());
    }
    if (auto r = migrate(db.get()); !r) return fail(r.error());
    return std::unique_ptr<SqliteAccountStore>(new SqliteAccountStore(db.release()));
}

StoreResult<int> SqliteAccountStore::schema_version() {
    const std::lock_guard lock(m_mutex);
    return read_version(m_db);
}

StoreResult<AccountId> SqliteAccountStore::create_account(const AccountRecord& a) {
    std::optional<sqlite3_int64> quota;
    if (a.quota_override_bytes) {
        auto q = to_db(*a.quota_override_bytes);
        if (!q) return fail(q.error());
        quota = *q;
    }
    const std::lock_guard lock(m_mutex);
    Query q(m_db, std::string("INSERT INTO account_users (") + kUserColumns +
                      ") VALUES (NULL, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
    if (!q.prepared()) return fail(sqlite_failure(m_db, "prepare create account"));
    q.text(2, a.username)
        .blob(3, a.password.salt)
        .blob(4, a.password.auth_hash)
        .blob(5, a.password.master_by_password)
        .blob(6, a.recovery_auth_hash)
        .blob(7, a.master_by_recovery)
        .i64(9, a.created_s);
    if (quota) {
        q.i64(8, *quota);
    } else {
        q.null(8);
    }
    if (auto r = run(m_db, q, "create account"); !r) return fail(r.error());
    return static_cast<AccountId>(sqlite3_last_insert_rowid(m_db));
}

StoreResult<std::optional<AccountRecord>> SqliteAccountStore::find_account(
    const std::string& username) {
    const std::lock_guard lock(m_mutex);
    Query q(m_db,
            std::string("SELECT ") + kUserColumns + " FROM account_users WHERE username = ?1");
    if (q.prepared()) q.text(1, username);
    return first<AccountRecord>(m_db, q, read_user, "find account");
}

StoreResult<std::optional<AccountRecord>> SqliteAccountStore::get_account(AccountId account_id) {
    const std::lock_guard lock(m_mutex);
    Query q(m_db,
            std::string("SELECT ") + kUserColumns + " FROM account_users WHERE account_id = ?1");
    if (q.prepared()) q.i64(1, account_id);
    return first<AccountRecord>(m_db, q, read_user, "get account");
}

StoreResult<void> SqliteAccountStore::replace_password(AccountId account_id,
                                                       const PasswordRecord& record,
                                                       const RevokeOnPasswordChange& revoke) {
    const std::lock_guard lock(m_mutex);
    Transaction tx(m_db);
    if (auto r = tx.begin(true); !r) return r;
    {
        Query q(m_db,
                "UPDATE account_users SET salt = ?2, auth_hash = ?3, "
                "master_by_password = ?4 "
                "WHERE account_id = ?1");
        if (q.prepared()) {
            q.i64(1, account_id)
                .blob(2, record.salt)
                .blob(3, record.auth_hash)
                .blob(4, record.master_by_password);
        }
        auto changed = run(m_db, q, "replace password");
        if (!changed) return fail(changed.error());
        if (*changed == 0) return fail(StoreFailure{StoreError::not_found, "no such account"});
    }
    {
        // Every session but the kept one, and API tokens when asked; -1 keeps none.
        Query q(m_db,
                "UPDATE account_tokens SET revoked = 1 WHERE account_id = ?1 "
                "AND token_id != ?2 "
                "AND (kind = 'session' OR ?3 = 1)");
        if (q.prepared()) {
            q.i64(1, account_id)
                .i64(2, revoke.keep_token_id.value_or(-1))
                .i64(3, revoke.api_tokens);
        }
        if (auto r = run(m_db, q, "revoke tokens"); !r) return fail(r.error());
    }
    return tx.commit();
}

StoreResult<void> SqliteAccountStore::set_quota_override(AccountId account_id,
                                                         std::optional<std::uint64_t> quota_bytes) {
    std::optional<sqlite3_int64> quota;
    if (quota_bytes) {
        auto v = to_db(*quota_bytes);
        if (!v) return fail(v.error());
        quota = *v;
    }
    const std::lock_guard lock(m_mutex);
    Query q(m_db,
            "UPDATE account_users SET quota_override_bytes = ?2 WHERE "
            "account_id = ?1");
    if (q.prepared()) {
        q.i64(1, account_id);
        if (quota) {
            q.i64(2, *quota);
        } else {
            q.null(2);
        }
    }
    auto changed = run(m_db, q, "set quota");
    if (!changed) return fail(changed.error());
    if (*changed == 0) return fail(StoreFailure{StoreError::not_found, "no such account"});
    return {};
}

StoreResult<TokenId> SqliteAccountStore::create_token(const TokenRecord& t) {
    const std::lock_guard lock(m_mutex);
    Query q(m_db, std::string("INSERT INTO account_tokens (") + kTokenColumns +
                      ") VALUES (NULL, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    if (q.prepared()) {
        q.i64(2, t.account_id)
            .text(3, kind_text(t.kind))
            .text(4, t.name)
            .blob(5, t.token_hash)
            .i64(6, t.created_s)
            .i64(8, t.revoked ? 1 : 0);
        if (t.expires_s) {
            q.i64(7, *t.expires_s);
        } else {
            q.null(7);
        }
    }
    if (auto r = run(m_db, q, "create token"); !r) return fail(r.error());
    return static_cast<TokenId>(sqlite3_last_insert_rowid(m_db));
}

StoreResult<std::optional<TokenRecord>> SqliteAccountStore::find_token(
    const crypto::Sha256Digest& token_hash) {
    const std::lock_guard lock(m_mutex);
    Query q(m_db,
            std::string("SELECT ") + kTokenColumns + " FROM account_tokens WHERE token_hash = ?1");
    if (q.prepared()) q.blob(1, token_hash);
    return first<TokenRecord>(m_db, q, read_token, "find token");
}

StoreResult<std::vector<TokenRecord>> SqliteAccountStore::list_tokens(AccountId account_id,
                                                                      TokenKind kind) {
    const std::lock_guard lock(m_mutex);
    Query q(m_db, std::string("SELECT ") + kTokenColumns +
                      " FROM account_tokens WHERE account_id = ?1 AND kind = ?2 "
                      "AND revoked = 0"
                      " ORDER BY token_id");
    if (q.prepared()) q.i64(1, account_id).text(2, kind_text(kind));
    return collect<TokenRecord>(m_db, q, read_token, "list tokens");
}

StoreResult<void> SqliteAccountStore::revoke_token(AccountId account_id, TokenId token_id) {
    const std::lock_guard lock(m_mutex);
    Query q(m_db,
            "UPDATE account_tokens SET revoked = 1 "
            "WHERE token_id = ?1 AND account_id = ?2 AND revoked = 0");
    if (q.prepared()) q.i64(1, token_id).i64(2, account_id);
    auto changed = run(m_db, q, "revoke token");
    if (!changed) return fail(changed.error());
    if (*changed == 0) return fail(StoreFailure{StoreError::not_found, "no such live token"});
    return {};
}

StoreResult<std::size_t> SqliteAccountStore::delete_dead_tokens(std::int64_t now_s,
                                                                std::size_t limit) {
    const std::lock_guard lock(m_mutex);
    Query q(m_db,
            "DELETE FROM account_tokens WHERE token_id IN (SELECT token_id "
            "FROM account_tokens "
            "WHERE revoked = 1 OR (expires_s IS NOT NULL AND expires_s <= "
            "?1) LIMIT ?2)");
    if (q.prepared()) q.i64(1, now_s).i64(2, limit_to_db(limit));
    auto changed = run(m_db, q, "delete dead tokens");
    if (!changed) return fail(changed.error());
    return static_cast<std::size_t>(*changed);
}

StoreResult<void> SqliteAccountStore::add_file(const OwnedFileRecord& f) {
    auto size = to_db(f.size_bytes);
    if (!size) return fail(size.error());
    const std::lock_guard lock(m_mutex);
    Query q(m_db, std::string("INSERT INTO account_files (") + kFileColumns +
                      ") VALUES (?1, ?2, ?3, ?4, ?5)");
    if (q.prepared()) {
        q.text(1, f.file_id)
            .i64(2, f.account_id)
            .blob(3, f.wrapped_secret)
            .i64(4, *size)
            .i64(5, f.created_s);
    }
    if (auto r = run(m_db, q, "add file"); !r) return fail(r.error());
    return {};
}

StoreResult<std::optional<OwnedFileRecord>> SqliteAccountStore::get_file(
    AccountId account_id, const std::string& file_id) {
    const std::lock_guard lock(m_mutex);
    Query q(m_db, std::string("SELECT ") + kFileColumns +
                      " FROM account_files WHERE file_id = ?1 AND account_id = ?2");
    if (q.prepared()) q.text(1, file_id).i64(2, account_id);
    return first<OwnedFileRecord>(m_db, q, read_file, "get file");
}

StoreResult<std::vector<OwnedFileRecord>> SqliteAccountStore::list_files(
    AccountId account_id, const std::string& after_id, std::size_t limit) {
    const std::lock_guard lock(m_mutex);
    Query q(m_db, std::string("SELECT ") + kFileColumns +
                      " FROM account_files WHERE account_id = ?1 AND file_id > ?2"
                      " ORDER BY file_id LIMIT ?3");
    if (q.prepared()) q.i64(1, account_id).text(2, after_id).i64(3, limit_to_db(limit));
    return collect<OwnedFileRecord>(m_db, q, read_file, "list files");
}

StoreResult<void> SqliteAccountStore::delete_file(AccountId account_id,
                                                  const std::string& file_id) {
    const std::lock_guard lock(m_mutex);
    Query q(m_db, "DELETE FROM account_files WHERE file_id = ?1 AND account_id = ?2");
    if (q.prepared()) q.text(1, file_id).i64(2, account_id);
    auto changed = run(m_db, q, "delete file");
    if (!changed) return fail(changed.error());
    if (*changed == 0) return fail(StoreFailure{StoreError::not_found, "no such file"});
    return {};
}

StoreResult<std::uint64_t> SqliteAccountStore::used_bytes(AccountId account_id) {
    const std::lock_guard lock(m_mutex);
    Query q(m_db,
            "SELECT coalesce(sum(size_bytes), 0) FROM account_files WHERE "
            "account_id = ?1");
    if (!q.prepared()) return fail(sqlite_failure(m_db, "prepare used bytes"));
    q.i64(1, account_id);
    if (q.step() != SQLITE_ROW) return fail(sqlite_failure(m_db, "used bytes"));
    return column_u64(q.get(), 0);
}

}  // namespace satload::accounts
