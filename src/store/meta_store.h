// Metadata of uploads and files, behind one interface: SqliteMetaStore (embedded default);
// later PostgreSQL. Every method is one transaction; a method that returns is durable.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/blob_store.h"

namespace satload::store {

// Times are Unix seconds, supplied by the caller's injected clock.
struct UploadRecord {
    std::string upload_id;          // capability, 43 chars
    std::string file_id;            // reserved at creation, public once complete, 22 chars
    std::optional<std::uint64_t> length_bytes;  // absent while Upload-Defer-Length
    std::uint64_t offset_bytes = 0; // durable offset: every byte below it was synced
    std::string metadata;           // raw tus Upload-Metadata header value
    std::int64_t created_s = 0;
    std::int64_t expires_s = 0;     // partial uploads past this are removed
    bool is_partial = false;        // tus concatenation: a part, never a file by itself
    std::vector<std::string> parts; // for a final concatenation: upload ids of the parts
    bool complete = false;
    bool anonymous = false;         // created without an account: its file gets the
                                    // anonymous lifetime and is removed when it expires
};

struct FileRecord {
    std::string file_id;
    std::uint64_t size_bytes = 0;   // ciphertext size (the stored blob)
    std::string sha256_hex;         // digest of the stored blob (scrub, ETag)
    std::string xxh3_hex;           // fast checksum of the stored blob (full reads); may be
                                    // empty for files recorded before it existed
    std::string meta;               // encrypted metadata, base64url, opaque to the server
    std::int64_t created_s = 0;
    // Link controls (schema v3). A file recorded before them has none of them set.
    std::int64_t price_msat = 0;               // per download; 0 is free
    std::optional<std::int64_t> expires_s;     // the link answers 410 from this time on
    std::optional<std::uint64_t> max_downloads;  // the link answers 410 once downloads reach it
    std::uint64_t downloads = 0;               // completed downloads (see count_download)
    bool revoked = false;                      // the owner switched the link off
    bool anonymous = false;                    // uploaded without an account
};

// A change of a file's link controls: an absent member stays as it is; for the two optional
// limits, an inner nullopt removes the limit. `meta` replaces the encrypted metadata (an
// owner's rename), opaque to the store like the original.
struct FileControlsUpdate {
    std::optional<std::int64_t> price_msat;
    std::optional<std::optional<std::int64_t>> expires_s;
    std::optional<std::optional<std::uint64_t>> max_downloads;
    std::optional<bool> revoked;
    std::optional<std::string> meta;
};

// What MetaStore::lock_upload did.
enum class UploadLockGrant {
    refused,  // another holder's lease runs
    kept,     // held by the caller, and nobody else held it since the caller's previous hold
    taken,    // held by the caller, new to it: never held before, or last held by another
};

class MetaStore {
public:
    virtual ~MetaStore() = default;

    virtual StoreResult<void> create_upload(const UploadRecord& upload) = 0;
    virtual StoreResult<std::optional<UploadRecord>> get_upload(const std::string& upload_id) = 0;
    // The id of the upload that reserved `file_id` (complete or not), if its record is kept.
    virtual StoreResult<std::optional<std::string>> upload_id_of_file(
        const std::string& file_id) = 0;
    virtual StoreResult<void> set_upload_offset(const std::string& upload_id,
                                                std::uint64_t offset_bytes) = 0;
    virtual StoreResult<void> set_upload_length(const std::string& upload_id,
                                                std::uint64_t length_bytes) = 0;
    // Marks the upload complete and inserts its file in one transaction.
    virtual StoreResult<void> complete_upload(const std::string& upload_id,
                                              const FileRecord& file) = 0;
    virtual StoreResult<void> delete_upload(const std::string& upload_id) = 0;
    // Incomplete uploads whose expiry is at or before now_s, oldest first, at most `limit`.
    virtual StoreResult<std::vector<UploadRecord>> expired_uploads(std::int64_t now_s,
                                                                   std::size_t limit) = 0;
    virtual StoreResult<std::vector<UploadRecord>> incomplete_uploads(std::size_t limit) = 0;

    // The "one writer per upload" lock across server processes sharing the store. Takes the
    // lock of `upload_id` for `holder` until `until_s` when it is free, its lease ended (at or
    // before now_s), or `holder` already holds it (the lease is extended); refused while
    // another holder's lease runs. `kept` tells the holder that nobody else held the lock since
    // its own previous hold (released or not), so what it knew of the upload then is still
    // true; `taken` that it is new to it (never held, or last held by another). A store only
    // one process uses (SqliteMetaStore) keeps these defaults: the uploads service's
    // in-process lock is enough there, and nobody else ever holds the lock.
    virtual StoreResult<UploadLockGrant> lock_upload(const std::string& /*upload_id*/,
                                                     const std::string& /*holder*/,
                                                     std::int64_t /*now_s*/,
                                                     std::int64_t /*until_s*/) {
        return UploadLockGrant::kept;
    }
    // Extends the lock `holder` took to `until_s`, even when its lease ran out meanwhile, as
    // long as nobody else took it since; false when another did (the caller lost it: even if
    // that one let go again, it may have written).
    virtual StoreResult<bool> renew_upload_lock(const std::string& /*upload_id*/,
                                                const std::string& /*holder*/,
                                                std::int64_t /*until_s*/) {
        return true;
    }
    // Gives the lock back if `holder` holds it (else nothing changes): its lease ends, and the
    // store still knows `holder` as the last to hold it. Deleting or completing an upload
    // drops its lock.
    virtual StoreResult<void> unlock_upload(const std::string& /*upload_id*/,
                                            const std::string& /*holder*/) {
        return {};
    }

    virtual StoreResult<std::optional<FileRecord>> get_file(const std::string& file_id) = 0;
    virtual StoreResult<void> delete_file(const std::string& file_id) = 0;
    // Files in id order after `after_id` (exclusive), at most `limit`: for the scrub.
    virtual StoreResult<std::vector<FileRecord>> list_files(const std::string& after_id,
                                                            std::size_t limit) = 0;

    // Adds one completed download and returns the new count, atomically (concurrent calls
    // never lose an increment). StoreError::not_found for an unknown file.
    virtual StoreResult<std::uint64_t> count_download(const std::string& file_id) = 0;
    // Adds many counted downloads in one transaction (files deleted meanwhile are skipped):
    // the batched counting of files without a download limit.
    virtual StoreResult<void> add_downloads(
        const std::vector<std::pair<std::string, std::uint64_t>>& counts) = 0;
    // Takes back one count_download (a download whose last byte could not be sent after all);
    // never below zero. StoreError::not_found for an unknown file.
    virtual StoreResult<void> uncount_download(const std::string& file_id) = 0;
    // Applies `update` and returns the file as it is afterwards, in one statement.
    // StoreError::not_found for an unknown file.
    virtual StoreResult<FileRecord> update_file_controls(const std::string& file_id,
                                                         const FileControlsUpdate& update) = 0;
    // Anonymous files whose expiry is at or before now_s, soonest first, at most `limit`:
    // for housekeeping, which removes them.
    virtual StoreResult<std::vector<FileRecord>> expired_anonymous_files(std::int64_t now_s,
                                                                         std::size_t limit) = 0;
};

}  // namespace satload::store
