// BlobStore over a local directory: partial uploads in partial/<upload_id>, complete blobs in
// blobs/<first two id chars>/<file_id>, tmp/ for staging. Crash-safe by fsync and rename.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>

#include "store/blob_store.h"
#include "store/posix_file.h"

namespace satload::store {

// Digests and commits read the stored bytes in blocks of this size.
inline constexpr std::size_t kBlobReadBlockBytes = std::size_t{1} << 20;

class LocalBlobStore final : public BlobStore {
public:
    // Creates root and its subdirectories if missing (mode 0700) and keeps partial/ and blobs/
    // open, so every later operation resolves names relative to them and never re-walks
    // `root`. tmp/ is created for staging files that are not yet partial uploads or blobs.
    static StoreResult<std::unique_ptr<LocalBlobStore>> open(std::filesystem::path root);

    StoreResult<void> create_partial(std::string_view upload_id) override;
    StoreResult<std::unique_ptr<BlobAppender>> open_append(std::string_view upload_id,
                                                           std::uint64_t durable_offset) override;
    StoreResult<std::unique_ptr<BlobReader>> open_partial(std::string_view upload_id) override;
    StoreResult<void> remove_partial(std::string_view upload_id) override;
    StoreResult<BlobDigest> commit_partial(std::string_view upload_id,
                                           std::string_view file_id) override;

    StoreResult<std::unique_ptr<BlobReader>> open_blob(std::string_view file_id) override;
    StoreResult<void> remove_blob(std::string_view file_id) override;
    StoreResult<BlobDigest> digest_blob(std::string_view file_id) override;

    [[nodiscard]] const std::filesystem::path& root() const { return m_root; }

private:
    LocalBlobStore(std::filesystem::path root, UniqueFd partial_dir, UniqueFd blobs_dir);

    // Opens (creating if asked) the shard directory blobs/<xx> of a validated file id.
    StoreResult<UniqueFd> open_shard(std::string_view file_id, bool create);

    std::filesystem::path m_root;  // for messages and tests only
    UniqueFd m_partial_dir;
    UniqueFd m_blobs_dir;
};

}  // namespace satload::store
