// MetaStore on PostgreSQL (`serve --db postgresql://…`): uploads and files in the deployment's
// schema, shared by every server process, so nothing is kept in memory between calls.
#pragma once

#include <memory>
#include <string>

#include "store/meta_store.h"
#include "store/pg_db.h"

namespace satload::store {

// The "meta" component's schema version this program writes (steps in pg_meta_store.cpp).
inline constexpr int kPgMetaSchemaVersion = 2;
// The component name under which the migrations are recorded.
inline constexpr std::string_view kPgMetaComponent = "meta";

class PgMetaStore final : public MetaStore {
public:
    // Applies pending migrations (once, however many processes open at the same time); a
    // database whose "meta" schema is newer than this program's is refused.
    static StoreResult<std::unique_ptr<PgMetaStore>> open(std::shared_ptr<PgDb> db);
    PgMetaStore(const PgMetaStore&) = delete;
    PgMetaStore& operator=(const PgMetaStore&) = delete;

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
    // The lock is a row of upload_locks (schema step 2), taken and given back in one statement
    // each, so it holds across every process on the schema.
    StoreResult<UploadLockGrant> lock_upload(const std::string& upload_id,
                                             const std::string& holder, std::int64_t now_s,
                                             std::int64_t until_s) override;
    StoreResult<bool> renew_upload_lock(const std::string& upload_id, const std::string& holder,
                                        std::int64_t until_s) override;
    StoreResult<void> unlock_upload(const std::string& upload_id,
                                    const std::string& holder) override;

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

    [[nodiscard]] const std::shared_ptr<PgDb>& db() const { return m_db; }

private:
    explicit PgMetaStore(std::shared_ptr<PgDb> db) : m_db(std::move(db)) {}

    std::shared_ptr<PgDb> m_db;
};

}  // namespace satload::store
