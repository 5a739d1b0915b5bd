// tus upload semantics over the store interfaces: creation (also by concatenation of partial
// uploads), appends with offset, length and checksum rules, durable offsets, completion into a
// file, termination and expiry. The HTTP layer only translates headers to these calls.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "core/encoding.h"
#include "core/result.h"
#include "files/clock.h"
#include "files/rate_limiter.h"
#include "store/blob_store.h"
#include "store/meta_store.h"

namespace satload::files {

enum class UploadError {
    not_found,              // no such upload (or a malformed id)
    expired,                // passed its expiry; it has been removed
    locked,                 // another request is writing to it
    offset_mismatch,        // the client's offset is not the upload's offset
    exceeds_length,         // the data would pass Upload-Length
    too_large,              // Upload-Length above the configured maximum
    length_unknown,         // completion needs a length that was deferred and never given
    length_conflict,        // a length given for an upload that already has a different one
    checksum_mismatch,      // Upload-Checksum did not match the body
    checksum_unsupported,   // an algorithm we do not offer
    concat_invalid,         // a final concatenation names something that is not a partial upload
    concat_incomplete,      // a named partial upload is not complete
    partial_is_final,       // writing to a final concatenation (never allowed)
    already_complete,       // writing to a complete upload
    metadata_too_large,
    invalid_link_controls,  // an expiry, download limit or price in Upload-Metadata is malformed
    account_required,       // a price without an account
    rate_limited,           // too many anonymous creations from one address; see retry_after_s
    refused_by_policy,      // the operator's rules refuse it (a blocked ciphertext, a suspended account)
    no_space,               // the blob store is out of space
    storage,                // another storage failure (logged)
};

struct UploadFailure {
    UploadError code;
    std::string message;
    std::int64_t retry_after_s = 0;  // for rate_limited
};

template <class T>
using UploadResult = Result<T, UploadFailure>;

using RandomFn = std::function<void(std::span<std::uint8_t>)>;

// How long an upload's lock in the metadata store lasts without being renewed. A writer renews
// it while the body arrives (once more than half of it has passed), so a long PATCH keeps it;
// the lock of a process that crashed mid-write frees itself when it ends.
inline constexpr std::int64_t kUploadLockLeaseS = 60;
// Random bytes of the id under which a service holds its locks in the store (one per process).
inline constexpr std::size_t kUploadLockHolderBytes = 16;
// Where the blob store says opening an appender is costly (S3: three listings and two
// connections, ~4 ms of an 8 MiB PATCH's ~37 ms), the appender of a PATCH that ended well is
// kept for the upload's next PATCH through this process, unless another process held the
// upload's lock meanwhile. At most this many are kept (each holds a part buffer, 8 MiB on S3,
// and two connections to the store: 64 MiB at most), the least recently used dropped first,
// and none longer than kKeptAppenderIdleS.
inline constexpr std::size_t kMaxKeptAppenders = 8;
inline constexpr std::int64_t kKeptAppenderIdleS = 30;
// expire() also asks the blob store, at most this often, to remove what crashes left that no
// record names (BlobStore::sweep_abandoned), begun more than an upload's lifetime plus this
// margin ago (for clock skew and a commit still running at its upload's end). Instances
// sharing a store must agree on the upload lifetime.
inline constexpr std::int64_t kBlobSweepIntervalS = 3600;
inline constexpr std::int64_t kBlobSweepMarginS = 3600;

struct UploadLimits {
    std::uint64_t max_upload_bytes = 64ull << 30;
    std::int64_t upload_expiry_s = 24 * 3600;
    std::size_t max_metadata_bytes = 16 * 1024;
    std::size_t copy_buffer_bytes = 1 << 20;  // for concatenation
    // Uploads without an account (CreateUpload::anonymous). The defaults add nothing to the
    // general limits but the rate limit; the server sets them from its options.
    std::uint64_t anonymous_max_upload_bytes = UINT64_MAX;  // a file, a part and a length
    std::int64_t anonymous_file_lifetime_s = 0;             // 0: anonymous files do not expire
    RatePolicy anonymous_rate{};                            // creations per client address
    // When set, anonymous creations are counted there (every instance on one database; see
    // ServiceRateLimit for a store failure) instead of in this process.
    std::shared_ptr<RateLimiter> shared_anonymous_rate;
};

struct CreateUpload {
    std::optional<std::uint64_t> length_bytes;  // nullopt: Upload-Defer-Length
    std::string metadata;  // raw Upload-Metadata header value; key "meta" is the file's metadata
    bool partial = false;
    std::vector<std::string> part_upload_ids;   // non-empty: a final concatenation
    // Without an account: the anonymous size limit, lifetime and rate limit apply, and a price
    // is refused. `client_address` is what the rate limit counts by.
    bool anonymous = false;
    std::string client_address;
};

class UploadService;

// One PATCH (or creation-with-upload) body being written. Holds the upload's lock for its life.
class UploadWriter {
public:
    ~UploadWriter();
    UploadWriter(const UploadWriter&) = delete;
    UploadWriter& operator=(const UploadWriter&) = delete;

