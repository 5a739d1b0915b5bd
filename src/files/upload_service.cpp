// Implementation of the tus upload rules. Every state change is made durable in the blob
// store first and recorded in the metadata store second, so the recorded offset never
// runs ahead of the synced bytes.
#include "files/upload_service.h"

#include <algorithm>
#include <array>

#include <fmt/format.h>

#include "core/check.h"
#include "core/http_headers.h"
#include "core/ids.h"
#include "crypto/primitives.h"
#include "files/link_controls.h"

namespace satload::files {
namespace {

UploadFailure from_store(const store::StoreFailure& f) {
    if (f.code == store::StoreError::no_space) return {UploadError::no_space, f.message};
    if (f.code == store::StoreError::not_found) return {UploadError::not_found, f.message};
    return {UploadError::storage, f.message};
}

// The encrypted metadata travels in the tus metadata key "meta" (docs/HTTP.md).
std::string meta_of(const std::string& upload_metadata) {
    const auto pairs = parse_upload_metadata(upload_metadata);
    if (!pairs) return {};
    for (const auto& [key, value] : *pairs) {
        if (key == "meta") return value;
    }
    return {};
}

UploadFailure locked_failure() {
    return {UploadError::locked, "another request is writing to this upload"};
}

// The id under which one service (one process) holds its locks in the metadata store.
std::string new_lock_holder(const RandomFn& random) {
    std::array<std::uint8_t, kUploadLockHolderBytes> bytes{};
    random(bytes);
    return hex_encode(bytes);
}

}  // namespace

bool is_complete(const store::UploadRecord& r) {
    return r.complete || (r.length_bytes && r.offset_bytes == *r.length_bytes);
}

std::string_view to_string(UploadError e) {
    switch (e) {
        case UploadError::not_found: return "not_found";
        case UploadError::expired: return "expired";
        case UploadError::locked: return "locked";
        case UploadError::offset_mismatch: return "offset_mismatch";
        case UploadError::exceeds_length: return "exceeds_length";
        case UploadError::too_large: return "too_large";
        case UploadError::length_unknown: return "length_unknown";
        case UploadError::length_conflict: return "length_conflict";
        case UploadError::checksum_mismatch: return "checksum_mismatch";
        case UploadError::checksum_unsupported: return "checksum_unsupported";
        case UploadError::concat_invalid: return "concat_invalid";
        case UploadError::concat_incomplete: return "concat_incomplete";
        case UploadError::partial_is_final: return "partial_is_final";
        case UploadError::refused_by_policy: return "refused_by_policy";
        case UploadError::already_complete: return "already_complete";
        case UploadError::metadata_too_large: return "metadata_too_large";
        case UploadError::invalid_link_controls: return "invalid_link_controls";
        case UploadError::account_required: return "account_required";
        case UploadError::rate_limited: return "rate_limited";
        case UploadError::no_space: return "no_space";
        case UploadError::storage: return "storage";
    }
    return "unknown";
}

// ---------------------------------------------------------------------------------------------
// UploadWriter

UploadWriter::UploadWriter(UploadService& service, store::UploadRecord record,
                           std::unique_ptr<store::BlobAppender> appender,
                           std::optional<std::pair<std::string, Bytes>> checksum,
                           std::int64_t lock_until_s)
    : m_service(service),
      m_record(std::move(record)),
      m_appender(std::move(appender)),
      m_checksum(std::move(checksum)),
      m_start_offset(m_record.offset_bytes),
      m_lock_until_s(lock_until_s) {
    if (m_checksum) m_hash = new crypto::Sha256();
}

UploadWriter::~UploadWriter() {
    if (!m_done) cut();
    delete static_cast<crypto::Sha256*>(m_hash);
}

void UploadWriter::release(bool keep_appender) {
    if (m_done) return;
    m_done = true;
    // Kept before the lock goes: the upload's next writer in this process finds it. Every
    // write and the finish renewed the lock without losing it, so nobody else wrote since
    // this appender was opened.
    if (keep_appender && m_appender) {
        m_service.keep_appender(m_record.upload_id, std::move(m_appender));
    }
    m_appender.reset();
    m_service.unlock(m_record.upload_id);
}

UploadResult<void> UploadWriter::keep_lock() {
    auto kept = m_service.renew_lock(m_record.upload_id, m_lock_until_s);
    if (!kept) release();
    return kept;
}

UploadResult<void> UploadWriter::write(ByteSpan data) {
    SATLOAD_ASSERT(!m_done);
    // A long body keeps the upload's lock; one whose lock another process took over (its lease
    // ran out, e.g. a stalled client) stops here rather than write beside the new writer.
    if (auto kept = keep_lock(); !kept) return kept;
    const std::uint64_t offset = m_start_offset + m_written;
    if (m_record.length_bytes && data.size() > *m_record.length_bytes - offset) {
        // Nothing of this request is kept: the next writer truncates to the durable offset.
        release();
        return fail(UploadFailure{UploadError::exceeds_length,
                                  "the data would pass the upload's declared length"});
    }
    // A deferred length has no bound of its own yet: the upload's maximum is the bound.
    if (const std::uint64_t max = m_service.max_length_bytes(m_record.anonymous);
        !m_record.length_bytes && (offset > max || data.size() > max - offset)) {
        release();
        return fail(UploadFailure{UploadError::too_large,
                                  fmt::format("an upload may be at most {} bytes", max)});
    }
    if (auto ok = m_appender->write(data); !ok) {
        // What the store already holds is kept, as when the client goes away (the S3 store:
        // the parts it confirmed before a streamed part broke).
        const UploadFailure failure = from_store(ok.error());
        cut();
        return fail(failure);
    }
    if (m_hash) static_cast<crypto::Sha256*>(m_hash)->update(data);
    m_written += data.size();
    return {};
}

UploadResult<store::UploadRecord> UploadWriter::finish() {
    SATLOAD_ASSERT(!m_done);
    if (m_hash) {
        const crypto::Sha256Digest digest = static_cast<crypto::Sha256*>(m_hash)->finish();
        if (!crypto::constant_time_equal(digest, m_checksum->second)) {
            release();
            return fail(UploadFailure{UploadError::checksum_mismatch,
                                      "Upload-Checksum does not match the received data"});
        }
    }
    auto synced = m_appender->sync();
    if (!synced) {
        const UploadFailure failure = from_store(synced.error());
        release();
        return fail(failure);
    }
    if (*synced != m_start_offset + m_written) {
        // Only after a body shorter than announced, which the caller would have cut instead.
        release();
        return fail(UploadFailure{UploadError::storage, "the store kept fewer bytes than were written"});
    }
    // The offset is recorded (and the upload completed) only while the lock is still ours.
    if (auto kept = keep_lock(); !kept) return fail(kept.error());
    m_record.offset_bytes = *synced;
    if (auto ok = m_service.m_meta.set_upload_offset(m_record.upload_id, *synced); !ok) {
        const UploadFailure failure = from_store(ok.error());
        release();
        return fail(failure);
    }
    // Completion happens under the lock, before it is released, so no second writer can race.
    UploadResult<store::UploadRecord> result = m_record;
    if (!m_record.is_partial && is_complete(m_record)) {
        m_appender.reset();
        result = m_service.complete(m_record);
    }
    release(/*keep_appender=*/!is_complete(m_record));
    return result;
}

void UploadWriter::discard() { release(); }

void UploadWriter::cut() {
    if (m_done) return;
    // Keep what arrived: a client resuming after a cut re-sends only the rest. The lock first:
    // a writer whose lease another process took over (a stalled client) must not sync at all,
    // since a store's sync writes (S3: a piece, or a marker where the confirmed parts end)
    // where the new writer may already have written.
    if (!m_checksum && m_written > 0 && keep_lock()) {
        if (auto synced = m_appender->sync(); synced) {
            (void)m_service.m_meta.set_upload_offset(m_record.upload_id, *synced);
        }
    }
    release();
}

// ---------------------------------------------------------------------------------------------
// UploadService

UploadService::UploadService(store::BlobStore& blobs, store::MetaStore& meta, const Clock& clock,
                             RandomFn random, UploadLimits limits)
    : m_blobs(blobs),
      m_meta(meta),
      m_clock(clock),
      m_random(std::move(random)),
      m_limits(limits),
      m_lock_holder(new_lock_holder(m_random)),
      m_anonymous_rate(clock, limits.anonymous_rate, limits.shared_anonymous_rate) {}

UploadResult<UploadService::HeldLock> UploadService::try_lock(const std::string& upload_id) {
    // This process's lock first: a request of this process never waits on the store for it.
    {
        std::lock_guard guard(m_locks_mutex);
        if (!m_locked.insert(upload_id).second) return fail(locked_failure());
    }
    const std::int64_t now_s = m_clock.now_s();
    const std::int64_t until_s = now_s + kUploadLockLeaseS;
    auto held = m_meta.lock_upload(upload_id, m_lock_holder, now_s, until_s);
    if (held && *held != store::UploadLockGrant::refused) {
        return HeldLock{until_s, *held == store::UploadLockGrant::kept};
    }
    {
        std::lock_guard guard(m_locks_mutex);
        m_locked.erase(upload_id);
    }
    if (!held) return fail(from_store(held.error()));
    return fail(locked_failure());  // another process writes to it: the same answer
}

UploadResult<void> UploadService::renew_lock(const std::string& upload_id, std::int64_t& until_s) {
    const std::int64_t now_s = m_clock.now_s();
    if (until_s - now_s > kUploadLockLeaseS / 2) return {};
    const std::int64_t new_until_s = now_s + kUploadLockLeaseS;
    // Only while nobody else took it since: ours may have run out and another process held
    // the lock (and written), even if it let go again.
    auto held = m_meta.renew_upload_lock(upload_id, m_lock_holder, new_until_s);
    if (!held) return fail(from_store(held.error()));
    if (!*held) {
        return fail(UploadFailure{UploadError::locked,
                                  "the upload's lease ran out and another request took it over"});
    }
    until_s = new_until_s;
    return {};
}

std::unique_ptr<store::BlobAppender> UploadService::take_kept_appender(
    const std::string& upload_id, std::uint64_t offset, bool lock_kept) {
    KeptAppender found;
    {
        const std::lock_guard guard(m_kept_mutex);
        const auto it = std::find_if(m_kept.begin(), m_kept.end(),
                                     [&](const KeptAppender& k) { return k.upload_id == upload_id; });
        if (it == m_kept.end()) return nullptr;
        found = std::move(*it);
        m_kept.erase(it);
    }
    // Another process that held the lock meanwhile may have written; an appender at another
    // offset is stale (a sync whose offset was not recorded).
    if (!lock_kept || found.appender->size() != offset ||
        m_clock.now_s() - found.kept_s > kKeptAppenderIdleS) {
        return nullptr;
    }
    return std::move(found.appender);
}

void UploadService::keep_appender(const std::string& upload_id,
                                  std::unique_ptr<store::BlobAppender> appender) {
    if (!m_blobs.appenders_worth_keeping()) return;
    // None is kept for this upload now: its writer took it out (take_kept_appender) under the
    // upload's lock, which it still holds.
    drop_idle_kept_appenders();
    KeptAppender evicted;  // closed after the mutex is let go
    const std::lock_guard guard(m_kept_mutex);
    if (m_kept.size() >= kMaxKeptAppenders) {
        evicted = std::move(m_kept.front());
        m_kept.erase(m_kept.begin());
    }
    m_kept.push_back(KeptAppender{upload_id, std::move(appender), m_clock.now_s()});
}

void UploadService::drop_kept_appender(const std::string& upload_id) {
    (void)take_kept_appender(upload_id, 0, false);
}

void UploadService::drop_idle_kept_appenders() {
    std::vector<KeptAppender> dropped;  // closed after the mutex is let go
    const std::int64_t now_s = m_clock.now_s();
    const std::lock_guard guard(m_kept_mutex);
    for (auto it = m_kept.begin(); it != m_kept.end();) {
        if (now_s - it->kept_s > kKeptAppenderIdleS) {
            dropped.push_back(std::move(*it));
            it = m_kept.erase(it);
        } else {
            ++it;
        }
    }
}

std::size_t UploadService::kept_appenders() const {
    const std::lock_guard guard(m_kept_mutex);
    return m_kept.size();
}

void UploadService::unlock(const std::string& upload_id) {
    // The store's lock goes first: were this process's released first, another of its requests
    // could take both (the store's as the same holder) and then lose the store's to this call.
    // A failure here only leaves the store's lock until its lease ends.
    (void)m_meta.unlock_upload(upload_id, m_lock_holder);
    std::lock_guard guard(m_locks_mutex);
    m_locked.erase(upload_id);
}

std::size_t UploadService::writes_in_progress() const {
    std::lock_guard guard(m_locks_mutex);
    return m_locked.size();
}

std::uint64_t UploadService::max_length_bytes(bool anonymous) const {
    return anonymous ? std::min(m_limits.max_upload_bytes, m_limits.anonymous_max_upload_bytes)
                     : m_limits.max_upload_bytes;
}

namespace {

std::string too_large_message(std::uint64_t length_bytes, std::uint64_t max_bytes, bool anonymous) {
    if (anonymous) {
        return fmt::format("an upload without an account may be at most {} bytes (this one has {}); "
                           "log in to upload more",
                           max_bytes, length_bytes);
    }
    return fmt::format("Upload-Length {} exceeds the maximum of {} bytes", length_bytes, max_bytes);
}

}  // namespace

UploadResult<store::UploadRecord> UploadService::create(const CreateUpload& request) {
    if (request.metadata.size() > m_limits.max_metadata_bytes) {
        return fail(UploadFailure{UploadError::metadata_too_large, "Upload-Metadata is too large"});
    }
    // Link controls are checked now, so a bad value is refused before anything is stored;
    // they take effect when the upload completes (complete() reads them again).
    auto controls = parse_link_metadata(request.metadata);
    if (!controls) return fail(UploadFailure{UploadError::invalid_link_controls, controls.error()});
    if (request.anonymous && controls->price_msat > 0) {
        return fail(UploadFailure{UploadError::account_required,
                                  "a file with a price needs an account: log in to set one"});
    }
    const std::uint64_t max_bytes = max_length_bytes(request.anonymous);
    if (request.length_bytes && *request.length_bytes > max_bytes) {
        return fail(UploadFailure{UploadError::too_large,
                                  too_large_message(*request.length_bytes, max_bytes, request.anonymous)});
    }
    if (request.anonymous) {
        if (const std::int64_t wait_s = m_anonymous_rate.acquire(request.client_address); wait_s > 0) {
            return fail(UploadFailure{
                UploadError::rate_limited,
                fmt::format("too many uploads without an account from this address: try again in {} s "
                            "or log in",
                            wait_s),
                wait_s});
        }
    }
    if (!request.part_upload_ids.empty()) return concatenate(request);
    UploadIdBytes upload_bytes{};
    FileIdBytes file_bytes{};
    m_random(upload_bytes);
    do m_random(file_bytes);
    while (file_id_text_starts_with_dash(file_bytes));
    store::UploadRecord record;
    record.upload_id = upload_id_text(upload_bytes);
    record.file_id = file_id_text(file_bytes);
    record.length_bytes = request.length_bytes;
    record.metadata = request.metadata;
    record.created_s = m_clock.now_s();
    record.expires_s = record.created_s + m_limits.upload_expiry_s;
    record.is_partial = request.partial;
    record.anonymous = request.anonymous;
    // A part of a later concatenation never becomes a blob of its own; any other upload is
    // stored where its blob will be, when the store can (the commit then copies nothing).
    auto created = record.is_partial ? m_blobs.create_partial(record.upload_id)
                                     : m_blobs.create_partial_for(record.upload_id, record.file_id);
    if (!created) return fail(from_store(created.error()));
    if (auto ok = m_meta.create_upload(record); !ok) {
        (void)m_blobs.remove_partial(record.upload_id);
        return fail(from_store(ok.error()));
    }
    // An empty upload is complete at creation.
    if (record.length_bytes && *record.length_bytes == 0 && !record.is_partial) {
        return complete(record);
    }
    return record;
}

UploadResult<store::UploadRecord> UploadService::status(const std::string& upload_id) {
    if (!is_upload_id(upload_id)) return fail(UploadFailure{UploadError::not_found, "no such upload"});
    auto found = m_meta.get_upload(upload_id);
    if (!found) return fail(from_store(found.error()));
    if (!*found) return fail(UploadFailure{UploadError::not_found, "no such upload"});
    store::UploadRecord record = std::move(**found);
    if (!record.complete && record.expires_s <= m_clock.now_s()) {
        if (try_lock(upload_id)) {
            remove_upload(record);
            unlock(upload_id);
        }
        return fail(UploadFailure{UploadError::expired, "the upload expired and was removed"});
    }
    return record;
}

UploadResult<std::unique_ptr<UploadWriter>> UploadService::begin_write(
    const std::string& upload_id, std::uint64_t offset,
    std::optional<std::uint64_t> content_length, std::optional<std::uint64_t> length_bytes,
    std::optional<std::pair<std::string, Bytes>> checksum) {
    if (checksum && checksum->first != "sha256") {
        return fail(UploadFailure{UploadError::checksum_unsupported,
                                  fmt::format("checksum algorithm '{}' is not supported (use sha256)",
                                              checksum->first)});
    }
    if (checksum && checksum->second.size() != 32) {
        return fail(UploadFailure{UploadError::checksum_mismatch, "a sha256 digest has 32 bytes"});
    }
    auto lock = try_lock(upload_id);
    if (!lock) return fail(lock.error());
    // From here every failure path must unlock.
    auto unlock_and_fail = [&](UploadFailure f) -> UploadResult<std::unique_ptr<UploadWriter>> {
        unlock(upload_id);
        return fail(std::move(f));
    };
    auto found = m_meta.get_upload(upload_id);
    if (!found) return unlock_and_fail(from_store(found.error()));
    if (!*found) return unlock_and_fail({UploadError::not_found, "no such upload"});
    store::UploadRecord record = std::move(**found);
    if (!record.complete && record.expires_s <= m_clock.now_s()) {
        remove_upload(record);
        return unlock_and_fail({UploadError::expired, "the upload expired and was removed"});
    }
    if (!record.parts.empty()) {
        return unlock_and_fail({UploadError::partial_is_final,
                                "a final concatenation cannot be written to"});
    }
    if (is_complete(record)) {
        return unlock_and_fail({UploadError::already_complete, "the upload is already complete"});
    }
    if (offset != record.offset_bytes) {
        return unlock_and_fail({UploadError::offset_mismatch,
                                fmt::format("Upload-Offset is {} but the upload is at {}", offset,
                                            record.offset_bytes)});
    }
    std::optional<std::uint64_t> declared;  // a deferred length this request sets
    if (length_bytes) {
        if (record.length_bytes && *record.length_bytes != *length_bytes) {
            return unlock_and_fail({UploadError::length_conflict,
                                    "Upload-Length differs from the upload's length"});
        }
        if (*length_bytes > max_length_bytes(record.anonymous)) {
            return unlock_and_fail({UploadError::too_large,
                                    too_large_message(*length_bytes, max_length_bytes(record.anonymous), record.anonymous)});
        }
        if (*length_bytes < record.offset_bytes) {
            return unlock_and_fail({UploadError::length_conflict,
                                    "Upload-Length is below the upload's offset"});
        }
        if (!record.length_bytes) declared = length_bytes;
    }
    const std::uint64_t limit =
        declared.value_or(record.length_bytes.value_or(max_length_bytes(record.anonymous)));
    if (content_length && *content_length > limit - record.offset_bytes) {
        return unlock_and_fail({UploadError::exceeds_length,
                                "the body would pass the upload's declared length"});
    }
    // A deferred length is recorded only once the request passed its checks: a refused one
    // keeps nothing of it (docs/HTTP.md), so the client may send the right length after.
    if (declared) {
        if (auto ok = m_meta.set_upload_length(upload_id, *declared); !ok) {
            return unlock_and_fail(from_store(ok.error()));
        }
        record.length_bytes = declared;
    }
    auto appender = take_kept_appender(upload_id, record.offset_bytes, lock->kept);
    if (!appender) {
        auto opened = m_blobs.open_append(upload_id, record.offset_bytes);
        if (!opened) return unlock_and_fail(from_store(opened.error()));
        appender = std::move(*opened);
    }
    if (content_length) appender->will_write(*content_length);
    return std::unique_ptr<UploadWriter>(new UploadWriter(
        *this, std::move(record), std::move(appender), std::move(checksum), lock->until_s));
}

UploadResult<store::UploadRecord> UploadService::complete(store::UploadRecord record) {
    drop_kept_appender(record.upload_id);
    auto digest = m_blobs.commit_partial(record.upload_id, record.file_id);
    if (!digest && digest.error().code == store::StoreError::not_found) {
        // A commit that finished in the store (a local rename, an object store's upload
        // completed in place or copied) but not in the metadata: the blob is in place.
        digest = m_blobs.digest_blob(record.file_id);
        if (digest && record.length_bytes && digest->size_bytes != *record.length_bytes) {
            return fail(UploadFailure{UploadError::storage,
                                      "the stored blob's size differs from the upload's"});
        }
    }
    if (!digest) return fail(from_store(digest.error()));
    store::FileRecord file;
    file.file_id = record.file_id;
    file.size_bytes = digest->size_bytes;
    file.sha256_hex = digest->sha256_hex;
    file.xxh3_hex = digest->xxh3_hex;
    file.meta = meta_of(record.metadata);
    file.created_s = m_clock.now_s();
    file.anonymous = record.anonymous;
    // Validated at creation; a record from before link controls simply has none.
    if (const auto controls = parse_link_metadata(record.metadata)) {
        file.price_msat = controls->price_msat;
        file.max_downloads = controls->max_downloads;
        if (controls->expires_in_s) file.expires_s = file.created_s + *controls->expires_in_s;
    }
    if (record.anonymous && m_limits.anonymous_file_lifetime_s > 0) {
        const std::int64_t end_s = file.created_s + m_limits.anonymous_file_lifetime_s;
        file.expires_s = std::min(file.expires_s.value_or(end_s), end_s);
    }
    if (m_completion_guard) {
        if (auto refused = m_completion_guard(record, file)) {
            // Nothing of a refused upload stays: neither the blob nor its records.
            (void)m_blobs.remove_blob(record.file_id);
            (void)m_meta.delete_upload(record.upload_id);
            return fail(std::move(*refused));
        }
    }
    if (auto ok = m_meta.complete_upload(record.upload_id, file); !ok) {
        return fail(from_store(ok.error()));
    }
    record.complete = true;
    return record;
}

UploadResult<store::UploadRecord> UploadService::concatenate(const CreateUpload& request) {
    // Lock every part so no PATCH or second concatenation touches them meanwhile.
    std::vector<std::string> locked;
    auto unlock_all = [&] {
        for (const auto& id : locked) unlock(id);
    };
    std::vector<store::UploadRecord> parts;
    std::uint64_t total = 0;
    for (const std::string& id : request.part_upload_ids) {
        if (!is_upload_id(id)) {
            unlock_all();
            return fail(UploadFailure{UploadError::concat_invalid, "a part is not an upload URL"});
        }
        // Named twice, it would be met locked (by this very request: 423, as if retryable).
        if (std::find(locked.begin(), locked.end(), id) != locked.end()) {
            unlock_all();
            return fail(UploadFailure{UploadError::concat_invalid, "a part is named twice"});
        }
        if (auto lock = try_lock(id); !lock) {
            unlock_all();
            UploadFailure failure = lock.error();
            if (failure.code == UploadError::locked) failure.message = "a part is being written to";
            return fail(std::move(failure));
        }
        locked.push_back(id);
        auto found = m_meta.get_upload(id);
        if (!found || !*found || !(*found)->is_partial) {
            unlock_all();
            return fail(UploadFailure{UploadError::concat_invalid,
                                      "a part does not exist or is not a partial upload"});
        }
        if (!is_complete(**found)) {
            unlock_all();
            return fail(UploadFailure{UploadError::concat_incomplete, "a part is not complete"});
        }
        total += *(*found)->length_bytes;
        if (total > max_length_bytes(request.anonymous)) {
            unlock_all();
            return fail(UploadFailure{UploadError::too_large,
                                      request.anonymous
                                          ? too_large_message(total, max_length_bytes(true), true)
                                          : std::string("the concatenation exceeds the maximum upload size")});
        }
        parts.push_back(std::move(**found));
    }

    UploadIdBytes upload_bytes{};
    FileIdBytes file_bytes{};
    m_random(upload_bytes);
    do m_random(file_bytes);
    while (file_id_text_starts_with_dash(file_bytes));
    store::UploadRecord record;
    record.upload_id = upload_id_text(upload_bytes);
    record.file_id = file_id_text(file_bytes);
    record.length_bytes = total;
    record.metadata = request.metadata;
    record.created_s = m_clock.now_s();
    record.expires_s = record.created_s + m_limits.upload_expiry_s;
    record.parts = request.part_upload_ids;
    record.anonymous = request.anonymous;

    auto fail_with = [&](UploadFailure f) -> UploadResult<store::UploadRecord> {
        (void)m_blobs.remove_partial(record.upload_id);
        (void)m_meta.delete_upload(record.upload_id);
        unlock_all();
        return fail(std::move(f));
    };
    if (auto ok = m_blobs.create_partial_for(record.upload_id, record.file_id); !ok) {
        unlock_all();
        return fail(from_store(ok.error()));
    }
    if (auto ok = m_meta.create_upload(record); !ok) return fail_with(from_store(ok.error()));
    auto appender = m_blobs.open_append(record.upload_id, 0);
    if (!appender) return fail_with(from_store(appender.error()));
    Bytes buffer(m_limits.copy_buffer_bytes);
    for (const auto& part : parts) {
        auto reader = m_blobs.open_partial(part.upload_id);
        if (!reader) return fail_with(from_store(reader.error()));
        std::uint64_t at = 0;
        const std::uint64_t part_size = *part.length_bytes;
        while (at < part_size) {
            auto n = (*reader)->read_at(at, buffer);
            if (!n) return fail_with(from_store(n.error()));
            if (*n == 0) return fail_with({UploadError::storage, "a part is shorter than recorded"});
            const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(*n, part_size - at));
            if (auto ok = (*appender)->write(ByteSpan(buffer.data(), take)); !ok) {
                return fail_with(from_store(ok.error()));
            }
            at += take;
        }
    }
    auto synced = (*appender)->sync();
    if (!synced) return fail_with(from_store(synced.error()));
    appender->reset();
    if (auto ok = m_meta.set_upload_offset(record.upload_id, *synced); !ok) {
        return fail_with(from_store(ok.error()));
    }
    record.offset_bytes = *synced;
    auto completed = complete(record);
    if (!completed) return fail_with(completed.error());
    // The parts have served their purpose: their bytes now live in the final blob.
    for (const auto& part : parts) remove_upload(part);
    unlock_all();
    return completed;
}

