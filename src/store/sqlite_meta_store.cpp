// SqliteMetaStore: uploads and files in one SQLite database, with versioned migrations,
// prepared statements and one transaction per call.
#include "store/sqlite_meta_store.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <limits>
#include <sqlite3.h>
#include <string_view>
#include <unistd.h>

#include "core/check.h"
#include "core/http_headers.h"
#include "store/posix_file.h"

namespace satload::store {
namespace {

// Migration N (1-based) takes the schema from version N-1 to N. Append only: a shipped
// migration is never edited, since databases in the field have already run it.
constexpr std::string_view kMigrations[] = {
    // 1: uploads (tus state), their concatenation parts, and complete files.
    R"sql(
CREATE TABLE uploads (
    upload_id    TEXT PRIMARY KEY NOT NULL,
    file_id      TEXT NOT NULL UNIQUE,
    length_bytes INTEGER CHECK (length_bytes IS NULL OR length_bytes >= 0),
    offset_bytes INTEGER NOT NULL CHECK (offset_bytes >= 0),
    metadata     TEXT NOT NULL,
    created_s    INTEGER NOT NULL,
    expires_s    INTEGER NOT NULL,
    is_partial   INTEGER NOT NULL CHECK (is_partial IN (0, 1)),
    complete     INTEGER NOT NULL CHECK (complete IN (0, 1)),
    CHECK (length_bytes IS NULL OR offset_bytes <= length_bytes)
) STRICT;
CREATE INDEX uploads_incomplete_by_expiry ON uploads (expires_s, created_s) WHERE complete = 0;
CREATE INDEX uploads_incomplete_by_created ON uploads (created_s) WHERE complete = 0;
CREATE TABLE upload_parts (
    upload_id      TEXT NOT NULL REFERENCES uploads (upload_id) ON DELETE CASCADE,
    position       INTEGER NOT NULL,
    part_upload_id TEXT NOT NULL,
    PRIMARY KEY (upload_id, position)
) STRICT, WITHOUT ROWID;
CREATE TABLE files (
    file_id    TEXT PRIMARY KEY NOT NULL,
    size_bytes INTEGER NOT NULL CHECK (size_bytes >= 0),
    sha256_hex TEXT NOT NULL CHECK (length(sha256_hex) = 64),
    meta       TEXT NOT NULL,
    created_s  INTEGER NOT NULL
) STRICT;
)sql",
    // 2: the fast checksum that full reads are checked against.
    R"sql(
ALTER TABLE files ADD COLUMN xxh3_hex TEXT NOT NULL DEFAULT ''
    CHECK (xxh3_hex = '' OR length(xxh3_hex) = 32);
)sql",
    // 3: link controls (price, expiry, download limit and count, revocation) and anonymous
    // uploads, whose files expire and are removed by housekeeping.
    R"sql(
ALTER TABLE uploads ADD COLUMN anonymous INTEGER NOT NULL DEFAULT 0 CHECK (anonymous IN (0, 1));
ALTER TABLE files ADD COLUMN price_msat INTEGER NOT NULL DEFAULT 0 CHECK (price_msat >= 0);
ALTER TABLE files ADD COLUMN expires_s INTEGER;
ALTER TABLE files ADD COLUMN max_downloads INTEGER
    CHECK (max_downloads IS NULL OR max_downloads >= 0);
ALTER TABLE files ADD COLUMN downloads INTEGER NOT NULL DEFAULT 0 CHECK (downloads >= 0);
ALTER TABLE files ADD COLUMN revoked INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1));
ALTER TABLE files ADD COLUMN anonymous INTEGER NOT NULL DEFAULT 0 CHECK (anonymous IN (0, 1));
CREATE INDEX files_anonymous_by_expiry ON files (expires_s)
    WHERE anonymous = 1 AND expires_s IS NOT NULL;
)sql",
};
static_assert(std::size(kMigrations) == kSqliteMetaSchemaVersion,
              "kSqliteMetaSchemaVersion must equal the number of migrations");

constexpr const char* kUploadColumns =
    "upload_id, file_id, length_bytes, offset_bytes, metadata, created_s, expires_s, "
    "is_partial, complete, anonymous";
constexpr const char* kFileColumns =
    "file_id, size_bytes, sha256_hex, meta, created_s, xxh3_hex, price_msat, expires_s, "
    "max_downloads, downloads, revoked, anonymous";

StoreFailure sqlite_failure(sqlite3* db, std::string_view what) {
    const int code = sqlite3_extended_errcode(db);
    std::string message(what);
    message += ": ";
    message += sqlite3_errmsg(db);
    // A duplicate key is an expected outcome (an id that already exists), not an I/O fault.
    const bool duplicate =
        code == SQLITE_CONSTRAINT_PRIMARYKEY || code == SQLITE_CONSTRAINT_UNIQUE;
    return StoreFailure{duplicate ? StoreError::exists : StoreError::io, std::move(message)};
}

StoreFailure not_found(std::string_view what) {
    return StoreFailure{StoreError::not_found, std::string(what)};
}