    // Appends body bytes; refuses (and keeps nothing of this request) past the upload's length.
    [[nodiscard]] UploadResult<void> write(ByteSpan data);
    // The body ended: check the checksum, sync, record the offset, complete the upload when
    // full. On checksum mismatch nothing of this request is kept.
    [[nodiscard]] UploadResult<store::UploadRecord> finish();
    // The connection was cut: keep what arrived (synced and recorded) unless a checksum was
    // announced, in which case the unverifiable bytes are dropped.
    void cut();
    // Drops everything this request wrote (e.g. an oversized chunked body).
    void discard();

    [[nodiscard]] std::uint64_t start_offset() const { return m_start_offset; }
    [[nodiscard]] std::uint64_t bytes_written() const { return m_written; }

private:
    friend class UploadService;
    UploadWriter(UploadService& service, store::UploadRecord record,
                 std::unique_ptr<store::BlobAppender> appender,
                 std::optional<std::pair<std::string, Bytes>> checksum, std::int64_t lock_until_s);
    // Gives the lock back, keeping the appender for the next PATCH when `keep_appender` and
    // the lock was never another's during this write.
    void release(bool keep_appender = false);
    // Renews the upload's lock when its lease is more than half used; on failure (another
    // holder took it over, or the store failed) everything of this request is dropped.
    [[nodiscard]] UploadResult<void> keep_lock();

    UploadService& m_service;
    store::UploadRecord m_record;
    std::unique_ptr<store::BlobAppender> m_appender;
    std::optional<std::pair<std::string, Bytes>> m_checksum;  // algorithm, expected digest
    void* m_hash = nullptr;                                    // crypto::Sha256 when checked
    std::uint64_t m_start_offset = 0;
    std::uint64_t m_written = 0;
    std::int64_t m_lock_until_s = 0;  // when the lock's lease in the store ends
    bool m_done = false;
};

class UploadService {
public:
    UploadService(store::BlobStore& blobs, store::MetaStore& meta, const Clock& clock,
                  RandomFn random, UploadLimits limits);

    [[nodiscard]] const UploadLimits& limits() const { return m_limits; }

