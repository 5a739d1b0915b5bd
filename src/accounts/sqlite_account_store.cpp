// SqliteAccountStore: accounts, tokens and owned files in SQLite, one
// transaction per call. Statements are prepared per call: account traffic is a
// few requests per user action, far from the rate where caching them would
// matter.
#include "accounts/sqlite_account_store.h"

#include <algorithm>
#include <limits>
#include <string_view>

#include "core/check.h"
#include "store/sqlite_db.h"

namespace satload::accounts {
namespace {

using namespace store::sqlite;
constexpr std::string_view kVersionTable = "account_schema_version";

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
    // 2: parts of parallel uploads made with a session, counted until claimed or expired.
    R"sql(
CREATE TABLE account_parts (
    upload_id  TEXT PRIMARY KEY NOT NULL,
    account_id INTEGER NOT NULL REFERENCES account_users (account_id) ON DELETE CASCADE,
    size_bytes INTEGER NOT NULL CHECK (size_bytes >= 0),
    expires_s  INTEGER NOT NULL
) STRICT;
CREATE INDEX account_parts_by_account ON account_parts (account_id, expires_s);
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
// kTokenColumns of `t` and the username of `u` (find_token_owner's join).
constexpr const char* kTokenOwnerColumns =
    "t.token_id, t.account_id, t.kind, t.name, t.token_hash, t.created_s, t.expires_s, "
    "t.revoked, u.username";
constexpr const char* kFileColumns = "file_id, account_id, wrapped_secret, size_bytes, created_s";

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

StoreResult<void> delete_parts(sqlite3* db, const std::vector<std::string>& upload_ids) {
    for (const std::string& id : upload_ids) {
        Query q(db, "DELETE FROM account_parts WHERE upload_id = ?1");
        if (q.prepared()) q.text(1, id);
        if (auto r = run(db, q, "remove part"); !r) return fail(r.error());
    }
    return {};
}

}  // namespace

SqliteAccountStore::SqliteAccountStore(sqlite3* db) : m_db(db) {}

SqliteAccountStore::~SqliteAccountStore() { store::sqlite::close_database(m_db); }

StoreResult<std::unique_ptr<SqliteAccountStore>> SqliteAccountStore::open(
    std::filesystem::path db_file) {
    auto db = store::sqlite::open_database(db_file, kSqliteAccountBusyTimeoutMs);
    if (!db) return fail(db.error());
    if (auto r = store::sqlite::migrate(db->get(), kVersionTable, kMigrations); !r) return fail(r.error());
    return std::unique_ptr<SqliteAccountStore>(new SqliteAccountStore(db->release()));
}

StoreResult<int> SqliteAccountStore::schema_version() {
    const std::lock_guard lock(m_mutex);
    return store::sqlite::schema_version(m_db, kVersionTable);
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
    if (!q.prepared()) return fail(failure(m_db, "prepare create account"));
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

StoreResult<std::optional<TokenOwner>> SqliteAccountStore::find_token_owner(
    const crypto::Sha256Digest& token_hash) {
    const std::lock_guard lock(m_mutex);
    Query q(m_db, std::string("SELECT ") + kTokenOwnerColumns +
                      " FROM account_tokens t JOIN account_users u ON u.account_id = t.account_id"
                      " WHERE t.token_hash = ?1");
    if (q.prepared()) q.blob(1, token_hash);
    return first<TokenOwner>(
        m_db, q,
        [](sqlite3_stmt* s) {
            return TokenOwner{read_token(s), column_text(s, 8)};
        },
        "find token owner");
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
    return add_file_from_parts(f, {});
}

StoreResult<void> SqliteAccountStore::add_file_from_parts(
    const OwnedFileRecord& f, const std::vector<std::string>& part_upload_ids) {
    auto size = to_db(f.size_bytes);
    if (!size) return fail(size.error());
    const std::lock_guard lock(m_mutex);
    Transaction tx(m_db);
    if (auto r = tx.begin(true); !r) return r;
    {
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
    }
    if (auto r = delete_parts(m_db, part_upload_ids); !r) return r;
    return tx.commit();
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

StoreResult<std::uint64_t> SqliteAccountStore::used_bytes(AccountId account_id,
                                                          std::int64_t now_s) {
    const std::lock_guard lock(m_mutex);
    Query q(
        m_db,
        "SELECT (SELECT coalesce(sum(size_bytes), 0) FROM account_files WHERE account_id = ?1) + "
        "(SELECT coalesce(sum(size_bytes), 0) FROM account_parts WHERE account_id = ?1 AND "
        "expires_s > ?2)");
    if (!q.prepared()) return fail(failure(m_db, "prepare used bytes"));
    q.i64(1, account_id).i64(2, now_s);
    if (q.step() != SQLITE_ROW) return fail(failure(m_db, "used bytes"));
    return column_u64(q.get(), 0);
}

StoreResult<void> SqliteAccountStore::add_part(const OwnedPartRecord& part, std::int64_t now_s) {
    auto size = to_db(part.size_bytes);
    if (!size) return fail(size.error());
    const std::lock_guard lock(m_mutex);
    Transaction tx(m_db);
    if (auto r = tx.begin(true); !r) return r;
    {
        Query q(m_db, "DELETE FROM account_parts WHERE account_id = ?1 AND expires_s <= ?2");
        if (q.prepared()) q.i64(1, part.account_id).i64(2, now_s);
        if (auto r = run(m_db, q, "forget expired parts"); !r) return fail(r.error());
    }
    {
        Query q(m_db,
                "INSERT INTO account_parts (upload_id, account_id, size_bytes, expires_s) "
                "VALUES (?1, ?2, ?3, ?4)");
        if (q.prepared())
            q.text(1, part.upload_id).i64(2, part.account_id).i64(3, *size).i64(4, part.expires_s);
        if (auto r = run(m_db, q, "add part"); !r) return fail(r.error());
    }
    return tx.commit();
}

StoreResult<void> SqliteAccountStore::remove_parts(const std::vector<std::string>& upload_ids) {
    const std::lock_guard lock(m_mutex);
    Transaction tx(m_db);
    if (auto r = tx.begin(true); !r) return r;
    if (auto r = delete_parts(m_db, upload_ids); !r) return r;
    return tx.commit();
}

StoreResult<std::uint64_t> SqliteAccountStore::parts_bytes(
    AccountId account_id, const std::vector<std::string>& upload_ids, std::int64_t now_s) {
    const std::lock_guard lock(m_mutex);
    std::uint64_t total = 0;
    for (const std::string& id : upload_ids) {
        Query q(m_db,
                "SELECT size_bytes FROM account_parts WHERE upload_id = ?1 AND account_id = ?2 "
                "AND expires_s > ?3");
        if (q.prepared()) q.text(1, id).i64(2, account_id).i64(3, now_s);
        auto size = first<std::uint64_t>(
            m_db, q, [](sqlite3_stmt* st) { return column_u64(st, 0); }, "part bytes");
        if (!size) return fail(size.error());
        // Each size fits in an INTEGER; a sum past 2^64 is no sum of real parts.
        if (*size && __builtin_add_overflow(total, **size, &total))
            total = std::numeric_limits<std::uint64_t>::max();
    }
    return total;
}

StoreResult<std::optional<AccountId>> SqliteAccountStore::file_owner(const std::string& file_id) {
    const std::lock_guard lock(m_mutex);
    Query q(m_db, "SELECT account_id FROM account_files WHERE file_id = ?1");
    if (!q.prepared()) return fail(failure(m_db, "prepare file owner"));
    q.text(1, file_id);
    return first<AccountId>(m_db, q, [](sqlite3_stmt* s) { return sqlite3_column_int64(s, 0); }, "file owner");
}

}  // namespace satload::accounts
