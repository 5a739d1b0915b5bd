// tus 1.0.0 handlers: OPTIONS, POST (creation, creation-with-upload, concatenation), HEAD,
// PATCH and DELETE. Header grammar lives in core/http_headers; upload rules in files/.
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <fmt/format.h>

#include "core/encoding.h"
#include "core/http_headers.h"
#include "core/ids.h"
#include "files/file_meta.h"
#include "server/app.h"
#include "server/client_limits.h"
#include "server/request_path.h"

namespace satload::server {
namespace {

constexpr std::string_view kTusVersion = "1.0.0";
constexpr std::string_view kTusExtensions =
    "creation,creation-with-upload,creation-defer-length,termination,checksum,expiration,"
    "concatenation";
constexpr std::string_view kOffsetOctetStream = "application/offset+octet-stream";
// Request bodies are read in pieces of up to this size: large enough for fast disks. A body
// starts with the small buffer and doubles it each time a read fills it, so a client that
// trickles bytes (or stalls) holds 16 KiB, not 256 KiB, per connection.
constexpr std::size_t kBodyBufferBytes = 256 * 1024;
constexpr std::size_t kFirstBodyBufferBytes = 16 * 1024;
// How long a PATCH waits for another request on the same upload to finish, and how often it
// looks again, before answering 423.
constexpr auto kLockWait = std::chrono::seconds(2);
constexpr auto kLockRetry = std::chrono::milliseconds(20);
// The address an anonymous creation is counted by is cut to this length.
// 429 is not in the problem catalogue (core/problem.h); the login throttle renders it alike.

Problem problem_of(files::UploadError e) {
    using files::UploadError;
    switch (e) {
        case UploadError::not_found: return Problem::not_found;
        case UploadError::expired: return Problem::upload_expired;
        case UploadError::locked: return Problem::upload_locked;
        case UploadError::offset_mismatch: return Problem::upload_offset_mismatch;
        case UploadError::exceeds_length: return Problem::upload_exceeds_length;
        case UploadError::too_large: return Problem::upload_too_large;
        case UploadError::length_unknown: return Problem::bad_request;
        case UploadError::length_conflict: return Problem::bad_request;
        case UploadError::checksum_mismatch: return Problem::checksum_mismatch;
        case UploadError::checksum_unsupported: return Problem::checksum_unsupported;
        case UploadError::concat_invalid: return Problem::bad_request;
        case UploadError::concat_incomplete: return Problem::upload_incomplete;
        case UploadError::partial_is_final: return Problem::forbidden;
        case UploadError::refused_by_policy: return Problem::forbidden;
        case UploadError::already_complete: return Problem::upload_exceeds_length;
        case UploadError::metadata_too_large: return Problem::headers_too_large;
        case UploadError::invalid_link_controls: return Problem::bad_request;
        case UploadError::account_required: return Problem::account_required;
        case UploadError::rate_limited: return Problem::bad_request;  // answered as 429 instead
        case UploadError::no_space: return Problem::storage_full;
        case UploadError::storage: return Problem::internal;
    }
    return Problem::internal;
}

std::optional<std::string_view> header(const Request& req, std::string_view name) {
    const auto it = req.find(name);
    if (it == req.end()) return std::nullopt;
    return it->value();
}


}  // namespace

awaitable<void> App::send_upload_failure(Exchange& ex, const files::UploadFailure& failure) {
    if (failure.code == files::UploadError::rate_limited) {
        co_return co_await send_too_many_requests(ex, failure.retry_after_s, failure.message);
    }
    // Storage failures are only summarised to the client (their messages name paths inside the
    // data directory). They are not logged either: a partial's path holds its upload id, which
    // is a write capability, and secrets are never logged.
    const bool internal = failure.code == files::UploadError::storage;
    co_await send_problem(ex, problem_of(failure.code),
                          internal ? "storage failure" : std::string_view(failure.message));
}

awaitable<void> App::tus_options(Exchange& ex) {
    const Request& req = ex.request();
    StringResponse res{http::status::no_content, req.version()};
    res.set("Tus-Resumable", kTusVersion);
    res.set("Tus-Version", kTusVersion);
    res.set("Tus-Extension", kTusExtensions);
    res.set("Tus-Max-Size", std::to_string(m_options.max_upload_bytes));
    res.set("Tus-Checksum-Algorithm", files::UploadService::kSupportedChecksums);
    res.keep_alive(ex.keep_alive());
    co_await ex.send(std::move(res));
}

awaitable<void> App::tus_create(Exchange& ex) {
    const Request& req = ex.request();
    if (header(req, "Tus-Resumable") != kTusVersion) {
        co_return co_await send_problem(ex, Problem::tus_version_unsupported,
                                        "send Tus-Resumable: 1.0.0");
    }
    files::CreateUpload create;
    if (const auto metadata = header(req, "Upload-Metadata")) {
        const auto pairs = parse_upload_metadata(*metadata);
        if (!pairs) {
            co_return co_await send_problem(ex, Problem::bad_request, "Upload-Metadata is malformed");
        }
        // The encrypted metadata is returned as a JSON string: it must be base64url text.
        for (const auto& [key, value] : *pairs) {
            if (key == files::kMetaKey && !base64url_decode(value)) {
                co_return co_await send_problem(
                    ex, Problem::bad_request,
                    "Upload-Metadata meta must be base64url text without padding");
            }
        }
        create.metadata = std::string(*metadata);
    }
    if (const auto concat = header(req, "Upload-Concat")) {
        const auto parsed = parse_upload_concat(*concat);
        if (!parsed) {
            co_return co_await send_problem(ex, Problem::bad_request, "Upload-Concat is malformed");
        }
        create.partial = parsed->partial;
        for (const auto& url : parsed->parts) {
            const auto id = upload_id_of_url(url);
            if (!id) {
                co_return co_await send_problem(ex, Problem::bad_request,
                                                "Upload-Concat names something that is not an upload");
            }
            create.part_upload_ids.push_back(*id);
        }
    }
    const auto length = header(req, "Upload-Length");
    const auto defer = header(req, "Upload-Defer-Length");
    // A body: a positive Content-Length, or a chunked one (even if it turns out empty).
    const bool has_body =
        ex.content_length().value_or(0) > 0 || (!ex.content_length() && !ex.body_done());
    if (create.part_upload_ids.empty()) {
        if (length && defer) {
            co_return co_await send_problem(ex, Problem::bad_request,
                                            "send Upload-Length or Upload-Defer-Length, not both");
        }
        if (length) {
            const auto value = parse_decimal(*length);
            if (!value) co_return co_await send_problem(ex, Problem::bad_request, "Upload-Length is malformed");
            create.length_bytes = *value;
        } else if (defer != "1") {
            co_return co_await send_problem(ex, Problem::bad_request,
                                            "Upload-Length (or Upload-Defer-Length: 1) is required");
        }
    } else if (length || has_body) {
        // Refused before anything is made: the parts are consumed by the concatenation.
        co_return co_await send_problem(ex, Problem::bad_request,
                                        "a final concatenation has no length or body of its own");
    }
    if (has_body && header(req, "Content-Type") != kOffsetOctetStream) {
        co_return co_await send_problem(ex, Problem::unsupported_media_type,
                                        "a creation body needs Content-Type: application/offset+octet-stream");
    }
    // An upload with a session belongs to its caller: the quota is checked against
    // Upload-Length (a final concatenation: its parts' lengths) before anything is stored, and
    // a file upload records its owner with the wrapped file secret from `owner_secret`.
    Caller caller = co_await optional_caller(ex);
    if (caller.answered) co_return;
    if (!caller.principal) {
        // Without an account: the operator may refuse it; else the anonymous size limit,
        // lifetime and rate limit apply (in UploadService), counted by client address.
        if (!m_options.anonymous_uploads) {
            co_return co_await send_problem(ex, Problem::account_required,
                                            "this server accepts uploads from accounts only: log in first");
        }
        create.anonymous = true;
        create.client_address = client_address(req, m_options.trust_proxy, ex.peer_address());
    }
    std::optional<Bytes> owner_secret;
    std::uint64_t owned_length_bytes = 0;
    if (caller.principal) {
        if (create.part_upload_ids.empty() && !create.length_bytes) {
            co_return co_await send_problem(ex, Problem::bad_request,
                                            "an upload with a session needs Upload-Length");
        }
        owned_length_bytes = create.length_bytes.value_or(0);
        for (const auto& part_id : create.part_upload_ids) {
            auto part = m_uploads.status(part_id);
            if (!part) co_return co_await send_upload_failure(ex, part.error());
            // A length still deferred is a part not complete, and one that could be declared
            // before the concatenation runs, past the quota checked here.
            if (!part->length_bytes) {
                // Named, not a temporary inside co_await (GCC 12 destroys those twice).
                const files::UploadFailure incomplete{files::UploadError::concat_incomplete,
                                                      "a part is not complete"};
                co_return co_await send_upload_failure(ex, incomplete);
            }
            owned_length_bytes += *part->length_bytes;
        }
        if (!create.partial) {
            const auto pairs = parse_upload_metadata(create.metadata);
            if (pairs) {
                for (const auto& [key, value] : *pairs) {
                    if (key == "owner_secret") owner_secret = base64url_decode(value);  // tus-decoded
                }
            }
            if (!owner_secret || owner_secret->size() != crypto::kWrappedFileSecretBytes) {
                co_return co_await send_problem(
                    ex, Problem::bad_request,
                    "an upload with a session needs Upload-Metadata owner_secret (the wrapped file secret)");
            }
        }
        // A part counts from its creation (add_part below); a final concatenation's file
        // takes the place of the caller's own parts, which are counted already.
        if (auto fits = m_accounts->accounts.check_upload(
                *caller.principal,
                create.partial ? create.length_bytes.value_or(0) : owned_length_bytes,
                create.part_upload_ids);
            !fits) {
            co_return co_await send_account_failure(ex, fits.error());
        }
    }
    // On the blocking pool: the record's durable commit and, for a final concatenation, the
    // copy of its parts' bytes into one blob, as a completing PATCH's commit is.
    auto created =
        co_await m_upload_blocking.run([this, &create] { return m_uploads.create(create); });
    if (!created) co_return co_await send_upload_failure(ex, created.error());
    store::UploadRecord record = std::move(*created);
    const bool owned = caller.principal && owner_secret;
    const bool owned_part = caller.principal && create.partial;
    // A final concatenation's length as made, under its parts' locks.
    if (!create.part_upload_ids.empty() && record.length_bytes)
        owned_length_bytes = *record.length_bytes;
    // Undoes a creation refused once made: the client gets no Location, so nothing of it may stay
    // to count against a quota or to be owned by nobody. That is its upload and, when it
    // completed at creation (a final concatenation, or a length of 0), its file and blob; its
    // owner's record (file or part); and the records of the parts it used up.
    const auto discard_created = [&] {
        (void)m_uploads.terminate(record.upload_id);
        if (!caller.principal) return;  // nothing else is recorded for an anonymous upload
        if (record.complete) {
            (void)m_accounts->meta.delete_file(record.file_id);
            (void)m_accounts->blobs.remove_blob(record.file_id);
        }
        if (owned) (void)m_accounts->accounts.delete_file(*caller.principal, record.file_id);
        std::vector<std::string> counted = create.part_upload_ids;
        counted.push_back(record.upload_id);
        (void)m_accounts->accounts.remove_parts(counted);
    };
    if (owned || owned_part) {
        // A final's parts are gone now (their bytes are its blob's): their records go with the
        // file's in one transaction.
        auto added = owned ? m_accounts->accounts.add_file(
                                 *caller.principal,
                                 accounts::NewOwnedFile{record.file_id, std::move(*owner_secret),
                                                        owned_length_bytes, create.part_upload_ids})
                           : m_accounts->accounts.add_part(*caller.principal, record.upload_id,
                                                           create.length_bytes.value_or(0),
                                                           record.expires_s);
        if (!added) {
            // A concurrent upload took the last quota.
            discard_created();
            co_return co_await send_account_failure(ex, added.error());
        }
        // Two creations racing could both pass check_upload: checking again once recorded
        // makes the loser (possibly both: conservative, never over) give its place back.
        auto quota = m_accounts->accounts.quota(*caller.principal);
        if (!quota || quota->used_bytes > quota->limit_bytes) {
            discard_created();
            // A named local, not a temporary of ?: inside co_await: GCC 12 destroys such
            // temporaries twice in a coroutine frame (found by ASan as a bad free).
            const accounts::AccountFailure failure =
                quota ? accounts::AccountFailure{accounts::AccountError::quota_exceeded, 0, {}} : quota.error();
            co_return co_await send_account_failure(ex, failure);
        }
    } else if (m_accounts && !create.part_upload_ids.empty()) {
        // A final concatenation without a session used up parts that may have been counted
        // against the quota of whoever made them.
        (void)m_accounts->accounts.remove_parts(create.part_upload_ids);
    }
    if (has_body) {
        // On failure, before the error is answered. One that is complete, or full and so
        // perhaps mid-commit, stays as it was (owned, listed, deletable; recovery completes a
        // full one): ending it could leave a file or a committed blob that nothing owns.
        const auto abandon = [&] {
            if (const auto now = m_uploads.status(record.upload_id);
                now && !files::is_complete(*now))
                discard_created();
        };
        auto written = co_await receive_body(ex, record.upload_id, 0, std::nullopt, abandon);
        if (!written) co_return;
        record = std::move(*written);
    }
    StringResponse res{http::status::created, req.version()};
    res.set("Tus-Resumable", kTusVersion);
    res.set(http::field::location, base_url(ex) + "/files/" + record.upload_id);
    res.set(http::field::cache_control, "no-store");
    if (has_body) res.set("Upload-Offset", std::to_string(record.offset_bytes));
    if (!record.complete) res.set("Upload-Expires", http_date(record.expires_s));
    if (record.complete) res.set("Satload-File-Id", record.file_id);
    res.keep_alive(ex.keep_alive());
    co_await ex.send(std::move(res));
}

awaitable<void> App::tus_head(Exchange& ex, const std::string& upload_id) {
    const Request& req = ex.request();
    if (header(req, "Tus-Resumable") != kTusVersion) {
        co_return co_await send_problem(ex, Problem::tus_version_unsupported,
                                        "send Tus-Resumable: 1.0.0");
    }
    auto status = m_uploads.status(upload_id);
    if (!status) co_return co_await send_upload_failure(ex, status.error());
    StringResponse res{http::status::ok, req.version()};
    res.set("Tus-Resumable", kTusVersion);
    res.set(http::field::cache_control, "no-store");
    res.set("Upload-Offset", std::to_string(status->offset_bytes));
    if (status->length_bytes) {
        res.set("Upload-Length", std::to_string(*status->length_bytes));
    } else {
        res.set("Upload-Defer-Length", "1");
    }
    if (!status->metadata.empty()) res.set("Upload-Metadata", status->metadata);
    if (status->is_partial) res.set("Upload-Concat", "partial");
    if (!status->parts.empty()) {
        std::string value = "final;";
        for (std::size_t i = 0; i < status->parts.size(); ++i) {
            if (i) value += ' ';
            value += "/files/" + status->parts[i];
        }
        res.set("Upload-Concat", value);
    }
    if (status->complete) {
        res.set("Satload-File-Id", status->file_id);
    } else {
        res.set("Upload-Expires", http_date(status->expires_s));
    }
    res.keep_alive(ex.keep_alive());
    co_await ex.send(std::move(res));
}

awaitable<void> App::tus_patch(Exchange& ex, const std::string& upload_id) {
    const Request& req = ex.request();
    if (header(req, "Tus-Resumable") != kTusVersion) {
        co_return co_await send_problem(ex, Problem::tus_version_unsupported,
                                        "send Tus-Resumable: 1.0.0");
    }
    if (header(req, "Content-Type") != kOffsetOctetStream) {
        co_return co_await send_problem(ex, Problem::unsupported_media_type,
                                        "PATCH needs Content-Type: application/offset+octet-stream");
    }
    const auto offset_text = header(req, "Upload-Offset");
    const auto offset = offset_text ? parse_decimal(*offset_text) : std::nullopt;
    if (!offset) {
        co_return co_await send_problem(ex, Problem::bad_request,
                                        "Upload-Offset is missing or malformed");
    }
    std::optional<std::uint64_t> length;
    if (const auto length_text = header(req, "Upload-Length")) {
        length = parse_decimal(*length_text);
        if (!length) co_return co_await send_problem(ex, Problem::bad_request, "Upload-Length is malformed");
    }
    auto written = co_await receive_body(ex, upload_id, *offset, length);
    if (!written) co_return;
    StringResponse res{http::status::no_content, req.version()};
    res.set("Tus-Resumable", kTusVersion);
    res.set("Upload-Offset", std::to_string(written->offset_bytes));
    if (written->complete) {
        res.set("Satload-File-Id", written->file_id);
    } else {
        res.set("Upload-Expires", http_date(written->expires_s));
    }
    res.keep_alive(ex.keep_alive());
    co_await ex.send(std::move(res));
}

awaitable<std::optional<store::UploadRecord>> App::receive_body(
    Exchange& ex, const std::string& upload_id, std::uint64_t offset,
    std::optional<std::uint64_t> length_bytes, const std::function<void()>& abandon) {
    const Request& req = ex.request();
    const auto give_up = [&abandon] {
        if (abandon) abandon();
    };
    if (ex.content_length() && *ex.content_length() > m_options.max_chunk_bytes) {
        give_up();
        co_await send_problem(ex, Problem::payload_too_large,
                              fmt::format("a single request body may carry at most {} bytes",
                                          m_options.max_chunk_bytes));
        co_return std::nullopt;
    }
    std::optional<std::pair<std::string, Bytes>> checksum;
    if (const auto text = header(req, "Upload-Checksum")) {
        auto parsed = parse_upload_checksum(*text);
        if (!parsed) {
            give_up();
            co_await send_problem(ex, Problem::bad_request, "Upload-Checksum is malformed");
            co_return std::nullopt;
        }
        checksum.emplace(std::move(parsed->algorithm), std::move(parsed->digest));
    }
    // A client that resumes right after a cut may arrive before the server has noticed the
    // cut connection, whose request still holds the upload: wait a little for it to let go.
    auto writer = m_uploads.begin_write(upload_id, offset, ex.content_length(), length_bytes, checksum);
    const auto lock_deadline = std::chrono::steady_clock::now() + kLockWait;
    while (!writer && writer.error().code == files::UploadError::locked &&
           std::chrono::steady_clock::now() < lock_deadline) {
        boost::asio::steady_timer pause(co_await boost::asio::this_coro::executor, kLockRetry);
        co_await pause.async_wait(boost::asio::use_awaitable);
        writer = m_uploads.begin_write(upload_id, offset, ex.content_length(), length_bytes, checksum);
    }
    if (!writer) {
        give_up();
        co_await send_upload_failure(ex, writer.error());
        co_return std::nullopt;
    }
    std::vector<std::uint8_t> buffer(kFirstBodyBufferBytes);
    std::uint64_t received = 0;
    while (true) {
        const auto n = co_await ex.read_body(buffer);
        if (n && *n == buffer.size() && buffer.size() < kBodyBufferBytes)
            buffer.resize(buffer.size() * 2);
        if (!n) {
            // The client went away or stalled: keep what arrived, as a resumable offset.
            (*writer)->cut();
            give_up();
            co_return std::nullopt;
        }
        if (*n == 0) break;
        received += *n;
        m_metrics.upload_bytes_received += *n;
        if (received > m_options.max_chunk_bytes) {
            (*writer)->discard();
            give_up();
            co_await send_problem(ex, Problem::payload_too_large, "the request body is too large");
            co_return std::nullopt;
        }
        if (auto ok = (*writer)->write(std::span<const std::uint8_t>(buffer.data(), *n)); !ok) {
            give_up();
            co_await send_upload_failure(ex, ok.error());
            co_return std::nullopt;
        }
    }
    // On the blocking pool: the sync of what arrived and, when this PATCH completes the upload,
    // the commit (a local blob is read back whole for its digest: seconds for gigabytes), which
    // would stall every other connection of this event loop meanwhile.
    auto done = co_await m_upload_blocking.run([&writer] { return (*writer)->finish(); });
    if (!done) {
        give_up();
        co_await send_upload_failure(ex, done.error());
        co_return std::nullopt;
    }
    co_return std::move(*done);
}

awaitable<void> App::tus_delete(Exchange& ex, const std::string& upload_id) {
    const Request& req = ex.request();
    if (header(req, "Tus-Resumable") != kTusVersion) {
        co_return co_await send_problem(ex, Problem::tus_version_unsupported,
                                        "send Tus-Resumable: 1.0.0");
    }
    auto ok = m_uploads.terminate(upload_id);
    if (!ok) co_return co_await send_upload_failure(ex, ok.error());
    // A part made with a session counted against its maker's quota until now.
    if (m_accounts) (void)m_accounts->accounts.remove_parts({upload_id});
    StringResponse res{http::status::no_content, req.version()};
    res.set("Tus-Resumable", kTusVersion);
    res.keep_alive(ex.keep_alive());
    co_await ex.send(std::move(res));
}

}  // namespace satload::server