// SQLite integers are signed 64-bit; sizes beyond that cannot be stored.
StoreResult<sqlite3_int64> to_db(std::uint64_t value) {
    if (value > static_cast<std::uint64_t>(std::numeric_limits<sqlite3_int64>::max())) {
        return fail(StoreFailure{StoreError::io, "value too large for the database"});
    }
    return static_cast<sqlite3_int64>(value);
}

sqlite3_int64 limit_to_db(std::size_t limit) {
    constexpr auto max = static_cast<std::size_t>(std::numeric_limits<sqlite3_int64>::max());
    return static_cast<sqlite3_int64>(limit > max ? max : limit);
}

// One prepared statement, finalized on destruction.
struct Stmt {
    sqlite3_stmt* p = nullptr;
    Stmt() = default;
    Stmt(const Stmt&) = delete;
    Stmt& operator=(const Stmt&) = delete;
    ~Stmt() { sqlite3_finalize(p); }
};

// Resets a statement and its bindings when a call is done with it, on every path.
class Use {
public:
    explicit Use(Stmt& s) : m_s(s.p) {}
    ~Use() {
        sqlite3_reset(m_s);
        sqlite3_clear_bindings(m_s);
    }
    Use(const Use&) = delete;
    Use& operator=(const Use&) = delete;
    [[nodiscard]] sqlite3_stmt* get() const { return m_s; }

private:
    sqlite3_stmt* m_s;
};

void bind_text(sqlite3_stmt* s, int index, std::string_view text) {
    const int rc = sqlite3_bind_text64(s, index, text.data(), text.size(), SQLITE_TRANSIENT,
                                       SQLITE_UTF8);
    SATLOAD_ASSERT(rc == SQLITE_OK);  // only fails for a bad index or out of memory
}
void bind_int(sqlite3_stmt* s, int index, sqlite3_int64 value) {
    SATLOAD_ASSERT(sqlite3_bind_int64(s, index, value) == SQLITE_OK);
}
void bind_null(sqlite3_stmt* s, int index) {
    SATLOAD_ASSERT(sqlite3_bind_null(s, index) == SQLITE_OK);
}

std::string column_text(sqlite3_stmt* s, int index) {
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(s, index));
    const int size = sqlite3_column_bytes(s, index);
    return text ? std::string(text, static_cast<std::size_t>(size)) : std::string();
}
std::uint64_t column_u64(sqlite3_stmt* s, int index) {
    const sqlite3_int64 value = sqlite3_column_int64(s, index);
    SATLOAD_ASSERT(value >= 0);  // the schema's CHECK constraints keep sizes non-negative
    return static_cast<std::uint64_t>(value);
}

UploadRecord read_upload_row(sqlite3_stmt* s) {
    UploadRecord u;
    u.upload_id = column_text(s, 0);
    u.file_id = column_text(s, 1);
    if (sqlite3_column_type(s, 2) != SQLITE_NULL) u.length_bytes = column_u64(s, 2);
    u.offset_bytes = column_u64(s, 3);
    u.metadata = column_text(s, 4);
    u.created_s = sqlite3_column_int64(s, 5);
    u.expires_s = sqlite3_column_int64(s, 6);
    u.is_partial = sqlite3_column_int64(s, 7) != 0;
    u.complete = sqlite3_column_int64(s, 8) != 0;
    u.anonymous = sqlite3_column_int64(s, 9) != 0;
    return u;
}

FileRecord read_file_row(sqlite3_stmt* s) {
    FileRecord f;
    f.file_id = column_text(s, 0);
    f.size_bytes = column_u64(s, 1);
    f.sha256_hex = column_text(s, 2);
    f.meta = column_text(s, 3);
    f.created_s = sqlite3_column_int64(s, 4);
    f.xxh3_hex = column_text(s, 5);
    f.price_msat = sqlite3_column_int64(s, 6);
    if (sqlite3_column_type(s, 7) != SQLITE_NULL) f.expires_s = sqlite3_column_int64(s, 7);
    if (sqlite3_column_type(s, 8) != SQLITE_NULL) f.max_downloads = column_u64(s, 8);
    f.downloads = column_u64(s, 9);
    f.revoked = sqlite3_column_int64(s, 10) != 0;
    f.anonymous = sqlite3_column_int64(s, 11) != 0;
    return f;
}

StoreResult<void> exec(sqlite3* db, const char* sql, std::string_view what) {
    if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) {
        return fail(sqlite_failure(db, what));
    }
    return {};
}

