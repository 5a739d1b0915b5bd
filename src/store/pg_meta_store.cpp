// PgMetaStore: uploads and files in PostgreSQL, every call one transaction through PgDb and
// every value a statement parameter. Several server processes share the tables, so each
// read goes to the database (no record is kept in memory across calls).
#include "store/pg_meta_store.h"

#include <algorithm>
#include <string_view>

#include "core/check.h"
#include "core/encoding.h"
#include "core/http_headers.h"

namespace satload::store {
namespace {

// Step N (1-based) takes the "meta" schema from version N-1 to N. Append only. The columns are
// those of the SQLite store's schema v3; ids compare byte by byte (COLLATE "C") as SQLite's do,
// so list_files pages in the same order whatever the database's locale.
constexpr std::string_view kSteps[] = {
    R"sql(
CREATE TABLE uploads (
    upload_id    TEXT COLLATE "C" PRIMARY KEY,
    file_id      TEXT COLLATE "C" NOT NULL UNIQUE,
    length_bytes BIGINT CHECK (length_bytes IS NULL OR length_bytes >= 0),
    offset_bytes BIGINT NOT NULL CHECK (offset_bytes >= 0),
    metadata     TEXT NOT NULL,
    created_s    BIGINT NOT NULL,
    expires_s    BIGINT NOT NULL,
    is_partial   BOOLEAN NOT NULL,
    complete     BOOLEAN NOT NULL,
    anonymous    BOOLEAN NOT NULL DEFAULT FALSE,
    CHECK (length_bytes IS NULL OR offset_bytes <= length_bytes)
);
CREATE INDEX uploads_incomplete_by_expiry ON uploads (expires_s, created_s) WHERE NOT complete;
CREATE INDEX uploads_incomplete_by_created ON uploads (created_s) WHERE NOT complete;
CREATE TABLE upload_parts (
    upload_id      TEXT COLLATE "C" NOT NULL REFERENCES uploads (upload_id) ON DELETE CASCADE,
    position       BIGINT NOT NULL,
    part_upload_id TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (upload_id, position)
);
CREATE TABLE files (
    file_id       TEXT COLLATE "C" PRIMARY KEY,
    size_bytes    BIGINT NOT NULL CHECK (size_bytes >= 0),
    sha256_hex    TEXT NOT NULL CHECK (length(sha256_hex) = 64),
    meta          TEXT NOT NULL,
    created_s     BIGINT NOT NULL,
    xxh3_hex      TEXT NOT NULL DEFAULT '' CHECK (xxh3_hex = '' OR length(xxh3_hex) = 32),
    price_msat    BIGINT NOT NULL DEFAULT 0 CHECK (price_msat >= 0),
    expires_s     BIGINT,
    max_downloads BIGINT CHECK (max_downloads IS NULL OR max_downloads >= 0),
    downloads     BIGINT NOT NULL DEFAULT 0 CHECK (downloads >= 0),
    revoked       BOOLEAN NOT NULL DEFAULT FALSE,
    anonymous     BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX files_anonymous_by_expiry ON files (expires_s)
    WHERE anonymous AND expires_s IS NOT NULL;
)sql",
    // 2: the one-writer lock of an upload across processes (lock_upload). No foreign key: a
    // lock is taken before the upload is read, and a row left by a crashed process is taken
    // over once its lease ends; delete_upload and complete_upload drop the row.
    R"sql(
CREATE TABLE upload_locks (
    upload_id TEXT COLLATE "C" PRIMARY KEY,
    holder    TEXT NOT NULL,
    until_s   BIGINT NOT NULL
);
)sql",
};
static_assert(std::size(kSteps) == kPgMetaSchemaVersion,
              "kPgMetaSchemaVersion must equal the number of migration steps");

#define SATLOAD_UPLOAD_COLUMNS                                                         \
    "upload_id, file_id, length_bytes, offset_bytes, metadata, created_s, expires_s, " \
    "is_partial, complete, anonymous"
#define SATLOAD_FILE_COLUMNS                                                              \
    "file_id, size_bytes, sha256_hex, meta, created_s, xxh3_hex, price_msat, expires_s, " \
    "max_downloads, downloads, revoked, anonymous"

// Upload rows with their concatenation parts in one query: `selection` (a CTE named u over
// SATLOAD_UPLOAD_COLUMNS) joined to its parts, one row per part (or one with a NULL part).
#define SATLOAD_UPLOADS_WITH_PARTS(selection, order)                  \
    "WITH u AS (" selection                                           \
    ") SELECT u.*, p.part_upload_id FROM u LEFT JOIN upload_parts p " \
    "ON p.upload_id = u.upload_id ORDER BY " order

constexpr const char* kSelectUpload = SATLOAD_UPLOADS_WITH_PARTS(
    "SELECT " SATLOAD_UPLOAD_COLUMNS " FROM uploads WHERE upload_id = $1", "p.position");
constexpr const char* kSelectExpiredUploads =
    SATLOAD_UPLOADS_WITH_PARTS("SELECT " SATLOAD_UPLOAD_COLUMNS
                               " FROM uploads WHERE NOT complete AND expires_s <= $1"
                               " ORDER BY expires_s, created_s, upload_id LIMIT $2",
                               "u.expires_s, u.created_s, u.upload_id, p.position");
constexpr const char* kSelectIncompleteUploads =
    SATLOAD_UPLOADS_WITH_PARTS("SELECT " SATLOAD_UPLOAD_COLUMNS
                               " FROM uploads WHERE NOT complete"
                               " ORDER BY created_s, upload_id LIMIT $1",
                               "u.created_s, u.upload_id, p.position");
constexpr int kPartColumn = 10;  // after the ten upload columns

constexpr const char* kInsertUpload = "INSERT INTO uploads (" SATLOAD_UPLOAD_COLUMNS
                                      ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
constexpr const char* kInsertParts =
    "INSERT INTO upload_parts (upload_id, position, part_upload_id) "
    "SELECT $1, ordinality - 1, part"
    " FROM unnest($2::text[]) WITH ORDINALITY AS t(part, ordinality)";
constexpr const char* kInsertFile = "INSERT INTO files (" SATLOAD_FILE_COLUMNS
                                    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";
constexpr const char* kSelectFile = "SELECT " SATLOAD_FILE_COLUMNS " FROM files WHERE file_id = $1";
constexpr const char* kListFiles =
    "SELECT " SATLOAD_FILE_COLUMNS " FROM files WHERE file_id > $1 ORDER BY file_id LIMIT $2";
constexpr const char* kSelectExpiredFiles =
    "SELECT " SATLOAD_FILE_COLUMNS
    " FROM files WHERE anonymous AND expires_s IS NOT NULL AND "
    "expires_s <= $1 ORDER BY expires_s, file_id LIMIT $2";
// Each member is ($even: whether to change it, $odd: the new value), so one statement serves
// every combination of changes and returns the row as it ends up.
constexpr const char* kUpdateControls =
    "UPDATE files SET"
    " price_msat = CASE WHEN $2::boolean THEN $3::bigint ELSE price_msat END,"
    " expires_s = CASE WHEN $4::boolean THEN $5::bigint ELSE expires_s END,"
    " max_downloads = CASE WHEN $6::boolean THEN $7::bigint ELSE max_downloads END,"
    " revoked = CASE WHEN $8::boolean THEN $9::boolean ELSE revoked END,"
    " meta = CASE WHEN $10::boolean THEN $11::text ELSE meta END"
    " WHERE file_id = $1 RETURNING " SATLOAD_FILE_COLUMNS;

// Takes the lock when it is free, its lease ended or the holder is the same (which extends it):
// one statement, so two processes racing for a free lock serialize on the row and exactly one
// gets it back in RETURNING. $1 upload, $2 holder, $3 now_s, $4 until_s.
// The lock's last holder, read first and locked until the transaction ends: the row of a
// released lock stays (unlock_upload ends its lease) and names who held it last. (Not a CTE
// of kLockUpload: PostgreSQL runs a CTE only when its rows are asked for, here after the
// upsert had changed the row, which its FOR UPDATE then skips.)
constexpr const char* kLastUploadLockHolder =
    "SELECT holder FROM upload_locks WHERE upload_id = $1 FOR UPDATE";
// Answers one row when the lock is now $2's.
constexpr const char* kLockUpload =
    "INSERT INTO upload_locks (upload_id, holder, until_s) VALUES ($1, $2, $4)"
    " ON CONFLICT (upload_id) DO UPDATE SET holder = EXCLUDED.holder, until_s = EXCLUDED.until_s"
    " WHERE upload_locks.until_s <= $3 OR upload_locks.holder = EXCLUDED.holder"
    " RETURNING holder";
constexpr const char* kRenewUploadLock =
    "UPDATE upload_locks SET until_s = $3 WHERE upload_id = $1 AND holder = $2 RETURNING holder";
// A released lock's row stays while its upload is there to be written again (it names the
// last holder: see kLockUpload); one of no incomplete upload (a request for an id that names
// none, or an upload deleted meanwhile) goes, so the table does not grow with such requests.
constexpr const char* kUnlockUpload =
    "UPDATE upload_locks SET until_s = 0 WHERE upload_id = $1 AND holder = $2";
constexpr const char* kDropStrayUploadLock =
    "DELETE FROM upload_locks WHERE upload_id = $1 AND holder = $2 AND NOT EXISTS"
    " (SELECT 1 FROM uploads WHERE uploads.upload_id = $1 AND NOT uploads.complete)";
constexpr const char* kDropUploadLock = "DELETE FROM upload_locks WHERE upload_id = $1";

#undef SATLOAD_UPLOADS_WITH_PARTS
#undef SATLOAD_FILE_COLUMNS
#undef SATLOAD_UPLOAD_COLUMNS

StoreFailure not_found(std::string_view what) {
    return StoreFailure{StoreError::not_found, std::string(what)};
}

// A nullable integer parameter: libpqxx 6 takes no std::optional, but a null C string is NULL.
class NullableInt {
public:
    explicit NullableInt(std::optional<std::int64_t> value)
        : m_null(!value), m_text(value ? std::to_string(*value) : std::string()) {}
    [[nodiscard]] const char* param() const { return m_null ? nullptr : m_text.c_str(); }

private:
    bool m_null;
    std::string m_text;
};

// A text[] parameter in PostgreSQL's array syntax, every element quoted, so any text (an id
// as the caller sent it) arrives as one element, never as syntax.
std::string text_array(const std::vector<std::string>& items) {
    std::string out = "{";
    for (const auto& item : items) {
        if (out.size() > 1) out += ',';
        out += '"';
        for (const char c : item) {
            if (c == '"' || c == '\\') out += '\\';
            out += c;
        }
        out += '"';
    }
    out += '}';
    return out;
}

UploadRecord read_upload_row(const pqxx::row& r) {
    UploadRecord u;
    u.upload_id = pg_text(r[0]);
    u.file_id = pg_text(r[1]);
    if (!r[2].is_null()) u.length_bytes = pg_u64(r[2]);
    u.offset_bytes = pg_u64(r[3]);
    u.metadata = pg_text(r[4]);
    u.created_s = r[5].as<std::int64_t>();
    u.expires_s = r[6].as<std::int64_t>();
    u.is_partial = r[7].as<bool>();
    u.complete = r[8].as<bool>();
    u.anonymous = r[9].as<bool>();
    return u;
}

FileRecord read_file_row(const pqxx::row& r) {
    FileRecord f;
    f.file_id = pg_text(r[0]);
    f.size_bytes = pg_u64(r[1]);
    f.sha256_hex = pg_text(r[2]);
    f.meta = pg_text(r[3]);
    f.created_s = r[4].as<std::int64_t>();
    f.xxh3_hex = pg_text(r[5]);
    f.price_msat = r[6].as<std::int64_t>();
    f.expires_s = pg_optional_bigint(r[7]);
    if (!r[8].is_null()) f.max_downloads = pg_u64(r[8]);
    f.downloads = pg_u64(r[9]);
    f.revoked = r[10].as<bool>();
    f.anonymous = r[11].as<bool>();
    return f;
}

// Folds the rows of an uploads-with-parts query (one per part, in order) into records.
std::vector<UploadRecord> read_uploads(const pqxx::result& rows) {
    std::vector<UploadRecord> out;
    for (const auto& row : rows) {
        if (out.empty() ||
            out.back().upload_id != std::string_view(row[0].c_str(), row[0].size())) {
            out.push_back(read_upload_row(row));
        }
        if (!row[kPartColumn].is_null()) out.back().parts.push_back(pg_text(row[kPartColumn]));
    }
    return out;
}

// `upload_metadata` (a tus Upload-Metadata value) with its "meta" pair replaced by `meta`.
std::optional<std::string> with_meta(std::string_view upload_metadata, const std::string& meta) {
    return replace_upload_metadata_value(upload_metadata, "meta", meta);
}

}  // namespace

