// Shared SQLite plumbing (see sqlite_db.h).
#include "store/sqlite_db.h"

#include <cerrno>
#include <cstring>
#include <mutex>
#include <unordered_map>
#include <fcntl.h>
#include <unistd.h>

namespace satload::store::sqlite {

StoreFailure failure(sqlite3* db, std::string_view what) {
    const int code = sqlite3_extended_errcode(db);
    std::string message(what);
    message += ": ";
    message += sqlite3_errmsg(db);
    const bool duplicate = code == SQLITE_CONSTRAINT_PRIMARYKEY || code == SQLITE_CONSTRAINT_UNIQUE;
    return StoreFailure{duplicate ? StoreError::exists : StoreError::io, std::move(message)};
}

StoreResult<void> exec(sqlite3* db, const std::string& sql, std::string_view what) {
    if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) return fail(failure(db, what));
    return {};
}

StoreResult<sqlite3_int64> to_db(std::uint64_t value) {
    if (value > static_cast<std::uint64_t>(std::numeric_limits<sqlite3_int64>::max())) {
        return fail(StoreFailure{StoreError::io, "value too large for the database"});
    }
    return static_cast<sqlite3_int64>(value);
}

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

std::uint64_t column_u64(sqlite3_stmt* s, int i) {
    const sqlite3_int64 v = sqlite3_column_int64(s, i);
    SATLOAD_ASSERT(v >= 0);
    return static_cast<std::uint64_t>(v);
}

StoreResult<void> Transaction::begin(bool write) {
    if (auto r = exec(m_db, write ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED", "begin"); !r) return r;
    m_open = true;
    return {};
}

StoreResult<void> Transaction::commit() {
    if (auto r = exec(m_db, "COMMIT", "commit"); !r) return r;
    m_open = false;
    return {};
}

StoreResult<int> run(sqlite3* db, Query& q, std::string_view what) {
    if (!q.prepared() || q.step() != SQLITE_DONE) return fail(failure(db, what));
    return sqlite3_changes(db);
}

namespace {

struct SqlHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view sql) const { return std::hash<std::string_view>{}(sql); }
};

// Idle statements by connection and SQL text.
struct StatementRegistry {
    using BySql = std::unordered_map<std::string, std::vector<sqlite3_stmt*>, SqlHash, std::equal_to<>>;
    std::mutex mutex;
    std::unordered_map<sqlite3*, BySql> idle;
};

StatementRegistry& registry() {
    static StatementRegistry r;
    return r;
}

}  // namespace

sqlite3_stmt* borrow_statement(sqlite3* db, const std::string& sql, int& rc) {
    {
        StatementRegistry& r = registry();
        const std::lock_guard lock(r.mutex);
        if (const auto conn = r.idle.find(db); conn != r.idle.end()) {
            if (const auto it = conn->second.find(std::string_view(sql)); it != conn->second.end() && !it->second.empty()) {
                sqlite3_stmt* s = it->second.back();
                it->second.pop_back();
                rc = SQLITE_OK;
                return s;
            }
        }
    }
    sqlite3_stmt* s = nullptr;
    rc = sqlite3_prepare_v3(db, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(s);
        return nullptr;
    }
    return s;
}

void return_statement(sqlite3_stmt* statement) {
    if (statement == nullptr) return;
    sqlite3_reset(statement);
    sqlite3_clear_bindings(statement);
    const char* sql = sqlite3_sql(statement);
    if (sql != nullptr) {
        StatementRegistry& r = registry();
        const std::lock_guard lock(r.mutex);
        auto& by_sql = r.idle[sqlite3_db_handle(statement)];
        auto it = by_sql.find(std::string_view(sql));
        if (it == by_sql.end()) it = by_sql.emplace(std::string(sql), std::vector<sqlite3_stmt*>{}).first;
        if (it->second.size() < kIdleStatementsPerSql) {
            it->second.push_back(statement);
            return;
        }
    }
    sqlite3_finalize(statement);
}

