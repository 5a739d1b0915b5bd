// Complete files: lookup, opening a blob for download, link controls (the rules that close a
// link, counting downloads, the owner's changes), removal of expired anonymous files, and the
// background scrub that re-hashes stored blobs against their recorded digests.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <string>
#include <vector>

#include "core/result.h"
#include "files/clock.h"
#include "files/link_controls.h"
#include "store/blob_store.h"
#include "store/meta_store.h"

namespace satload::files {

enum class FileError {
    not_found,  // no such file (or a malformed id)
    invalid,    // a link-control change out of bounds (see message)
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

// An owner's change of a file's link controls: an absent member stays as it is. An expiry is
// given relative to now; an inner nullopt removes the expiry or the download limit.
struct ControlsChange {
    std::optional<std::int64_t> price_msat;
    std::optional<std::optional<std::int64_t>> expires_in_s;
    std::optional<std::optional<std::uint64_t>> max_downloads;
    std::optional<bool> revoked;
    // New encrypted metadata (a rename), already checked with meta_problem (file_meta.h).
    std::optional<std::string> meta;
};

class FileService {
public:
    // Link expiry is judged by `clock`; without one, by the system clock.
    FileService(store::BlobStore& blobs, store::MetaStore& meta);
    FileService(store::BlobStore& blobs, store::MetaStore& meta, const Clock& clock);

    [[nodiscard]] Result<store::FileRecord, FileFailure> info(const std::string& file_id);
    // Opens the blob whatever the file's link controls say: the caller asks link_refusal().
    [[nodiscard]] Result<OpenedFile, FileFailure> open(const std::string& file_id);
    // The blob alone, for a caller that read the record (info()) and decided to serve it.
    [[nodiscard]] Result<std::unique_ptr<store::BlobReader>, FileFailure> open_blob(
        const std::string& file_id);
    // Why the file's link no longer serves it (revoked, expired, download limit), if it does not.
    [[nodiscard]] std::optional<LinkRefusal> link_refusal(const store::FileRecord& file) const;
    // A policy outside the file's own controls that closes its link (a takedown, a suspended
    // owner): link_refusal() answers `revoked` for such a file, so every path that serves or
    // sells a file refuses it even where the caller does not ask the policy itself. Set once,
    // before serving.
    using LinkBlock = std::function<bool(const std::string& file_id)>;
    void set_link_block(LinkBlock block) { m_link_block = std::move(block); }
    // Records a download as its last byte is sent; returns the new count. The server counts
    // as it hands the last piece to the connection, so the next request already sees the
    // count, and takes it back with uncount_download if that piece could not be sent.
    [[nodiscard]] Result<std::uint64_t, FileFailure> count_download(const std::string& file_id);
    void uncount_download(const std::string& file_id);
    // The same for a file without a download limit, where the count is only shown (to its
    // owner) and nothing depends on it being durable at once: counted in memory and written
    // by flush_download_counts (the server's maintenance loop, every second, and at stop), so
    // serving a small file costs no disk sync. A crash loses at most the last second's counts
    // of such files. info() includes the counts not written yet.
    void count_download_later(const std::string& file_id);
    void uncount_download_later(const std::string& file_id);
    // Writes the counts kept in memory in one transaction; returns how many files it updated
    // (on a store failure they are kept for the next call).
    std::size_t flush_download_counts();
    // Applies an owner's change (the caller checked ownership) and returns the file after it.
    [[nodiscard]] Result<store::FileRecord, FileFailure> update_controls(const std::string& file_id,
                                                                         const ControlsChange& change);
    // Removes up to `limit` anonymous files past their expiry, record first (the link answers
    // 404 at once) and then the blob; returns how many.
    std::size_t remove_expired(std::size_t limit);
    // Checks up to `limit` files after `after_id`; a corrupt blob is counted and reported.
    ScrubReport scrub(const std::string& after_id, std::size_t limit);
    // Records a digest mismatch seen while serving a full read.
    void report_corrupt(const std::string& file_id);
    [[nodiscard]] std::uint64_t corrupt_seen() const { return m_corrupt_seen.load(); }
    [[nodiscard]] std::int64_t now_s() const { return m_clock.now_s(); }

private:
    store::BlobStore& m_blobs;
    store::MetaStore& m_meta;
    SystemClock m_system_clock;
    const Clock& m_clock;
    LinkBlock m_link_block;
    std::atomic<std::uint64_t> m_corrupt_seen{0};
    std::mutex m_pending_mutex;
    std::unordered_map<std::string, std::uint64_t> m_pending_downloads;  // not written yet
};

}  // namespace satload::files