StoreResult<std::unique_ptr<PgMetaStore>> PgMetaStore::open(std::shared_ptr<PgDb> db) {
    SATLOAD_ASSERT(db != nullptr);
    if (auto r = db->migrate(kPgMetaComponent, kSteps); !r) return fail(r.error());
    return std::unique_ptr<PgMetaStore>(new PgMetaStore(std::move(db)));
}

StoreResult<void> PgMetaStore::create_upload(const UploadRecord& upload) {
    if (!pg_storable_all(upload.upload_id, upload.file_id, upload.metadata) ||
        !std::all_of(upload.parts.begin(), upload.parts.end(), pg_storable)) {
        return fail(pg_unstorable("an upload's text"));
    }
    auto offset = pg_bigint(upload.offset_bytes);
    if (!offset) return fail(offset.error());
    auto length = pg_bigint(upload.length_bytes);
    if (!length) return fail(length.error());
    const NullableInt length_param(*length);
    return m_db->transact("insert upload", [&](pqxx::work& w) {
        w.exec_params(kInsertUpload, upload.upload_id, upload.file_id, length_param.param(),
                      *offset, upload.metadata, upload.created_s, upload.expires_s,
                      upload.is_partial, upload.complete, upload.anonymous);
        if (!upload.parts.empty())
            w.exec_params(kInsertParts, upload.upload_id, text_array(upload.parts));
    });
}