// Brings the schema to kSqliteMetaSchemaVersion, all pending migrations in one transaction,
// so a crash mid-way leaves the previous version intact.
StoreResult<void> migrate(sqlite3* db) {
    if (auto r = exec(db, "BEGIN IMMEDIATE", "begin migration"); !r) return r;
    auto body = [&]() -> StoreResult<void> {
        if (auto r = exec(db,
                          "CREATE TABLE IF NOT EXISTS schema_version ("
                          " version INTEGER PRIMARY KEY NOT NULL,"
                          " applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP) STRICT",
                          "create schema_version");
            !r) {
            return r;
        }
        sqlite3_stmt* raw = nullptr;
        if (sqlite3_prepare_v2(db, "SELECT coalesce(max(version), 0) FROM schema_version", -1,
                               &raw, nullptr) != SQLITE_OK) {
            return fail(sqlite_failure(db, "read schema version"));
        }
        Stmt select;
        select.p = raw;
        if (sqlite3_step(select.p) != SQLITE_ROW) {
            return fail(sqlite_failure(db, "read schema version"));
        }
        const sqlite3_int64 current = sqlite3_column_int64(select.p, 0);
        if (current > kSqliteMetaSchemaVersion) {
            return fail(StoreFailure{StoreError::io,
                                     "database schema version " + std::to_string(current) +
                                         " is newer than this program's " +
                                         std::to_string(kSqliteMetaSchemaVersion)});
        }
        for (auto version = current + 1; version <= kSqliteMetaSchemaVersion; ++version) {
            const std::string sql(kMigrations[static_cast<std::size_t>(version - 1)]);
            if (auto r = exec(db, sql.c_str(), "apply migration " + std::to_string(version)); !r) {
                return r;
            }
            const std::string record =
                "INSERT INTO schema_version (version) VALUES (" + std::to_string(version) + ")";
            if (auto r = exec(db, record.c_str(), "record schema version"); !r) return r;
        }
        return exec(db, "COMMIT", "commit migration");
    };
    auto result = body();
    if (!result) sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    return result;
}

}  // namespace

struct SqliteMetaStore::Statements {
    Stmt begin_read, begin_write, commit, rollback;
    Stmt insert_upload, insert_part, select_upload, select_parts;
    Stmt update_offset, update_length, select_upload_state, mark_complete, delete_upload;
    Stmt select_expired, select_incomplete;
    Stmt insert_file, select_file, delete_file, list_files;
    Stmt count_download, uncount_download, add_downloads, update_controls, select_expired_files;
    Stmt select_upload_of_file, update_upload_metadata;
    Stmt select_schema_version;
};

namespace {

// Rolls back unless committed: every early return inside a call leaves the database as it was.
class Transaction {
public:
    Transaction(sqlite3* db, SqliteMetaStore::Statements& st) : m_db(db), m_st(st) {}
    ~Transaction() {
        if (m_open) {
            Use rollback(m_st.rollback);
            sqlite3_step(rollback.get());
        }
    }
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;

    // Writers take the write lock up front (BEGIN IMMEDIATE), so a read-then-write call cannot
    // fail half-way with SQLITE_BUSY on lock upgrade.
    StoreResult<void> begin(bool write) {
        Use use(write ? m_st.begin_write : m_st.begin_read);
        if (sqlite3_step(use.get()) != SQLITE_DONE) return fail(sqlite_failure(m_db, "begin"));
        m_open = true;
        return {};
    }
    StoreResult<void> commit() {
        Use use(m_st.commit);
        if (sqlite3_step(use.get()) != SQLITE_DONE) return fail(sqlite_failure(m_db, "commit"));
        m_open = false;
        return {};
    }

private:
    sqlite3* m_db;
    SqliteMetaStore::Statements& m_st;
    bool m_open = false;
};

// `upload_metadata` (a tus Upload-Metadata value) with its "meta" pair replaced by `meta`.
std::optional<std::string> with_meta(std::string_view upload_metadata, const std::string& meta) {
    return replace_upload_metadata_value(upload_metadata, "meta", meta);
}

// Steps a statement that returns no rows; `changes` gets the number of rows it modified.
StoreResult<void> run(sqlite3* db, sqlite3_stmt* s, std::string_view what, int* changes = nullptr) {
    if (sqlite3_step(s) != SQLITE_DONE) return fail(sqlite_failure(db, what));
    if (changes) *changes = sqlite3_changes(db);
    return {};
}

// Runs a one-row UPDATE bound as (?1 upload id, ?2 value); returns how many rows it changed.
StoreResult<int> update_upload(sqlite3* db, Stmt& stmt, const std::string& upload_id,
                               sqlite3_int64 value, std::string_view what) {
    int changes = 0;
    Use use(stmt);
    bind_text(use.get(), 1, upload_id);
    bind_int(use.get(), 2, value);
    if (auto r = run(db, use.get(), what, &changes); !r) return fail(r.error());
    return changes;
}

StoreResult<void> load_parts(sqlite3* db, SqliteMetaStore::Statements& st, UploadRecord& u) {
    Use use(st.select_parts);
    bind_text(use.get(), 1, u.upload_id);
    for (;;) {
        const int rc = sqlite3_step(use.get());
        if (rc == SQLITE_DONE) return {};
        if (rc != SQLITE_ROW) return fail(sqlite_failure(db, "read upload parts"));
        u.parts.push_back(column_text(use.get(), 0));
    }
}

// Runs a bound SELECT of upload rows and fills in each row's parts.
StoreResult<std::vector<UploadRecord>> collect_uploads(sqlite3* db,
                                                       SqliteMetaStore::Statements& st,
                                                       sqlite3_stmt* s) {
    std::vector<UploadRecord> out;
    for (;;) {
        const int rc = sqlite3_step(s);
        if (rc == SQLITE_DONE) break;
        if (rc != SQLITE_ROW) return fail(sqlite_failure(db, "read uploads"));
        out.push_back(read_upload_row(s));
    }
    for (auto& u : out) {
        if (auto r = load_parts(db, st, u); !r) return fail(r.error());
    }
    return out;
}

}  // namespace