int close_database(sqlite3* db) {
    if (db == nullptr) return SQLITE_OK;
    StatementRegistry::BySql kept;
    {
        StatementRegistry& r = registry();
        const std::lock_guard lock(r.mutex);
        if (const auto it = r.idle.find(db); it != r.idle.end()) {
            kept = std::move(it->second);
            r.idle.erase(it);
        }
    }
    for (auto& [sql, statements] : kept) {
        for (sqlite3_stmt* s : statements) sqlite3_finalize(s);
    }
    return sqlite3_close_v2(db);
}

std::size_t kept_statements(sqlite3* db) {
    StatementRegistry& r = registry();
    const std::lock_guard lock(r.mutex);
    const auto it = r.idle.find(db);
    if (it == r.idle.end()) return 0;
    std::size_t n = 0;
    for (const auto& [sql, statements] : it->second) n += statements.size();
    return n;
}

StoreResult<Database> open_database(const std::filesystem::path& file, int busy_timeout_ms) {
    std::error_code ec;
    if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path(), ec);
    if (ec) return fail(StoreFailure{StoreError::io, "create database directory: " + ec.message()});
    const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return fail(StoreFailure{StoreError::io, std::string("create database file: ") + std::strerror(errno)});
    ::close(fd);

    sqlite3* raw = nullptr;
    const int rc = sqlite3_open_v2(file.c_str(), &raw,
                                   SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    Database db(raw, close_database);
    if (rc != SQLITE_OK) {
        return fail(StoreFailure{StoreError::io,
                                 std::string("open database: ") + (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc))});
    }
    sqlite3_extended_result_codes(db.get(), 1);
    sqlite3_busy_timeout(db.get(), busy_timeout_ms);
    {
        Query q(db.get(), "PRAGMA journal_mode=WAL");
        if (!q.prepared() || q.step() != SQLITE_ROW || column_text(q.get(), 0) != "wal") {
            return fail(StoreFailure{StoreError::io, "database refused WAL journal mode"});
        }
    }
    // synchronous=FULL fsyncs the WAL on every commit: a returned call is durable.
    // secure_delete overwrites freed pages, so replaced wrapped keys do not linger.
    if (auto r = exec(db.get(), "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA secure_delete=ON;",
                      "set pragmas");
        !r) {
        return fail(r.error());
    }
    return db;
}

StoreResult<int> schema_version(sqlite3* db, std::string_view version_table) {
    Query q(db, "SELECT coalesce(max(version), 0) FROM " + std::string(version_table));
    if (!q.prepared() || q.step() != SQLITE_ROW) return fail(failure(db, "read schema version"));
    return static_cast<int>(sqlite3_column_int64(q.get(), 0));
}

StoreResult<void> migrate(sqlite3* db, std::string_view version_table, std::span<const std::string_view> migrations) {
    const std::string table(version_table);
    const int latest = static_cast<int>(migrations.size());
    Transaction tx(db);
    if (auto r = tx.begin(true); !r) return r;
    if (auto r = exec(db,
                      "CREATE TABLE IF NOT EXISTS " + table +
                          " (version INTEGER PRIMARY KEY NOT NULL,"
                          " applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP) STRICT",
                      "create " + table);
        !r) {
        return r;
    }
    auto current = schema_version(db, table);
    if (!current) return fail(current.error());
    if (*current > latest) {
        return fail(StoreFailure{StoreError::io, table + ": schema version " + std::to_string(*current) +
                                                     " is newer than this program's " + std::to_string(latest)});
    }
    for (int version = *current + 1; version <= latest; ++version) {
        const std::string sql(migrations[static_cast<std::size_t>(version - 1)]);
        if (auto r = exec(db, sql, table + ": apply migration " + std::to_string(version)); !r) return r;
        if (auto r = exec(db, "INSERT INTO " + table + " (version) VALUES (" + std::to_string(version) + ")",
                          "record schema version");
            !r) {
            return r;
        }
    }
    return tx.commit();
}

}  // namespace satload::store::sqlite