StoreResult<std::optional<UploadRecord>> PgMetaStore::get_upload(const std::string& upload_id) {
    if (!pg_storable(upload_id)) return std::optional<UploadRecord>();
    // One statement (the upload joined to its parts): no transaction block needed.
    return m_db->read("read upload", [&](pqxx::nontransaction& n) {
        auto rows = read_uploads(n.exec_params(kSelectUpload, upload_id));
        SATLOAD_ASSERT(rows.size() <= 1);
        return rows.empty() ? std::optional<UploadRecord>()
                            : std::optional(std::move(rows.front()));
    });
}

StoreResult<std::optional<std::string>> PgMetaStore::upload_id_of_file(const std::string& file_id) {
    if (!pg_storable(file_id)) return std::optional<std::string>();
    return m_db->read("read the file's upload", [&](pqxx::nontransaction& n) {
        const auto r = n.exec_params("SELECT upload_id FROM uploads WHERE file_id = $1", file_id);
        return r.empty() ? std::optional<std::string>() : std::optional(pg_text(r[0][0]));
    });
}

StoreResult<void> PgMetaStore::set_upload_offset(const std::string& upload_id,
                                                 std::uint64_t offset_bytes) {
    if (!pg_storable(upload_id)) return fail(not_found("no such upload"));
    auto offset = pg_bigint(offset_bytes);
    if (!offset) return fail(offset.error());
    return m_db->transact("update upload offset", [&](pqxx::work& w) -> StoreResult<void> {
        const auto r = w.exec_params("UPDATE uploads SET offset_bytes = $2 WHERE upload_id = $1",
                                     upload_id, *offset);
        if (r.affected_rows() == 0) return fail(not_found("no such upload"));
        return {};
    });
}