SqliteMetaStore::SqliteMetaStore(sqlite3* db, std::unique_ptr<Statements> statements)
    : m_db(db), m_stmts(std::move(statements)) {}

SqliteMetaStore::~SqliteMetaStore() {
    m_stmts.reset();  // finalize every statement before closing the connection
    sqlite3_close_v2(m_db);
}

StoreResult<std::unique_ptr<SqliteMetaStore>> SqliteMetaStore::open(
    std::filesystem::path db_file) {
    std::error_code ec;
    if (db_file.has_parent_path()) std::filesystem::create_directories(db_file.parent_path(), ec);
    if (ec) return fail(StoreFailure{StoreError::io, "create database directory: " + ec.message()});
    // The database holds upload ids, which are write capabilities: create it private (SQLite
    // gives its -wal and -shm files the same mode).
    const int fd = ::open(db_file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        return fail(StoreFailure{StoreError::io, std::string("create database file: ") +
                                                     std::strerror(errno)});
    }
    ::close(fd);

    sqlite3* raw = nullptr;
    const int rc = sqlite3_open_v2(db_file.c_str(), &raw,
                                   SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                                   nullptr);
    std::unique_ptr<sqlite3, int (*)(sqlite3*)> db(raw, sqlite3_close_v2);
    if (rc != SQLITE_OK) {
        return fail(StoreFailure{StoreError::io, std::string("open database: ") +
                                                     (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc))});
    }
    sqlite3_extended_result_codes(db.get(), 1);
    sqlite3_busy_timeout(db.get(), kSqliteBusyTimeoutMs);

    // WAL lets readers proceed during a write; synchronous=FULL fsyncs the WAL on every commit,
    // which is what makes "durable when the method returns" true.
    {
        sqlite3_stmt* s = nullptr;
        if (sqlite3_prepare_v2(db.get(), "PRAGMA journal_mode=WAL", -1, &s, nullptr) != SQLITE_OK) {
            return fail(sqlite_failure(db.get(), "set journal mode"));
        }
        Stmt pragma;
        pragma.p = s;
        if (sqlite3_step(pragma.p) != SQLITE_ROW || column_text(pragma.p, 0) != "wal") {
            return fail(StoreFailure{StoreError::io, "database refused WAL journal mode"});
        }
    }
    if (auto r = exec(db.get(), "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;", "set pragmas");
        !r) {
        return fail(r.error());
    }
    if (auto r = migrate(db.get()); !r) return fail(r.error());

    auto st = std::make_unique<Statements>();
    const std::string upload_cols(kUploadColumns);
    const std::string file_cols(kFileColumns);
    const std::pair<Stmt*, std::string> sources[] = {
        {&st->begin_read, "BEGIN DEFERRED"},
        {&st->begin_write, "BEGIN IMMEDIATE"},
        {&st->commit, "COMMIT"},
        {&st->rollback, "ROLLBACK"},
        {&st->insert_upload, "INSERT INTO uploads (" + upload_cols +
                                 ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"},
        {&st->insert_part,
         "INSERT INTO upload_parts (upload_id, position, part_upload_id) VALUES (?1, ?2, ?3)"},
        {&st->select_upload, "SELECT " + upload_cols + " FROM uploads WHERE upload_id = ?1"},
        {&st->select_parts,
         "SELECT part_upload_id FROM upload_parts WHERE upload_id = ?1 ORDER BY position"},
        {&st->update_offset, "UPDATE uploads SET offset_bytes = ?2 WHERE upload_id = ?1"},
        // Upload-Length is set once (tus creation-defer-length); repeating the same value is
        // harmless, a different one is refused.
        {&st->update_length,
         "UPDATE uploads SET length_bytes = ?2 WHERE upload_id = ?1 AND "
         "(length_bytes IS NULL OR length_bytes = ?2)"},
        {&st->select_upload_state, "SELECT complete FROM uploads WHERE upload_id = ?1"},
        {&st->mark_complete,
         "UPDATE uploads SET complete = 1 WHERE upload_id = ?1 AND file_id = ?2 AND complete = 0"},
        {&st->delete_upload, "DELETE FROM uploads WHERE upload_id = ?1"},
        {&st->select_expired, "SELECT " + upload_cols +
                                  " FROM uploads WHERE complete = 0 AND expires_s <= ?1"
                                  " ORDER BY expires_s, created_s, upload_id LIMIT ?2"},
        {&st->select_incomplete, "SELECT " + upload_cols +
                                     " FROM uploads WHERE complete = 0"
                                     " ORDER BY created_s, upload_id LIMIT ?1"},
        {&st->insert_file,
         "INSERT INTO files (" + file_cols +
             ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"},
        {&st->select_file, "SELECT " + file_cols + " FROM files WHERE file_id = ?1"},
        {&st->delete_file, "DELETE FROM files WHERE file_id = ?1"},
        {&st->list_files,
         "SELECT " + file_cols + " FROM files WHERE file_id > ?1 ORDER BY file_id LIMIT ?2"},
        // One statement: concurrent downloads finishing at once each add exactly one.
        {&st->count_download,
         "UPDATE files SET downloads = downloads + 1 WHERE file_id = ?1 RETURNING downloads"},
        {&st->add_downloads, "UPDATE files SET downloads = downloads + ?2 WHERE file_id = ?1"},
        {&st->uncount_download,
         "UPDATE files SET downloads = max(downloads - 1, 0) WHERE file_id = ?1"},
        // Each member is (?even: whether to change it, ?odd: the new value), so one prepared
        // statement serves every combination of changes and returns the row as it ends up.
        {&st->update_controls,
         "UPDATE files SET"
         " price_msat = CASE WHEN ?2 THEN ?3 ELSE price_msat END,"
         " expires_s = CASE WHEN ?4 THEN ?5 ELSE expires_s END,"
         " max_downloads = CASE WHEN ?6 THEN ?7 ELSE max_downloads END,"
         " revoked = CASE WHEN ?8 THEN ?9 ELSE revoked END,"
         " meta = CASE WHEN ?10 THEN ?11 ELSE meta END"
         " WHERE file_id = ?1 RETURNING " + file_cols},
        {&st->select_expired_files,
         "SELECT " + file_cols +
             " FROM files WHERE anonymous = 1 AND expires_s IS NOT NULL AND expires_s <= ?1"
             " ORDER BY expires_s, file_id LIMIT ?2"},
        {&st->select_upload_of_file, "SELECT upload_id, metadata FROM uploads WHERE file_id = ?1"},
        {&st->update_upload_metadata, "UPDATE uploads SET metadata = ?2 WHERE upload_id = ?1"},
        {&st->select_schema_version, "SELECT coalesce(max(version), 0) FROM schema_version"},
    };
    for (const auto& [stmt, sql] : sources) {
        if (sqlite3_prepare_v3(db.get(), sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &stmt->p,
                               nullptr) != SQLITE_OK) {
            return fail(sqlite_failure(db.get(), "prepare statement"));
        }
    }
    return std::unique_ptr<SqliteMetaStore>(new SqliteMetaStore(db.release(), std::move(st)));
}

StoreResult<void> SqliteMetaStore::create_upload(const UploadRecord& upload) {
    auto offset = to_db(upload.offset_bytes);
    if (!offset) return fail(offset.error());
    std::optional<sqlite3_int64> length;
    if (upload.length_bytes) {
        auto l = to_db(*upload.length_bytes);
        if (!l) return fail(l.error());
        length = *l;
    }
    const std::lock_guard lock(m_mutex);
    Transaction tx(m_db, *m_stmts);
    if (auto r = tx.begin(true); !r) return r;
    {
        Use use(m_stmts->insert_upload);
        sqlite3_stmt* s = use.get();
        bind_text(s, 1, upload.upload_id);
        bind_text(s, 2, upload.file_id);
        if (length) bind_int(s, 3, *length); else bind_null(s, 3);
        bind_int(s, 4, *offset);
        bind_text(s, 5, upload.metadata);
        bind_int(s, 6, upload.created_s);
        bind_int(s, 7, upload.expires_s);
        bind_int(s, 8, upload.is_partial ? 1 : 0);
        bind_int(s, 9, upload.complete ? 1 : 0);
        bind_int(s, 10, upload.anonymous ? 1 : 0);
        if (auto r = run(m_db, s, "insert upload"); !r) return r;
    }
    for (std::size_t i = 0; i < upload.parts.size(); ++i) {
        Use use(m_stmts->insert_part);
        bind_text(use.get(), 1, upload.upload_id);
        bind_int(use.get(), 2, static_cast<sqlite3_int64>(i));
        bind_text(use.get(), 3, upload.parts[i]);
        if (auto r = run(m_db, use.get(), "insert upload part"); !r) return r;
    }
    return tx.commit();
}

StoreResult<std::optional<UploadRecord>> SqliteMetaStore::get_upload(const std::string& upload_id) {
    const std::lock_guard lock(m_mutex);
    Transaction tx(m_db, *m_stmts);
    if (auto r = tx.begin(false); !r) return fail(r.error());
    std::optional<UploadRecord> found;
    {
        Use use(m_stmts->select_upload);
        bind_text(use.get(), 1, upload_id);
        auto rows = collect_uploads(m_db, *m_stmts, use.get());
        if (!rows) return fail(rows.error());
        if (!rows->empty()) found = std::move(rows->front());
    }
    if (auto r = tx.commit(); !r) return fail(r.error());
    return found;
}

StoreResult<std::optional<std::string>> SqliteMetaStore::upload_id_of_file(
    const std::string& file_id) {
    const std::lock_guard lock(m_mutex);
    Use use(m_stmts->select_upload_of_file);
    bind_text(use.get(), 1, file_id);
    const int rc = sqlite3_step(use.get());
    if (rc == SQLITE_DONE) return std::optional<std::string>();
    if (rc != SQLITE_ROW) return fail(sqlite_failure(m_db, "read the file's upload"));
    return std::optional(column_text(use.get(), 0));
}

StoreResult<void> SqliteMetaStore::set_upload_offset(const std::string& upload_id,
                                                     std::uint64_t offset_bytes) {
    auto offset = to_db(offset_bytes);
    if (!offset) return fail(offset.error());
    const std::lock_guard lock(m_mutex);
    Transaction tx(m_db, *m_stmts);
    if (auto r = tx.begin(true); !r) return r;
    auto changes = update_upload(m_db, m_stmts->update_offset, upload_id, *offset, "update upload offset");
    if (!changes) return fail(changes.error());
    if (*changes == 0) return fail(not_found("no such upload"));
    return tx.commit();
}

StoreResult<void> SqliteMetaStore::set_upload_length(const std::string& upload_id,
                                                     std::uint64_t length_bytes) {
    auto length = to_db(length_bytes);
    if (!length) return fail(length.error());
    const std::lock_guard lock(m_mutex);
    Transaction tx(m_db, *m_stmts);
    if (auto r = tx.begin(true); !r) return r;
    auto changes = update_upload(m_db, m_stmts->update_length, upload_id, *length, "update upload length");
    if (!changes) return fail(changes.error());
    if (*changes == 0) {
        Use use(m_stmts->select_upload_state);
        bind_text(use.get(), 1, upload_id);
        const int rc = sqlite3_step(use.get());
        if (rc == SQLITE_DONE) return fail(not_found("no such upload"));
        if (rc != SQLITE_ROW) return fail(sqlite_failure(m_db, "read upload"));
        return fail(StoreFailure{StoreError::exists, "upload length already set"});
    }
    return tx.commit();
}

StoreResult<void> SqliteMetaStore::complete_upload(const std::string& upload_id,
                                                   const FileRecord& file) {
    auto size = to_db(file.size_bytes);
    if (!size) return fail(size.error());
    auto downloads = to_db(file.downloads);
    if (!downloads) return fail(downloads.error());
    std::optional<sqlite3_int64> max_downloads;
    if (file.max_downloads) {
        auto m = to_db(*file.max_downloads);
        if (!m) return fail(m.error());
        max_downloads = *m;
    }
    const std::lock_guard lock(m_mutex);
    forget_file(file.file_id);
    Transaction tx(m_db, *m_stmts);
    if (auto r = tx.begin(true); !r) return r;
    int changes = 0;
    {
        Use use(m_stmts->mark_complete);
        bind_text(use.get(), 1, upload_id);
        bind_text(use.get(), 2, file.file_id);
        if (auto r = run(m_db, use.get(), "mark upload complete", &changes); !r) return r;
    }
    if (changes == 0) {
        // Tell apart the three reasons the update matched nothing.
        Use use(m_stmts->select_upload_state);
        bind_text(use.get(), 1, upload_id);
        const int rc = sqlite3_step(use.get());
        if (rc == SQLITE_DONE) return fail(not_found("no such upload"));
        if (rc != SQLITE_ROW) return fail(sqlite_failure(m_db, "read upload"));
        if (sqlite3_column_int64(use.get(), 0) != 0) {
            return fail(StoreFailure{StoreError::exists, "upload already complete"});
        }
        return fail(StoreFailure{StoreError::io, "file id differs from the upload's file id"});
    }
    {
        Use use(m_stmts->insert_file);
        sqlite3_stmt* s = use.get();
        bind_text(s, 1, file.file_id);
        bind_int(s, 2, *size);
        bind_text(s, 3, file.sha256_hex);
        bind_text(s, 4, file.meta);
        bind_int(s, 5, file.created_s);
        bind_text(s, 6, file.xxh3_hex);
        bind_int(s, 7, file.price_msat);
        if (file.expires_s) bind_int(s, 8, *file.expires_s); else bind_null(s, 8);
        if (max_downloads) bind_int(s, 9, *max_downloads); else bind_null(s, 9);
        bind_int(s, 10, *downloads);
        bind_int(s, 11, file.revoked ? 1 : 0);
        bind_int(s, 12, file.anonymous ? 1 : 0);
        if (auto r = run(m_db, s, "insert file"); !r) return r;
    }
    return tx.commit();
}

StoreResult<void> SqliteMetaStore::delete_upload(const std::string& upload_id) {
    const std::lock_guard lock(m_mutex);
    Transaction tx(m_db, *m_stmts);
    if (auto r = tx.begin(true); !r) return r;
    int changes = 0;
    {
        Use use(m_stmts->delete_upload);
        bind_text(use.get(), 1, upload_id);
        if (auto r = run(m_db, use.get(), "delete upload", &changes); !r) return r;
    }
    if (changes == 0) return fail(not_found("no such upload"));
    return tx.commit();
}

StoreResult<std::vector<UploadRecord>> SqliteMetaStore::expired_uploads(std::int64_t now_s,
                                                                        std::size_t limit) {
    const std::lock_guard lock(m_mutex);
    Transaction tx(m_db, *m_stmts);
    if (auto r = tx.begin(false); !r) return fail(r.error());
    StoreResult<std::vector<UploadRecord>> rows;
    {
        Use use(m_stmts->select_expired);
        bind_int(use.get(), 1, now_s);
        bind_int(use.get(), 2, limit_to_db(limit));
        rows = collect_uploads(m_db, *m_stmts, use.get());
    }
    if (!rows) return rows;
    if (auto r = tx.commit(); !r) return fail(r.error());
    return rows;
}

StoreResult<std::vector<UploadRecord>> SqliteMetaStore::incomplete_uploads(std::size_t limit) {
    const std::lock_guard lock(m_mutex);
    Transaction tx(m_db, *m_stmts);
    if (auto r = tx.begin(false); !r) return fail(r.error());
    StoreResult<std::vector<UploadRecord>> rows;
    {
        Use use(m_stmts->select_incomplete);
        bind_int(use.get(), 1, limit_to_db(limit));
        rows = collect_uploads(m_db, *m_stmts, use.get());
    }
    if (!rows) return rows;
    if (auto r = tx.commit(); !r) return fail(r.error());
    return rows;
}

StoreResult<std::optional<FileRecord>> SqliteMetaStore::get_file(const std::string& file_id) {
    {
        const std::lock_guard cache(m_cache_mutex);
        if (const auto it = m_file_cache.find(file_id); it != m_file_cache.end()) {
            return std::optional<FileRecord>(it->second);
        }
    }
    const std::lock_guard lock(m_mutex);
    Use use(m_stmts->select_file);
    bind_text(use.get(), 1, file_id);
    const int rc = sqlite3_step(use.get());
    if (rc == SQLITE_DONE) return std::optional<FileRecord>();
    if (rc != SQLITE_ROW) return fail(sqlite_failure(m_db, "read file"));
    FileRecord file = read_file_row(use.get());
    const std::lock_guard cache(m_cache_mutex);
    if (m_file_cache.size() >= kFileCacheEntriesMax) m_file_cache.clear();
    m_file_cache.emplace(file_id, file);
    return std::optional<FileRecord>(std::move(file));
}

StoreResult<void> SqliteMetaStore::delete_file(const std::string& file_id) {
    const std::lock_guard lock(m_mutex);
    forget_file(file_id);
    Transaction tx(m_db, *m_stmts);
    if (auto r = tx.begin(true); !r) return r;
    int changes = 0;
    {
        Use use(m_stmts->delete_file);
        bind_text(use.get(), 1, file_id);
        if (auto r = run(m_db, use.get(), "delete file", &changes); !r) return r;
    }
    if (changes == 0) return fail(not_found("no such file"));
    return tx.commit();
}

StoreResult<std::vector<FileRecord>> SqliteMetaStore::list_files(const std::string& after_id,
                                                                 std::size_t limit) {
    const std::lock_guard lock(m_mutex);
    Use use(m_stmts->list_files);
    bind_text(use.get(), 1, after_id);
    bind_int(use.get(), 2, limit_to_db(limit));
    std::vector<FileRecord> out;
    for (;;) {
        const int rc = sqlite3_step(use.get());
        if (rc == SQLITE_DONE) return out;
        if (rc != SQLITE_ROW) return fail(sqlite_failure(m_db, "list files"));
        out.push_back(read_file_row(use.get()));
    }
}

StoreResult<std::uint64_t> SqliteMetaStore::count_download(const std::string& file_id) {
    const std::lock_guard lock(m_mutex);
    forget_file(file_id);
    Use use(m_stmts->count_download);
    bind_text(use.get(), 1, file_id);
    const int rc = sqlite3_step(use.get());
    if (rc == SQLITE_DONE) return fail(not_found("no such file"));
    if (rc != SQLITE_ROW) return fail(sqlite_failure(m_db, "count download"));
    const std::uint64_t count = column_u64(use.get(), 0);
    // RETURNING hands out the row before the statement finishes: step to the end so the
    // autocommit transaction commits (durably) before we answer.
    if (sqlite3_step(use.get()) != SQLITE_DONE) return fail(sqlite_failure(m_db, "count download"));
    return count;
}

StoreResult<void> SqliteMetaStore::add_downloads(const std::vector<std::pair<std::string, std::uint64_t>>& counts) {
    if (counts.empty()) return {};
    const std::lock_guard lock(m_mutex);
    for (const auto& entry : counts) forget_file(entry.first);
    Transaction tx(m_db, *m_stmts);
    if (auto r = tx.begin(true); !r) return r;
    for (const auto& [file_id, n] : counts) {
        auto v = to_db(n);
        if (!v) return fail(v.error());
        Use use(m_stmts->add_downloads);
        bind_text(use.get(), 1, file_id);
        sqlite3_bind_int64(use.get(), 2, *v);
        if (auto r = run(m_db, use.get(), "add downloads", nullptr); !r) return r;
    }
    return tx.commit();
}

StoreResult<void> SqliteMetaStore::uncount_download(const std::string& file_id) {
    const std::lock_guard lock(m_mutex);
    forget_file(file_id);
    Use use(m_stmts->uncount_download);
    bind_text(use.get(), 1, file_id);
    int changes = 0;
    if (auto r = run(m_db, use.get(), "uncount download", &changes); !r) return r;
    if (changes == 0) return fail(not_found("no such file"));
    return {};
}

StoreResult<FileRecord> SqliteMetaStore::update_file_controls(const std::string& file_id,
                                                              const FileControlsUpdate& update) {
    std::optional<sqlite3_int64> max_downloads;
    if (update.max_downloads && *update.max_downloads) {
        auto m = to_db(**update.max_downloads);
        if (!m) return fail(m.error());
        max_downloads = *m;
    }
    if (update.price_msat && *update.price_msat < 0) {
        return fail(StoreFailure{StoreError::io, "a price cannot be negative"});
    }
    const std::lock_guard lock(m_mutex);
    forget_file(file_id);
    // A rename also rewrites the upload's Upload-Metadata (what tus HEAD answers with the upload
    // capability), so the old sealed name is kept nowhere: both in one transaction.
    Transaction tx(m_db, *m_stmts);
    if (update.meta) {
        if (auto r = tx.begin(true); !r) return fail(r.error());
    }
    Use use(m_stmts->update_controls);
    sqlite3_stmt* s = use.get();
    bind_text(s, 1, file_id);
    bind_int(s, 2, update.price_msat ? 1 : 0);
    bind_int(s, 3, update.price_msat.value_or(0));
    bind_int(s, 4, update.expires_s ? 1 : 0);
    if (update.expires_s && *update.expires_s) bind_int(s, 5, **update.expires_s); else bind_null(s, 5);
    bind_int(s, 6, update.max_downloads ? 1 : 0);
    if (max_downloads) bind_int(s, 7, *max_downloads); else bind_null(s, 7);
    bind_int(s, 8, update.revoked ? 1 : 0);
    bind_int(s, 9, update.revoked.value_or(false) ? 1 : 0);
    bind_int(s, 10, update.meta ? 1 : 0);
    if (update.meta) bind_text(s, 11, *update.meta); else bind_null(s, 11);
    const int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) return fail(not_found("no such file"));
    if (rc != SQLITE_ROW) return fail(sqlite_failure(m_db, "update file controls"));
    FileRecord file = read_file_row(s);
    if (sqlite3_step(s) != SQLITE_DONE) return fail(sqlite_failure(m_db, "update file controls"));
    if (!update.meta) return file;
    std::optional<std::pair<std::string, std::string>> upload;  // id, rewritten metadata
    {
        Use select(m_stmts->select_upload_of_file);
        bind_text(select.get(), 1, file_id);
        const int found = sqlite3_step(select.get());
        if (found == SQLITE_ROW) {
            // Metadata without a "meta" pair (or that no longer parses) holds no name: kept.
            if (auto rewritten = with_meta(column_text(select.get(), 1), *update.meta)) {
                upload.emplace(column_text(select.get(), 0), std::move(*rewritten));
            }
        } else if (found != SQLITE_DONE) {
            return fail(sqlite_failure(m_db, "read the file's upload"));
        }
    }
    if (upload) {
        Use rewrite(m_stmts->update_upload_metadata);
        bind_text(rewrite.get(), 1, upload->first);
        bind_text(rewrite.get(), 2, upload->second);
        if (auto r = run(m_db, rewrite.get(), "rewrite upload metadata"); !r) return fail(r.error());
    }
    if (auto r = tx.commit(); !r) return fail(r.error());
    return file;
}

