// GET/HEAD /d/<id>: the stored ciphertext with ranges, If-Range and a strong ETag, streamed
// from the blob store in pieces so memory does not grow with the file size.
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <optional>
#include <utility>

#include "core/checksum.h"
#include "core/http_headers.h"
#include "crypto/primitives.h"
#include "server/app.h"

namespace satload::server {
namespace {

// Large pieces keep syscalls per byte low; one piece per download in flight bounds memory.
constexpr std::size_t kDownloadBufferBytes = 512 * 1024;
// A body at least this long from a store that can splice (S3), to a plain TCP client, goes
// from the store's connection through a pipe to the client's without a copy in user space:
// on one core, each of the two copies cost as much as RGW's own sending. Smaller bodies keep
// the one write of header and body.
constexpr std::uint64_t kSpliceMinBytes = 256 * 1024;
// The pipe's size asked for (Linux allows unprivileged processes up to 1 MiB by default); the
// bytes moved per round trip store -> pipe -> client.
constexpr int kSplicePipeBytes = 1024 * 1024;

// A pipe for one spliced download; closed with it.
class SplicePipe {
public:
    static std::optional<SplicePipe> open() {
        int fds[2];
        if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) return std::nullopt;
        SplicePipe p(fds[0], fds[1]);
        (void)::fcntl(p.m_write, F_SETPIPE_SZ, kSplicePipeBytes);  // else the default size
        const int size = ::fcntl(p.m_write, F_GETPIPE_SZ);
        if (size <= 0) return std::nullopt;
        p.m_capacity = static_cast<std::size_t>(size);
        return p;
    }
    SplicePipe(SplicePipe&& o) noexcept
        : m_read(std::exchange(o.m_read, -1)), m_write(std::exchange(o.m_write, -1)), m_capacity(o.m_capacity) {}
    SplicePipe& operator=(SplicePipe&&) = delete;
    ~SplicePipe() {
        if (m_read >= 0) ::close(m_read);
        if (m_write >= 0) ::close(m_write);
    }
    [[nodiscard]] int read_fd() const { return m_read; }
    [[nodiscard]] int write_fd() const { return m_write; }
    [[nodiscard]] std::size_t capacity() const { return m_capacity; }

private:
    SplicePipe(int r, int w) : m_read(r), m_write(w) {}
    int m_read;
    int m_write;
    std::size_t m_capacity = 0;
};

// The bytes of an id never change, so a file whose link cannot close is cached for a year by
// anyone; a file whose link can close (expiry, limit, price, an owner who can revoke) only by
// the client, which asks again every time.
constexpr std::string_view kCacheForever = "public, max-age=31536000, immutable";
constexpr std::string_view kCacheRevalidate = "private, no-cache";

// Counts one download of the file; false when nothing was counted (the file is gone, or the
// store failed, which is logged). Only a file with a download limit needs its count durable
// before the next request is judged; the others are counted in memory and written in batches.
bool record_download(files::FileService& files, const store::FileRecord& file) {
    const std::string& file_id = file.file_id;
    if (!file.max_downloads) {
        files.count_download_later(file_id);
        return true;
    }
    auto counted = files.count_download(file_id);
    if (!counted && counted.error().code == files::FileError::storage) {
        fmt::print(stderr, "download of {}: cannot count it: {}\n", file_id, counted.error().message);
    }
    return counted.has_value();
}

std::string etag_of(const store::FileRecord& file) {
    return "\"" + file.sha256_hex.substr(0, 32) + "\"";
}

}  // namespace