StoreResult<void> PgMetaStore::set_upload_length(const std::string& upload_id,
                                                 std::uint64_t length_bytes) {
    if (!pg_storable(upload_id)) return fail(not_found("no such upload"));
    auto length = pg_bigint(length_bytes);
    if (!length) return fail(length.error());
    return m_db->transact("update upload length", [&](pqxx::work& w) -> StoreResult<void> {
        // Upload-Length is set once (tus creation-defer-length); repeating the same value is
        // harmless, a different one is refused.
        const auto r = w.exec_params(
            "UPDATE uploads SET length_bytes = $2 WHERE upload_id = $1 AND "
            "(length_bytes IS NULL OR length_bytes = $2)",
            upload_id, *length);
        if (r.affected_rows() != 0) return {};
        if (w.exec_params("SELECT 1 FROM uploads WHERE upload_id = $1", upload_id).empty()) {
            return fail(not_found("no such upload"));
        }
        return fail(StoreFailure{StoreError::exists, "upload length already set"});
    });
}

StoreResult<void> PgMetaStore::complete_upload(const std::string& upload_id,
                                               const FileRecord& file) {
    if (!pg_storable(upload_id)) return fail(not_found("no such upload"));
    if (!pg_storable_all(file.file_id, file.sha256_hex, file.xxh3_hex, file.meta)) {
        return fail(pg_unstorable("a file's text"));
    }
    auto size = pg_bigint(file.size_bytes);
    if (!size) return fail(size.error());
    auto downloads = pg_bigint(file.downloads);
    if (!downloads) return fail(downloads.error());
    auto max_downloads = pg_bigint(file.max_downloads);
    if (!max_downloads) return fail(max_downloads.error());
    const NullableInt expires_param(file.expires_s);
    const NullableInt max_downloads_param(*max_downloads);
    return m_db->transact("complete upload", [&](pqxx::work& w) -> StoreResult<void> {
        const auto marked = w.exec_params(
            "UPDATE uploads SET complete = TRUE WHERE upload_id = $1 AND file_id = $2 AND NOT "
            "complete",
            upload_id, file.file_id);
        if (marked.affected_rows() == 0) {
            // Tell apart the three reasons the update matched nothing (nothing was written).
            const auto state =
                w.exec_params("SELECT complete FROM uploads WHERE upload_id = $1", upload_id);
            if (state.empty()) return fail(not_found("no such upload"));
            if (state[0][0].as<bool>()) {
                return fail(StoreFailure{StoreError::exists, "upload already complete"});
            }
            return fail(StoreFailure{StoreError::io, "file id differs from the upload's file id"});
        }
        // A failing insert (the file exists: StoreError::exists) throws, which rolls back the
        // mark above: the two writes commit together or not at all.
        w.exec_params(kInsertFile, file.file_id, *size, file.sha256_hex, file.meta, file.created_s,
                      file.xxh3_hex, file.price_msat, expires_param.param(),
                      max_downloads_param.param(), *downloads, file.revoked, file.anonymous);
        // A complete upload is never written again: its lock has no more use.
        w.exec_params(kDropUploadLock, upload_id);
        return {};
    });
}

