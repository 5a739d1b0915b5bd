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
};

struct FileRecord {
    std::string file_id;
    std::uint64_t size_bytes = 0;   // ciphertext size (the stored blob)
    std::string sha256_hex;         // digest of the stored blob (scrub, ETag)
    std::string xxh3_hex;           // fast checksum of the stored blob (full reads); may be
                                    // empty for files recorded before it existed
    std::string meta;               // encrypted metadata, base64url, opaque to the server
    std::int64_t created_s = 0;
};

class MetaStore {
public:
    virtual ~MetaStore() = default;

    virtual StoreResult<void> create_upload(const UploadRecord& upload) = 0;
    virtual StoreResult<std::optional<UploadRecord>> get_upload(const std::string& upload_id) = 0;
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

    virtual StoreResult<std::optional<FileRecord>> get_file(const std::string& file_id) = 0;
    virtual StoreResult<void> delete_file(const std::string& file_id) = 0;
    // Files in id order after `after_id` (exclusive), at most `limit`: for the scrub.
    virtual StoreResult<std::vector<FileRecord>> list_files(const std::string& after_id,
                                                            std::size_t limit) = 0;
};

}  // namespace satload::store