awaitable<void> App::download(Exchange& ex, const std::string& file_id) {
    const Request& req = ex.request();
    // The record first: the gates below need no blob, and most refusals (a 402 above all)
    // then cost no open and close.
    auto found = m_files.info(file_id);
    if (!found) {
        const bool missing = found.error().code == files::FileError::not_found;
        co_return co_await send_problem(ex, missing ? Problem::not_found : Problem::internal,
                                        missing ? "no such file" : "storage failure");
    }
    const store::FileRecord& record = *found;
    // Trust and safety: a taken-down file (or a suspended owner's) answers 410 with its reason.
    if (co_await safety_file_gate(ex, file_id)) co_return;
    // Link controls: a closed link serves nothing, HEAD included.
    if (const auto refusal = m_files.link_refusal(record)) {
        co_return co_await send_link_refusal(ex, *refusal, record);
    }
    // The paywall: a priced file needs a grant (or its owner's session) before any byte.
    if (!co_await paywall_gate(ex, record)) co_return;
    auto reader = m_files.open_blob(file_id);
    if (!reader) co_return co_await send_problem(ex, Problem::internal, "storage failure");
    const std::unique_ptr<store::BlobReader>& blob = *reader;
    const std::uint64_t size = blob->size();
    const std::string etag = etag_of(record);

    ParsedRange range;
    if (const auto it = req.find(http::field::range); it != req.end()) {
        range = parse_range(it->value(), size);
        if (range.result == RangeResult::satisfiable || range.result == RangeResult::unsatisfiable) {
            // If-Range: the range applies only to the representation the client already has.
            if (const auto if_range = req.find(http::field::if_range); if_range != req.end() &&
                                                                         if_range->value() != etag) {
                range.result = RangeResult::none;
            }
        }
    }
    if (range.result == RangeResult::unsatisfiable) {
        StringResponse res = problem_response(req.version(), ex.keep_alive(),
                                              Problem::range_not_satisfiable,
                                              fmt::format("the file has {} bytes", size));
        res.set(http::field::content_range, fmt::format("bytes */{}", size));
        res.set(http::field::accept_ranges, "bytes");
        co_await ex.send(std::move(res));
        co_return;
    }
    const bool partial = range.result == RangeResult::satisfiable;
    const std::uint64_t first = partial ? range.range.first : 0;
    const std::uint64_t length = partial ? range.range.length() : size;

    http::response<http::empty_body> head{partial ? http::status::partial_content : http::status::ok,
                                          req.version()};
    head.set(http::field::content_type, "application/octet-stream");
    head.set(http::field::accept_ranges, "bytes");
    head.set(http::field::etag, etag);
    head.set(http::field::cache_control,
             files::has_link_controls(record) ? kCacheRevalidate : kCacheForever);
    head.set(http::field::last_modified, http_date(record.created_s));
    head.set("X-Content-Type-Options", "nosniff");
    if (partial) {
        head.set(http::field::content_range,
                 fmt::format("bytes {}-{}/{}", range.range.first, range.range.last, size));
    }
    head.content_length(length);
    head.keep_alive(ex.keep_alive());
    if (req.method() == http::verb::head || length == 0) {
        if (!co_await ex.send_header(std::move(head))) co_return;
        if (req.method() == http::verb::head) co_return;
    }
    // Otherwise the header leaves with the first piece of the body, in one write: a small
    // file is then one system call, not two. A failure before that still sends the header
    // and cuts the response, as a failure after it does.
    bool header_sent = length == 0;

    // A full read is checked against the recorded checksum: the last piece is only sent when
    // the whole blob matched, so a client never receives a complete body that is corrupt.
    // XXH3 runs at several GB/s; SHA-256 (files recorded before XXH3) is the fallback. A store
    // that checks its own reads (S3) is not checked twice.
    const bool verify = !partial && !blob->checked_by_store();
    const bool fast = !record.xxh3_hex.empty();
    std::optional<Xxh3Checksum> checksum;
    std::optional<crypto::Sha256> hash;
    if (verify && fast) checksum.emplace();
    if (verify && !fast) hash.emplace();
    // Bytes that need no check here go from the store's connection to the client's in the
    // kernel where both ends allow it; otherwise through the buffer below.
    std::optional<SplicePipe> pipe = [&]() -> std::optional<SplicePipe> {
        if (!verify && length >= kSpliceMinBytes && blob->can_splice() && ex.can_splice()) {
            return SplicePipe::open();
        }
        return std::nullopt;
    }();
    // Sized to the response (small files are the common case) and left uninitialised: zeroing
    // and mapping a fresh 512 KiB per request dominated small-object serving.
    const std::size_t buffer_bytes =
        pipe ? 0
             : static_cast<std::size_t>(std::min<std::uint64_t>(kDownloadBufferBytes, std::max<std::uint64_t>(length, 1)));
    const std::unique_ptr<std::uint8_t[]> storage(new std::uint8_t[buffer_bytes]);
    const std::span<std::uint8_t> buffer(storage.get(), buffer_bytes);
    std::uint64_t at = first;
    const std::uint64_t end = first + length;
    // A download counts once, with the response that carries the file's last byte, however
    // many ranged requests it took. The count is taken as that last piece goes to the
    // connection, so a request made after the client received it already sees the count, and
    // it is taken back if the piece cannot be sent. A download that was under way when the
    // limit was reached still ends normally: only later requests are refused.
    const bool carries_last_byte = end == size;
    if (length > 0) blob->will_read(first, length);
    if (carries_last_byte && length == 0) {
        ++m_metrics.downloads_completed;
        (void)record_download(m_files, record);
    }
    while (at < end) {
        if (pipe) {
            const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(pipe->capacity(), end - at));
            auto n = blob->splice_at(at, pipe->write_fd(), want);
            if (!n || *n == 0) {
                ex.close_after_response();
                if (!header_sent) (void)co_await ex.send_header(std::move(head));
                co_return;
            }
            const bool counted =
                carries_last_byte && at + *n == end && record_download(m_files, record);
            bool sent = header_sent;
            if (!header_sent) {
                header_sent = true;
                sent = co_await ex.send_header(std::move(head));
            }
            if (sent) sent = co_await ex.send_body_from_pipe(pipe->read_fd(), *n);
            if (!sent) {
                if (counted && record.max_downloads) m_files.uncount_download(file_id);
                if (counted && !record.max_downloads) m_files.uncount_download_later(file_id);
                co_return;
            }
            at += *n;
            continue;
        }
        const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size(), end - at));
        auto n = blob->read_at(at, std::span<std::uint8_t>(buffer.data(), want));
        if (!n || *n == 0) {
            // The blob is shorter than recorded: cut the response.
            ex.close_after_response();
            if (!header_sent) (void)co_await ex.send_header(std::move(head));
            co_return;
        }
        const std::span<const std::uint8_t> piece(buffer.data(), *n);
        if (verify) {
            if (checksum) checksum->update(piece);
            if (hash) hash->update(piece);
            if (at + *n == end) {
                const bool intact = fast ? checksum->finish_hex() == record.xxh3_hex
                                         : hex_encode(hash->finish()) == record.sha256_hex;
                if (!intact) {
                    m_files.report_corrupt(file_id);
                    ex.close_after_response();
                    if (!header_sent) (void)co_await ex.send_header(std::move(head));
                    co_return;
                }
            }
        }
        const bool counted =
            carries_last_byte && at + *n == end && record_download(m_files, record);
        bool sent = false;
        if (header_sent) {
            sent = co_await ex.send_body(piece);
        } else {
            header_sent = true;
            sent = co_await ex.send_header_with_body(std::move(head), piece);
        }
        if (!sent) {
            if (counted && record.max_downloads) m_files.uncount_download(file_id);
            if (counted && !record.max_downloads) m_files.uncount_download_later(file_id);
            co_return;
        }
        at += *n;
    }
    if (carries_last_byte && length > 0) ++m_metrics.downloads_completed;
}

}  // namespace satload::server
