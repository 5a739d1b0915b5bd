// Complete files: lookup, opening a blob for download, and the background scrub that
// re-hashes stored blobs against their recorded digests.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "store/blob_store.h"
#include "store/meta_store.h"

namespace satload::files {

enum class FileError {
    not_found,  // no such file (or a malformed id)
    storage,    // the store failed (logged)
};

struct FileFailure {
    FileError code;
    std::string message;
};

struct OpenedFile {
    store::FileRecord record;
    std::unique_ptr<store::BlobReader> reader;
};

struct ScrubReport {
    std::size_t checked = 0;
    std::vector<std::string> corrupt;  // file ids whose blob no longer matches its digest
    std::string last_id;               // resume after this id; empty when the pass is done
};

class FileService {
public:
    FileService(store::BlobStore& blobs, store::MetaStore& meta);

    [[nodiscard]] Result<store::FileRecord, FileFailure> info(const std::string& file_id);
    [[nodiscard]] Result<OpenedFile, FileFailure> open(const std::string& file_id);
    // Checks up to `limit` files after `after_id`; a corrupt blob is counted and reported.
    ScrubReport scrub(const std::string& after_id, std::size_t limit);
    // Records a digest mismatch seen while serving a full read.
    void report_corrupt(const std::string& file_id);
    [[nodiscard]] std::uint64_t corrupt_seen() const { return m_corrupt_seen.load(); }

private:
    store::BlobStore& m_blobs;
    store::MetaStore& m_meta;
    std::atomic<std::uint64_t> m_corrupt_seen{0};
};

}  // namespace satload::files