StoreResult<std::vector<FileRecord>> SqliteMetaStore::expired_anonymous_files(std::int64_t now_s,
                                                                              std::size_t limit) {
    const std::lock_guard lock(m_mutex);
    Use use(m_stmts->select_expired_files);
    bind_int(use.get(), 1, now_s);
    bind_int(use.get(), 2, limit_to_db(limit));
    std::vector<FileRecord> out;
    for (;;) {
        const int rc = sqlite3_step(use.get());
        if (rc == SQLITE_DONE) return out;
        if (rc != SQLITE_ROW) return fail(sqlite_failure(m_db, "list expired files"));
        out.push_back(read_file_row(use.get()));
    }
}

StoreResult<int> SqliteMetaStore::schema_version() {
    const std::lock_guard lock(m_mutex);
    Use use(m_stmts->select_schema_version);
    if (sqlite3_step(use.get()) != SQLITE_ROW) {
        return fail(sqlite_failure(m_db, "read schema version"));
    }
    return static_cast<int>(sqlite3_column_int64(use.get(), 0));
}

StoreResult<void> SqliteMetaStore::backup_to(const std::filesystem::path& file) {
    std::error_code ec;
    if (std::filesystem::symlink_status(file, ec).type() != std::filesystem::file_type::not_found) {
        return fail(StoreFailure{StoreError::exists, file.string() + " already exists"});
    }
    {
        const std::lock_guard lock(m_mutex);
        sqlite3_stmt* raw = nullptr;
        if (sqlite3_prepare_v2(m_db, "VACUUM INTO ?", -1, &raw, nullptr) != SQLITE_OK) {
            return fail(sqlite_failure(m_db, "prepare backup"));
        }
        const std::string path = file.string();
        sqlite3_bind_text(raw, 1, path.c_str(), static_cast<int>(path.size()), SQLITE_TRANSIENT);
        const int rc = sqlite3_step(raw);
        sqlite3_finalize(raw);
        if (rc != SQLITE_DONE) return fail(sqlite_failure(m_db, "backup"));
    }
    // VACUUM INTO writes without syncing: the copy and its directory entry are made durable
    // here, so a backup that reported success survives a power loss.
    const UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return fail(errno_failure(errno, "open backup " + file.string()));
    if (auto r = fsync_fd(fd.get(), "fsync backup"); !r) return r;
    const std::filesystem::path dir = file.parent_path().empty() ? "." : file.parent_path();
    const UniqueFd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir_fd.valid()) return fail(errno_failure(errno, "open " + dir.string()));
    return fsync_fd(dir_fd.get(), "fsync backup directory");
}

}  // namespace satload::store