UploadResult<void> UploadService::terminate(const std::string& upload_id) {
    if (!is_upload_id(upload_id)) return fail(UploadFailure{UploadError::not_found, "no such upload"});
    if (auto lock = try_lock(upload_id); !lock) return fail(lock.error());
    auto found = m_meta.get_upload(upload_id);
    if (!found || !*found) {
        unlock(upload_id);
        return fail(UploadFailure{UploadError::not_found, "no such upload"});
    }
    remove_upload(**found);
    unlock(upload_id);
    return {};
}

void UploadService::remove_upload(const store::UploadRecord& record) {
    drop_kept_appender(record.upload_id);
    // The record first: a commit still running elsewhere (its holder's lease ran out) then
    // cannot record its file, so the partial's bytes, which a store may keep at the blob's
    // key until the commit is done (create_partial_for), are never a recorded file's blob. A
    // completed upload's blob belongs to its file now; only the record goes.
    (void)m_meta.delete_upload(record.upload_id);
    if (!record.complete) (void)m_blobs.remove_partial(record.upload_id);
}

std::size_t UploadService::recover(std::size_t limit) {
    auto pending = m_meta.incomplete_uploads(limit);
    if (!pending) return 0;
    std::size_t completed = 0;
    for (auto& record : *pending) {
        const bool full = record.length_bytes && record.offset_bytes == *record.length_bytes;
        if (!full || record.is_partial || !record.parts.empty()) continue;
        if (!try_lock(record.upload_id)) continue;
        if (complete(record)) ++completed;
        unlock(record.upload_id);
    }
    return completed;
}

std::size_t UploadService::expire(std::size_t limit) {
    drop_idle_kept_appenders();
    auto expired = m_meta.expired_uploads(m_clock.now_s(), limit);
    if (!expired) return 0;
    std::size_t removed = 0;
    for (const auto& record : *expired) {
        if (!try_lock(record.upload_id)) continue;  // being written right now: next round
        remove_upload(record);
        unlock(record.upload_id);
        ++removed;
    }
    const std::int64_t now_s = m_clock.now_s();
    if (!m_last_blob_sweep_s || now_s - *m_last_blob_sweep_s >= kBlobSweepIntervalS) {
        m_last_blob_sweep_s = now_s;
        // Every upload expires upload_expiry_s after its creation: anything older is no live
        // upload's. A failure is tried again at the next sweep.
        const std::chrono::seconds cutoff(now_s - m_limits.upload_expiry_s - kBlobSweepMarginS);
        (void)m_blobs.sweep_abandoned(std::chrono::system_clock::time_point(cutoff));
    }
    return removed;
}

}  // namespace satload::files