    [[nodiscard]] UploadResult<store::UploadRecord> create(const CreateUpload& request);
    // The upload's state; an expired incomplete upload is removed and reported as expired.
    [[nodiscard]] UploadResult<store::UploadRecord> status(const std::string& upload_id);
    // Starts a write at `offset`. `content_length` (when known) is checked against the length
    // before any byte is read; `length_bytes` sets a deferred length.
    [[nodiscard]] UploadResult<std::unique_ptr<UploadWriter>> begin_write(
        const std::string& upload_id, std::uint64_t offset,
        std::optional<std::uint64_t> content_length, std::optional<std::uint64_t> length_bytes,
        std::optional<std::pair<std::string, Bytes>> checksum);
    [[nodiscard]] UploadResult<void> terminate(const std::string& upload_id);
    // At start-up: completes uploads whose bytes were all synced but whose completion was cut
    // off by a crash. Returns how many it completed.
    std::size_t recover(std::size_t limit = 10000);
    // Removes up to `limit` expired incomplete uploads; returns how many. Also sweeps the blob
    // store for crash leftovers, at most every kBlobSweepIntervalS.
    std::size_t expire(std::size_t limit = 1000);
    // Uploads currently being written to (by this process).
    [[nodiscard]] std::size_t writes_in_progress() const;
    // Appenders kept between PATCHes (see kMaxKeptAppenders).
    [[nodiscard]] std::size_t kept_appenders() const;
    // The largest length an upload may reach (smaller for anonymous uploads).
    [[nodiscard]] std::uint64_t max_length_bytes(bool anonymous) const;
    // A policy consulted when an upload completes, once its ciphertext digest is known (the
    // blocklist of taken-down files): a failure it returns is the upload's answer, and nothing
    // of the upload is kept (blob and records removed). Set once, before serving.
    using CompletionGuard =
        std::function<std::optional<UploadFailure>(const store::UploadRecord& upload, const store::FileRecord& file)>;
    void set_completion_guard(CompletionGuard guard) { m_completion_guard = std::move(guard); }

    static constexpr std::string_view kSupportedChecksums = "sha256";

private:
    friend class UploadWriter;
    struct HeldLock {
        std::int64_t until_s = 0;  // when the store's lease ends
        bool kept = false;         // no other process held it since this one last did
    };
    // "One writer per upload", held both in this process (requests of this process) and in the
    // metadata store (other processes on the same store, under m_lock_holder). UploadError::
    // locked while another request or process holds it.
    UploadResult<HeldLock> try_lock(const std::string& upload_id);
    // Extends a lock this service holds whose lease ends at `until_s` when more than half of
    // the lease has passed, updating `until_s`; UploadError::locked if it was lost meanwhile
    // (another process held it since: its lease had run out).
    UploadResult<void> renew_lock(const std::string& upload_id, std::int64_t& until_s);
    void unlock(const std::string& upload_id);
    // The appender kept for `upload_id` (see kMaxKeptAppenders) when it stands at `offset` and
    // `lock_kept`; any other kept for it is dropped.
    std::unique_ptr<store::BlobAppender> take_kept_appender(const std::string& upload_id,
                                                            std::uint64_t offset, bool lock_kept);
    void keep_appender(const std::string& upload_id, std::unique_ptr<store::BlobAppender> appender);
    void drop_kept_appender(const std::string& upload_id);
    void drop_idle_kept_appenders();
    UploadResult<store::UploadRecord> complete(store::UploadRecord record);
    UploadResult<store::UploadRecord> concatenate(const CreateUpload& request);
    void remove_upload(const store::UploadRecord& record);

    store::BlobStore& m_blobs;
    store::MetaStore& m_meta;
    const Clock& m_clock;
    RandomFn m_random;
    UploadLimits m_limits;
    std::string m_lock_holder;  // random, made at construction: this process in the store's locks
    mutable std::mutex m_locks_mutex;
    std::set<std::string> m_locked;
    struct KeptAppender {
        std::string upload_id;
        std::unique_ptr<store::BlobAppender> appender;
        std::int64_t kept_s = 0;
    };
    mutable std::mutex m_kept_mutex;
    std::vector<KeptAppender> m_kept;  // oldest first, at most kMaxKeptAppenders
    ServiceRateLimit m_anonymous_rate;
    CompletionGuard m_completion_guard;
    std::optional<std::int64_t> m_last_blob_sweep_s;  // expire()'s thread only
};

[[nodiscard]] std::string_view to_string(UploadError e);
// Complete, or holding every byte of its length (and so completing, or left to recovery).
[[nodiscard]] bool is_complete(const store::UploadRecord& r);

}  // namespace satload::files
