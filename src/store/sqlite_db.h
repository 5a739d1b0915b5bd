// Shared SQLite plumbing for the embedded stores (accounts, payments; metadata and ledger to
// follow): opening a private WAL database with synchronous=FULL, versioned migrations with a
// per-store version table, one-call statements, transactions that roll back unless committed.
#pragma once

#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/check.h"
#include "core/encoding.h"
#include "store/blob_store.h"

namespace satload::store::sqlite {

// Closed with close_database (below).
using Database = std::unique_ptr<sqlite3, int (*)(sqlite3*)>;

// The failure of the last call on `db`; a unique or primary-key violation is StoreError::exists.
[[nodiscard]] StoreFailure failure(sqlite3* db, std::string_view what);

// Opens or creates `file` (created 0600 before SQLite touches it, so -wal and -shm follow),
// WAL, synchronous=FULL (a returned commit is durable), foreign keys on, secure_delete on.
[[nodiscard]] StoreResult<Database> open_database(const std::filesystem::path& file, int busy_timeout_ms);

// Applies migrations[current..] in one transaction, recording each in `version_table`
// (created if missing). Migration N (1-based) takes the schema from N-1 to N. A database
// newer than this program is refused.
[[nodiscard]] StoreResult<void> migrate(sqlite3* db, std::string_view version_table,
                                        std::span<const std::string_view> migrations);
[[nodiscard]] StoreResult<int> schema_version(sqlite3* db, std::string_view version_table);

[[nodiscard]] StoreResult<void> exec(sqlite3* db, const std::string& sql, std::string_view what);

[[nodiscard]] StoreResult<sqlite3_int64> to_db(std::uint64_t value);
[[nodiscard]] inline sqlite3_int64 limit_to_db(std::size_t limit) {
    constexpr auto max = static_cast<std::size_t>(std::numeric_limits<sqlite3_int64>::max());
    return static_cast<sqlite3_int64>(std::min(limit, max));
}

// Prepared statements are kept per connection and reused: preparing (parsing and planning the
// SQL) cost more than running most of these one-row statements. A statement is borrowed for
// one call, then reset, its bindings cleared, and kept for the next call of the same SQL on
// the same connection (at most kIdleStatementsPerSql idle copies). Borrowing and returning
// happen while the caller holds its connection's lock, as every use of the connection does.
inline constexpr std::size_t kIdleStatementsPerSql = 4;
[[nodiscard]] sqlite3_stmt* borrow_statement(sqlite3* db, const std::string& sql, int& rc);
void return_statement(sqlite3_stmt* statement);
// Finalizes the connection's kept statements and closes it. Every connection that Query
// touched must be closed with this (a new connection could otherwise meet its address).
int close_database(sqlite3* db);
// Statements kept for `db` now (for tests).
[[nodiscard]] std::size_t kept_statements(sqlite3* db);

// One statement borrowed for one call; bindings assert, since they only fail on a bad index.
class Query {
public:
    Query(sqlite3* db, const std::string& sql) { m_s = borrow_statement(db, sql, m_rc); }
    ~Query() { return_statement(m_s); }
    Query(const Query&) = delete;
    Query& operator=(const Query&) = delete;

    [[nodiscard]] bool prepared() const { return m_rc == SQLITE_OK; }
    Query& text(int i, std::string_view v) {
        SATLOAD_ASSERT(sqlite3_bind_text64(m_s, i, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8) == SQLITE_OK);
        return *this;
    }
    Query& blob(int i, ByteSpan v) {
        SATLOAD_ASSERT(sqlite3_bind_blob64(m_s, i, v.empty() ? "" : static_cast<const void*>(v.data()),
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

std::string column_text(sqlite3_stmt* s, int i);
Bytes column_blob(sqlite3_stmt* s, int i);
// A non-negative integer column (the schema's CHECK constraints guarantee the sign).
std::uint64_t column_u64(sqlite3_stmt* s, int i);
template <std::size_t N>
std::array<std::uint8_t, N> column_array(sqlite3_stmt* s, int i) {
    const Bytes b = column_blob(s, i);
    SATLOAD_ASSERT(b.size() == N);  // the schema's CHECK constraints fix these lengths
    std::array<std::uint8_t, N> out{};
    std::copy(b.begin(), b.end(), out.begin());
    return out;
}

// Rolls back unless committed, so every early return leaves the database as it was.
class Transaction {
public:
    explicit Transaction(sqlite3* db) : m_db(db) {}
    ~Transaction() {
        if (m_open) sqlite3_exec(m_db, "ROLLBACK", nullptr, nullptr, nullptr);
    }
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    // Writers take the write lock up front so a read-then-write never fails on lock upgrade.
    StoreResult<void> begin(bool write);
    StoreResult<void> commit();

private:
    sqlite3* m_db;
    bool m_open = false;
};

// Runs a statement that returns no rows; gives the number of rows changed.
[[nodiscard]] StoreResult<int> run(sqlite3* db, Query& q, std::string_view what);

// Collects every row of a SELECT through `read`.
template <class T, class Read>
StoreResult<std::vector<T>> collect(sqlite3* db, Query& q, Read read, std::string_view what) {
    if (!q.prepared()) return fail(failure(db, what));
    std::vector<T> out;
    for (;;) {
        const int rc = q.step();
        if (rc == SQLITE_DONE) return out;
        if (rc != SQLITE_ROW) return fail(failure(db, what));
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

}  // namespace satload::store::sqlite