StoreResult<void> PgMetaStore::delete_upload(const std::string& upload_id) {
    if (!pg_storable(upload_id)) return fail(not_found("no such upload"));
    return m_db->transact("delete upload", [&](pqxx::work& w) -> StoreResult<void> {
        // Its parts go with it (ON DELETE CASCADE), its lock with it (no foreign key).
        const auto r = w.exec_params("DELETE FROM uploads WHERE upload_id = $1", upload_id);
        if (r.affected_rows() == 0) return fail(not_found("no such upload"));
        w.exec_params(kDropUploadLock, upload_id);
        return {};
    });
}

StoreResult<UploadLockGrant> PgMetaStore::lock_upload(const std::string& upload_id,
                                                      const std::string& holder,
                                                      std::int64_t now_s, std::int64_t until_s) {
    // An id PostgreSQL cannot hold names no upload: there is nothing to write and nothing to
    // guard (the caller's read of it finds nothing), as get_upload treats it.
    if (!pg_storable(upload_id)) return UploadLockGrant::taken;
    if (!pg_storable(holder)) return fail(pg_unstorable("an upload lock's holder"));
    return m_db->transact("lock upload", [&](pqxx::work& w) {
        // Read committed: when the row exists it is locked from here on; when another
        // transaction inserts it meanwhile, the upsert below meets that row (refused, or taken
        // over from it once its lease ended).
        const pqxx::result last = w.exec_params(kLastUploadLockHolder, upload_id);
        const bool ours_last = !last.empty() && last[0][0].as<std::string>() == holder;
        if (w.exec_params(kLockUpload, upload_id, holder, now_s, until_s).empty()) {
            return UploadLockGrant::refused;
        }
        return ours_last ? UploadLockGrant::kept : UploadLockGrant::taken;
    });
}

