// MetaStore on SQLite, the embedded default: one database file in WAL mode with
// synchronous=FULL, so every method's transaction is durable when it returns.
#pragma once

#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "store/meta_store.h"

struct sqlite3;

namespace satload::store {

// How long a connection waits for another process's lock before failing (busy_timeout).
inline constexpr int kSqliteBusyTimeoutMs = 5000;
// The schema this program writes; a database with a newer version is refused on open.
inline constexpr int kSqliteMetaSchemaVersion = 3;

// File records kept in memory at most (a record is a few hundred bytes; its sealed metadata at
// most ~8 KiB).
inline constexpr std::size_t kFileCacheEntriesMax = 1024;

class SqliteMetaStore final : public MetaStore {
public:
    // Opens or creates the database and applies pending schema migrations in one transaction.
    static StoreResult<std::unique_ptr<SqliteMetaStore>> open(std::filesystem::path db_file);
    ~SqliteMetaStore() override;
    SqliteMetaStore(const SqliteMetaStore&) = delete;
    SqliteMetaStore& operator=(const SqliteMetaStore&) = delete;

    StoreResult<void> create_upload(const UploadRecord& upload) override;
    StoreResult<std::optional<UploadRecord>> get_upload(const std::string& upload_id) override;
    StoreResult<std::optional<std::string>> upload_id_of_file(const std::string& file_id) override;
    StoreResult<void> set_upload_offset(const std::string& upload_id,
                                        std::uint64_t offset_bytes) override;
    StoreResult<void> set_upload_length(const std::string& upload_id,
                                        std::uint64_t length_bytes) override;
    StoreResult<void> complete_upload(const std::string& upload_id,
                                      const FileRecord& file) override;
    StoreResult<void> delete_upload(const std::string& upload_id) override;
    StoreResult<std::vector<UploadRecord>> expired_uploads(std::int64_t now_s,
                                                           std::size_t limit) override;
    StoreResult<std::vector<UploadRecord>> incomplete_uploads(std::size_t limit) override;

    StoreResult<std::optional<FileRecord>> get_file(const std::string& file_id) override;
    StoreResult<void> delete_file(const std::string& file_id) override;
    StoreResult<std::vector<FileRecord>> list_files(const std::string& after_id,
                                                    std::size_t limit) override;
    StoreResult<std::uint64_t> count_download(const std::string& file_id) override;
    StoreResult<void> add_downloads(
        const std::vector<std::pair<std::string, std::uint64_t>>& counts) override;
    StoreResult<void> uncount_download(const std::string& file_id) override;
    StoreResult<FileRecord> update_file_controls(const std::string& file_id,
                                                 const FileControlsUpdate& update) override;
    StoreResult<std::vector<FileRecord>> expired_anonymous_files(std::int64_t now_s,
                                                                 std::size_t limit) override;

    // The schema version recorded in the database (for tests and `admin migrate`).
    StoreResult<int> schema_version();
    // An online, consistent copy of the database as one new file (VACUUM INTO: one read
    // transaction, so writers on other connections are not blocked), synced with its
    // directory. `file` must not exist yet (StoreError::exists).
    StoreResult<void> backup_to(const std::filesystem::path& file);

    struct Statements;  // the prepared statements, defined in the .cpp

private:
    SqliteMetaStore(sqlite3* db, std::unique_ptr<Statements> statements);

    // Every call takes this mutex: one connection serves all server threads, and SQLite
    // connections must not run two statements' transactions interleaved.
    std::mutex m_mutex;
    sqlite3* m_db;
    std::unique_ptr<Statements> m_stmts;
    // File records as read, so serving a file does not query SQLite each time (a third of a
    // small download's instructions went to that read). This connection is the files table's
    // only writer while the server runs (the CLI's admin commands go through the server's API,
    // or run with no server), and every method that writes a file forgets its entry first, so
    // an entry is never older than the row. Emptied when it reaches kFileCacheEntriesMax.
    // A hit takes only m_cache_mutex, so serving a kept file never waits behind a write's sync
    // on m_mutex. Entries are added and forgotten with m_mutex held too, so no read from before
    // a write can land in the cache after that write forgot it.
    std::mutex m_cache_mutex;
    std::unordered_map<std::string, FileRecord> m_file_cache;
    void forget_file(const std::string& file_id) {
        const std::lock_guard lock(m_cache_mutex);
        m_file_cache.erase(file_id);
    }
};

}  // namespace satload::store