StoreResult<bool> PgMetaStore::renew_upload_lock(const std::string& upload_id,
                                                 const std::string& holder, std::int64_t until_s) {
    if (!pg_storable(upload_id)) return true;  // as lock_upload: nothing was stored
    if (!pg_storable(holder)) return fail(pg_unstorable("an upload lock's holder"));
    return m_db->transact("renew upload lock", [&](pqxx::work& w) {
        return !w.exec_params(kRenewUploadLock, upload_id, holder, until_s).empty();
    });
}

StoreResult<void> PgMetaStore::unlock_upload(const std::string& upload_id,
                                             const std::string& holder) {
    if (!pg_storable_all(upload_id, holder)) return {};
    return m_db->transact("unlock upload", [&](pqxx::work& w) {
        w.exec_params(kUnlockUpload, upload_id, holder);
        w.exec_params(kDropStrayUploadLock, upload_id, holder);
    });
}

StoreResult<std::vector<UploadRecord>> PgMetaStore::expired_uploads(std::int64_t now_s,
                                                                    std::size_t limit) {
    return m_db->transact("list expired uploads", [&](pqxx::work& w) {
        return read_uploads(w.exec_params(kSelectExpiredUploads, now_s, pg_limit(limit)));
    });
}

StoreResult<std::vector<UploadRecord>> PgMetaStore::incomplete_uploads(std::size_t limit) {
    return m_db->transact("list incomplete uploads", [&](pqxx::work& w) {
        return read_uploads(w.exec_params(kSelectIncompleteUploads, pg_limit(limit)));
    });
}

StoreResult<std::optional<FileRecord>> PgMetaStore::get_file(const std::string& file_id) {
    if (!pg_storable(file_id)) return std::optional<FileRecord>();
    return m_db->read("read file", [&](pqxx::nontransaction& n) {
        return pg_first(n.exec_params(kSelectFile, file_id), read_file_row);
    });
}

StoreResult<void> PgMetaStore::delete_file(const std::string& file_id) {
    if (!pg_storable(file_id)) return fail(not_found("no such file"));
    return m_db->transact("delete file", [&](pqxx::work& w) -> StoreResult<void> {
        const auto r = w.exec_params("DELETE FROM files WHERE file_id = $1", file_id);
        if (r.affected_rows() == 0) return fail(not_found("no such file"));
        return {};
    });
}

StoreResult<std::vector<FileRecord>> PgMetaStore::list_files(const std::string& after_id,
                                                             std::size_t limit) {
    if (!pg_storable(after_id)) return fail(pg_unstorable("the id to list after"));
    return m_db->transact("list files", [&](pqxx::work& w) {
        return pg_rows(w.exec_params(kListFiles, after_id, pg_limit(limit)), read_file_row);
    });
}

StoreResult<std::uint64_t> PgMetaStore::count_download(const std::string& file_id) {
    if (!pg_storable(file_id)) return fail(not_found("no such file"));
    return m_db->transact("count download", [&](pqxx::work& w) -> StoreResult<std::uint64_t> {
        // One statement: the row lock makes concurrent downloads (from any process) each add
        // exactly one and see their own count.
        const auto r = w.exec_params(
            "UPDATE files SET downloads = downloads + 1 WHERE file_id = $1 RETURNING downloads",
            file_id);
        if (r.empty()) return fail(not_found("no such file"));
        return pg_u64(r[0][0]);
    });
}

StoreResult<void> PgMetaStore::add_downloads(
    const std::vector<std::pair<std::string, std::uint64_t>>& counts) {
    if (counts.empty()) return {};
    std::vector<std::string> ids;
    std::vector<std::string> amounts;
    ids.reserve(counts.size());
    amounts.reserve(counts.size());
    for (const auto& [file_id, n] : counts) {
        auto v = pg_bigint(n);
        if (!v) return fail(v.error());
        if (!pg_storable(file_id)) continue;  // names no file: skipped like a deleted one
        ids.push_back(file_id);
        amounts.push_back(std::to_string(*v));
    }
    if (ids.empty()) return {};
    const std::string ids_param = text_array(ids);
    const std::string amounts_param = text_array(amounts);
    return m_db->transact("add downloads", [&](pqxx::work& w) {
        // The rows are locked in id order first, so two batches over the same files cannot
        // deadlock; a file named twice gets both counts; deleted files are skipped.
        w.exec_params(
            "SELECT 1 FROM files WHERE file_id = ANY($1::text[]) ORDER BY file_id FOR UPDATE",
            ids_param);
        w.exec_params(
            "UPDATE files AS f SET downloads = f.downloads + c.n FROM ("
            "SELECT id, sum(n)::bigint AS n FROM unnest($1::text[], $2::bigint[]) AS t(id, n)"
            " GROUP BY id) AS c WHERE f.file_id = c.id",
            ids_param, amounts_param);
    });
}

StoreResult<void> PgMetaStore::uncount_download(const std::string& file_id) {
    if (!pg_storable(file_id)) return fail(not_found("no such file"));
    return m_db->transact("uncount download", [&](pqxx::work& w) -> StoreResult<void> {
        const auto r = w.exec_params(
            "UPDATE files SET downloads = GREATEST(downloads - 1, 0) WHERE file_id = $1", file_id);
        if (r.affected_rows() == 0) return fail(not_found("no such file"));
        return {};
    });
}

StoreResult<FileRecord> PgMetaStore::update_file_controls(const std::string& file_id,
                                                          const FileControlsUpdate& update) {
    if (!pg_storable(file_id)) return fail(not_found("no such file"));
    std::optional<std::int64_t> max_downloads;
    if (update.max_downloads && *update.max_downloads) {
        auto m = pg_bigint(**update.max_downloads);
        if (!m) return fail(m.error());
        max_downloads = *m;
    }
    if (update.price_msat && *update.price_msat < 0) {
        return fail(StoreFailure{StoreError::io, "a price cannot be negative"});
    }
    if (update.meta && !pg_storable(*update.meta)) return fail(pg_unstorable("a file's metadata"));
    const NullableInt expires_param(update.expires_s ? *update.expires_s : std::nullopt);
    const NullableInt max_downloads_param(max_downloads);
    const char* meta_param = update.meta ? update.meta->c_str() : nullptr;
    return m_db->transact("update file controls", [&](pqxx::work& w) -> StoreResult<FileRecord> {
        const auto rows = w.exec_params(
            kUpdateControls, file_id, update.price_msat.has_value(), update.price_msat.value_or(0),
            update.expires_s.has_value(), expires_param.param(), update.max_downloads.has_value(),
            max_downloads_param.param(), update.revoked.has_value(), update.revoked.value_or(false),
            update.meta.has_value(), meta_param);
        if (rows.empty()) return fail(not_found("no such file"));
        FileRecord file = read_file_row(rows[0]);
        if (!update.meta) return file;
        // A rename also rewrites the upload's Upload-Metadata (what tus HEAD answers with the
        // upload capability), so the old sealed name is kept nowhere: both in this transaction.
        const auto upload = w.exec_params(
            "SELECT upload_id, metadata FROM uploads WHERE file_id = $1 FOR UPDATE", file_id);
        if (!upload.empty()) {
            // Metadata without a "meta" pair (or that no longer parses) holds no name: kept.
            if (auto rewritten = with_meta(pg_text(upload[0][1]), *update.meta)) {
                w.exec_params("UPDATE uploads SET metadata = $2 WHERE upload_id = $1",
                              pg_text(upload[0][0]), *rewritten);
            }
        }
        return file;
    });
}

StoreResult<std::vector<FileRecord>> PgMetaStore::expired_anonymous_files(std::int64_t now_s,
                                                                          std::size_t limit) {
    return m_db->transact("list expired files", [&](pqxx::work& w) {
        return pg_rows(w.exec_params(kSelectExpiredFiles, now_s, pg_limit(limit)), read_file_row);
    });
}

}  // namespace satload::store
