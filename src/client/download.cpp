// The downloader. Workers take segments (whole records) from a shared list, fetch each with a
// ranged GET guarded by If-Range, decrypt record by record straight from the socket buffer and
// pwrite the plaintext at its offset. A cut transfer continues from the last whole record; a
// record that does not authenticate ends everything and removes the temporary file. Every
// request of the ciphertext carries the caller's credential; a 402 or 401 before the transfer
// goes to the caller's on_refused (which may pay) and the request is repeated.
#include "client/download.h"

#include <boost/json.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <thread>

#include "client/download_state.h"
#include "client/files.h"
#include "client/plan.h"
#include "client/progress.h"
#include "client/tus.h"
#include "core/check.h"
#include "crypto/keys.h"
#include "crypto/primitives.h"

namespace satload::client {

namespace fs = std::filesystem;
namespace ece = crypto::ece;
namespace http = boost::beast::http;

namespace {

fs::path sibling(const fs::path& target, std::string_view suffix) {
    return target.parent_path() / ("." + target.filename().string() + std::string(suffix));
}

struct FileInfo {
    std::uint64_t body_bytes = 0;
    std::string meta_text;
};

ClientResult<FileInfo> parse_file_info(const std::string& body, std::string_view file_id) {
    const auto bad = [] {
        return client_error(ErrorCode::protocol, "the server's file description is malformed");
    };
    boost::system::error_code ec;
    const auto value = boost::json::parse(body, ec);
    if (ec || !value.is_object()) return bad();
    const auto& obj = value.get_object();
    const auto* id = obj.if_contains("id");
    const auto* size = obj.if_contains("size_bytes");
    const auto* meta = obj.if_contains("meta");
    if (id == nullptr || !id->is_string() || id->get_string() != file_id || size == nullptr ||
        meta == nullptr || !meta->is_string()) {
        return bad();
    }
    FileInfo info;
    if (size->is_uint64()) {
        info.body_bytes = size->get_uint64();
    } else if (size->is_int64() && size->get_int64() >= 0) {
        info.body_bytes = static_cast<std::uint64_t>(size->get_int64());
    } else {
        return bad();
    }
    info.meta_text = std::string(meta->get_string());
    return info;
}

// "bytes <first>-<last>/<total>" must name exactly the range we asked for.
bool content_range_is(std::string_view value, std::uint64_t first, std::uint64_t last,
                      std::uint64_t total) {
    return value == "bytes " + std::to_string(first) + "-" + std::to_string(last) + "/" +
                        std::to_string(total);
}

// The ciphertext's request target; the link's referral code rides along so that a payment
// challenge credits the referrer.
std::string blob_target(const Link& link) {
    std::string target = link.server.target("/d/" + link.file_id);
    if (!link.referrer.empty()) target += "?r=" + link.referrer;
    return target;
}

void add_authorization(HttpRequest& request, const std::string& authorization) {
    if (!authorization.empty()) request.headers.emplace_back("Authorization", authorization);
}

// Wipes the credential copies a request carried once it was sent.
void wipe_authorization(HttpRequest& request) {
    for (auto& [name, value] : request.headers) {
        if (name == "Authorization") crypto::secure_wipe(value.data(), value.size());
    }
}

// The error for a refused ciphertext request; a 402 here means the grant ran out meanwhile.
Error download_status_error(const HttpResponse& response) {
    if (response.status == 402) {
        return Error{ErrorCode::payment_required,
                     "the server asks for payment again (the paid grant ran out during the download)"};
    }
    return status_error("downloading", response);
}

// Wipes a credential string when the download ends, however it ends.
struct WipeOnExit {
    std::string& text;
    ~WipeOnExit() { crypto::secure_wipe(text.data(), text.size()); }
};

// Failures after which the temporary file is worthless: the bytes are wrong or gone.
bool is_fatal(ErrorCode code) {
    return code == ErrorCode::authentication_failed || code == ErrorCode::truncated ||
           code == ErrorCode::size_mismatch || code == ErrorCode::remote_changed ||
           code == ErrorCode::protocol || code == ErrorCode::not_found;
}

// Everything the workers share.
struct Job {
    const DownloadOptions& options;
    const Link& link;
    const ece::Key& content_ikm;
    const ece::Header& header;
    ece::Layout layout;
    std::uint64_t plaintext_bytes = 0;
    std::uint64_t body_bytes = 0;
    std::uint64_t records = 0;
    std::string etag;
    std::string target;         // the ciphertext's request target
    std::string authorization;  // secret; "" for none
    int fd = -1;
    fs::path state_path;
    Progress* progress = nullptr;

    std::vector<BodyRange> segments;
    std::mutex mutex;  // guards everything below
    DownloadState state;
    std::size_t next = 0;  // next segment index to consider
    std::chrono::steady_clock::time_point last_save;
    std::optional<Error> error;
    std::atomic<bool> abort{false};
    std::atomic<std::uint64_t> fetched{0};

    Job(const DownloadOptions& o, const Link& l, const ece::Key& k, const ece::Header& h)
        : options(o), link(l), content_ikm(k), header(h) {}
    ~Job() { crypto::secure_wipe(authorization.data(), authorization.size()); }
    Job(const Job&) = delete;
    Job& operator=(const Job&) = delete;

    void fail(Error e) {
        std::lock_guard lock(mutex);
        if (!error || (!is_fatal(error->code) && is_fatal(e.code))) error = std::move(e);
        abort = true;
    }

    std::optional<std::size_t> take() {
        std::lock_guard lock(mutex);
        while (next < segments.size() && state.done[next]) ++next;
        if (next == segments.size() || abort) return std::nullopt;
        return next++;
    }

    // Syncs the data, then records it as done, so the state never claims unsynced bytes.
    ClientResult<void> save_locked() {
        if (::fdatasync(fd) != 0) {
            return client_error(ErrorCode::file_io, std::string("cannot sync the download: ") +
                                                        std::strerror(errno));
        }
        last_save = std::chrono::steady_clock::now();
        return write_file_atomic(state_path, download_state_to_json(state));
    }

    void finished(std::size_t index) {
        std::lock_guard lock(mutex);
        state.done[index] = true;
        if (std::chrono::steady_clock::now() - last_save >= kDownloadStateSaveIntervalMs) {
            (void)save_locked();  // a failed save only costs a re-download of some segments
        }
    }

    std::uint64_t record_bytes(std::uint64_t index) const {
        return index + 1 < records ? layout.record_size
                                   : body_bytes - layout.record_offset(records - 1);
    }
};

// Decrypts one whole record, checks its place (only the last record carries the last
// delimiter; every record is full but the last) and writes its plaintext.
ClientResult<void> store_record(Job& job, ece::Decoder& decoder, std::uint64_t index,
                                ByteSpan ciphertext, std::span<std::uint8_t> plain) {
    auto record = decoder.decrypt_record(index, ciphertext, plain);
    if (!record) {
        if (record.error().code == ece::Error::authentication_failed) {
            return client_error(ErrorCode::authentication_failed,
                                "record " + std::to_string(index) +
                                    " did not authenticate: the file was tampered with, or the "
                                    "link's secret is wrong");
        }
        if (record.error().code == ece::Error::truncated) {
            return client_error(ErrorCode::truncated,
                                "the file ends without its last record: it was truncated");
        }
        return client_error(ErrorCode::protocol, "the file is malformed: " + record.error().message());
    }
    const std::uint64_t per_record = job.layout.plaintext_per_record();
    const bool last = index + 1 == job.records;
    const std::uint64_t expected = last ? job.plaintext_bytes - index * per_record : per_record;
    if (last && !record->last) {
        return client_error(ErrorCode::truncated,
                            "the file ends without its last record: it was truncated");
    }
    if (record->last != last || record->plaintext_bytes != expected) {
        return client_error(ErrorCode::protocol, "record " + std::to_string(index) +
                                                     " has the wrong size or delimiter");
    }
    std::size_t written = 0;
    while (written < record->plaintext_bytes) {
        const ssize_t n = ::pwrite(job.fd, plain.data() + written, record->plaintext_bytes - written,
                                   static_cast<off_t>(index * per_record + written));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            return client_error(ErrorCode::file_io,
                                std::string("cannot write the download: ") + std::strerror(errno));
        }
        written += static_cast<std::size_t>(n);
    }
    return {};
}

// Fetches records [segment.first_record, segment.end_record), resuming after the last whole
// record on a retry.
ClientResult<void> fetch_segment(Job& job, HttpClient& client, ece::Decoder& decoder,
                                 const BodyRange& segment, Bytes& record_buf, Bytes& plain_buf) {
    std::uint64_t next = segment.first_record;
    unsigned failures = 0;
    while (next < segment.end_record) {
        if (job.abort) return client_error(ErrorCode::network, "cancelled");
        const BodyRange range = record_range(job.layout, job.plaintext_bytes, next, segment.end_record);
        HttpRequest request;
        request.method = http::verb::get;
        request.target = job.target;
        add_authorization(request, job.authorization);
        request.headers.emplace_back("Range", "bytes=" + std::to_string(range.begin_bytes) + "-" +
                                                  std::to_string(range.end_bytes - 1));
        if (!job.etag.empty()) request.headers.emplace_back("If-Range", job.etag);

        std::size_t fill = 0;
        const HeadCheck check = [&](const HttpResponse& r) -> ClientResult<void> {
            if (r.status != 206) {
                return client_error(ErrorCode::remote_changed,
                                    "the file changed on the server during the download");
            }
            if (!content_range_is(r.header("Content-Range"), range.begin_bytes,
                                  range.end_bytes - 1, job.body_bytes)) {
                return client_error(ErrorCode::protocol, "the server sent a different range");
            }
            return {};
        };
        const BodySink sink = [&](ByteSpan piece) -> ClientResult<void> {
            while (!piece.empty()) {
                if (next >= segment.end_record) {
                    return client_error(ErrorCode::protocol, "the server sent too many bytes");
                }
                const std::size_t need = static_cast<std::size_t>(job.record_bytes(next));
                const std::size_t take = std::min(need - fill, piece.size());
                std::memcpy(record_buf.data() + fill, piece.data(), take);
                fill += take;
                piece = piece.subspan(take);
                job.fetched += take;
                if (fill == need) {
                    if (auto r = store_record(job, decoder, next, ByteSpan(record_buf.data(), need),
                                              plain_buf);
                        !r) {
                        return r;
                    }
                    job.progress->add(need);
                    ++next;
                    fill = 0;
                }
            }
            return {};
        };
        auto response = client.send_streaming(job.link.server.endpoint, request, check, sink);
        wipe_authorization(request);
        Error error{ErrorCode::network, ""};
        if (response && response->ok()) {
            if (next == segment.end_record) return {};
            error = Error{ErrorCode::network, "the server closed a range early"};
        } else if (response) {
            error = download_status_error(*response);
            const unsigned s = response->status;
            const bool transient = s == 408 || s == 429 || s >= 500;
            if (!transient) {
                if (s == 412 || s == 416) error.code = ErrorCode::remote_changed;
                return tl::unexpected(error);
            }
        } else {
            error = response.error();
            if (error.code != ErrorCode::network) return tl::unexpected(error);
        }
        if (++failures >= job.options.max_attempts) return tl::unexpected(error);
        const auto until = std::chrono::steady_clock::now() + job.options.retry_delay_ms * failures;
        while (!job.abort && std::chrono::steady_clock::now() < until) {
            std::this_thread::sleep_for(kAbortPollMs);
        }
    }
    return {};
}

void worker(Job& job) {
    HttpClient client(job.options.http);
    ece::Decoder decoder(job.content_ikm, job.header);
    Bytes record_buf(job.layout.record_size);
    Bytes plain_buf(job.layout.record_size);
    while (auto index = job.take()) {
        auto r = fetch_segment(job, client, decoder, job.segments[*index], record_buf, plain_buf);
        if (!r) {
            job.fail(r.error());
            return;
        }
        job.finished(*index);
    }
}

ClientResult<fs::path> choose_target(const DownloadOptions& o, const FileMetadata& meta,
                                     std::string_view file_id) {
    const std::string name = safe_file_name(meta.name, "satload-" + std::string(file_id));
    fs::path target;
    std::error_code ec;
    if (o.output && fs::is_directory(*o.output, ec)) {
        target = *o.output / name;
    } else if (o.output) {
        target = *o.output;
    } else {
        target = o.directory / name;
    }
    if (target.filename().empty()) {
        return client_error(ErrorCode::bad_argument, "the output path names no file");
    }
    struct stat st {};
    if (::lstat(target.c_str(), &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            return client_error(ErrorCode::target_exists, target.string() + " is a directory");
        }
        if (!o.force) {
            return client_error(ErrorCode::target_exists,
                                target.string() + " exists (use --force to overwrite it)");
        }
    }
    return target;
}

// Moves the finished temporary file into place; without --force never over an existing file.
ClientResult<void> install(const fs::path& part, const fs::path& target, bool force) {
    if (force) {
        if (::rename(part.c_str(), target.c_str()) != 0) {
            return client_error(ErrorCode::file_io, io_message("cannot rename to", target, errno));
        }
    } else if (::renameat2(AT_FDCWD, part.c_str(), AT_FDCWD, target.c_str(), RENAME_NOREPLACE) != 0) {
        if (errno == EEXIST) {
            return client_error(ErrorCode::target_exists,
                                target.string() + " appeared meanwhile (use --force to overwrite it)");
        }
        if (errno != EINVAL && errno != ENOSYS) {
            return client_error(ErrorCode::file_io, io_message("cannot rename to", target, errno));
        }
        // The file system cannot rename without replacing: link() refuses existing names too.
        if (::link(part.c_str(), target.c_str()) != 0) {
            if (errno == EEXIST) {
                return client_error(ErrorCode::target_exists,
                                    target.string() + " appeared meanwhile (use --force to overwrite it)");
            }
            return client_error(ErrorCode::file_io, io_message("cannot create", target, errno));
        }
        ::unlink(part.c_str());
    }
    return sync_directory(target.parent_path());
}

}  // namespace

fs::path part_path_for(const fs::path& target) { return sibling(target, kPartSuffix); }
fs::path state_path_for(const fs::path& target) { return sibling(target, kStateSuffix); }

ClientResult<DownloadResult> download_file(const Link& link, const DownloadOptions& options) {
    if (options.parallel < 1 || options.parallel > kMaxParallelRanges || options.segment_bytes == 0 ||
        options.max_attempts == 0) {
        return client_error(ErrorCode::bad_argument, "the number of parallel ranges must be 1 to " +
                                                         std::to_string(kMaxParallelRanges));
    }
    const crypto::FileKeys keys = crypto::derive_file_keys(link.secret);
    HttpClient client(options.http);

    // The encrypted metadata.
    HttpRequest request;
    request.target = link.server.target("/api/v1/files/" + link.file_id);
    request.headers.emplace_back("Accept", "application/json");
    auto response = client.send(link.server.endpoint, request);
    if (!response) return tl::unexpected(response.error());
    if (response->status != 200) return tl::unexpected(status_error("looking up the file", *response));
    auto info = parse_file_info(response->body, link.file_id);
    if (!info) return tl::unexpected(info.error());
    auto meta = decrypt_metadata(info->meta_text, keys.metadata_ikm);
    if (!meta) return tl::unexpected(meta.error());
    auto target = choose_target(options, *meta, link.file_id);
    if (!target) return tl::unexpected(target.error());

    // Size and version of the blob, after any payment it needs.
    const std::string target_path = blob_target(link);
    std::string authorization = options.authorization;
    const WipeOnExit wipe_authorization_on_exit{authorization};
    for (unsigned round = 0;; ++round) {
        request = HttpRequest{};
        request.method = http::verb::head;
        request.target = target_path;
        add_authorization(request, authorization);
        response = client.send(link.server.endpoint, request);
        wipe_authorization(request);
        if (!response) return tl::unexpected(response.error());
        const bool refused = response->status == 401 || response->status == 402;
        if (!refused || !options.on_refused || round == kMaxAuthorizationRounds) break;
        // A HEAD answer has no body: a one-byte GET fetches the problem document (the price).
        request.method = http::verb::get;
        add_authorization(request, authorization);
        request.headers.emplace_back("Range", "bytes=0-0");
        auto challenge = client.send(link.server.endpoint, request);
        wipe_authorization(request);
        if (!challenge) return tl::unexpected(challenge.error());
        if (challenge->status != 401 && challenge->status != 402) continue;  // changed meanwhile
        auto next = options.on_refused(*challenge, authorization);
        if (!next) return tl::unexpected(next.error());
        crypto::secure_wipe(authorization.data(), authorization.size());
        authorization = std::move(*next);
        crypto::secure_wipe(next->data(), next->size());
    }
    if (response->status == 402) {
        return client_error(ErrorCode::payment_required, "downloading failed: " + describe_response(*response));
    }
    if (response->status != 200) return tl::unexpected(status_error("downloading", *response));
    const auto length = tus::parse_decimal(response->header("Content-Length"));
    if (!length || *length != info->body_bytes) {
        return client_error(ErrorCode::size_mismatch, "the server reports two different sizes");
    }
    std::string etag = response->header("ETag");
    if (etag.rfind("W/", 0) == 0) etag.clear();  // a weak ETag cannot guard byte ranges

    // The RFC 8188 header: salt and record size. The range stops short of the last byte, since
    // a response carrying the last byte counts as a download (link limits, earnings).
    if (info->body_bytes < 2) return client_error(ErrorCode::truncated, "the stored file is too short to be encrypted");
    const std::uint64_t header_want =
        std::min<std::uint64_t>(info->body_bytes - 1, ece::kHeaderBaseBytes + ece::kMaxKeyIdBytes);
    if (header_want < ece::kHeaderBaseBytes) {
        return client_error(ErrorCode::truncated, "the stored file is too short to be encrypted");
    }
    request = HttpRequest{};
    request.method = http::verb::get;
    request.target = target_path;
    add_authorization(request, authorization);
    request.headers.emplace_back("Range", "bytes=0-" + std::to_string(header_want - 1));
    if (!etag.empty()) request.headers.emplace_back("If-Range", etag);
    response = client.send(link.server.endpoint, request);
    wipe_authorization(request);
    if (!response) return tl::unexpected(response.error());
    if (response->status == 401 || response->status == 402) {
        return tl::unexpected(download_status_error(*response));
    }
    if (response->status != 206 ||
        !content_range_is(response->header("Content-Range"), 0, header_want - 1, info->body_bytes) ||
        response->body.size() != header_want) {
        return client_error(ErrorCode::protocol, "the server did not answer a range request properly");
    }
    auto header = ece::parse_header(as_bytes(response->body));
    if (!header) {
        return client_error(ErrorCode::protocol,
                            "the stored file's header is malformed: " + header.error().message());
    }
    const ece::Layout layout{header->size(), header->record_size};
    const auto plaintext = layout.plaintext_size(info->body_bytes);
    if (!plaintext || *plaintext != meta->size_bytes) {
        return client_error(ErrorCode::size_mismatch,
                            "the stored file's size does not match its metadata");
    }

    // The temporary file, locked against a second `get` of the same target.
    const fs::path part = part_path_for(*target);
    FileHandle fd(::open(part.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666));
    if (!fd) return client_error(ErrorCode::file_io, io_message("cannot create", part, errno));
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
        return client_error(ErrorCode::busy, "another satload get is writing " + part.string());
    }
    Job job(options, link, keys.content_ikm, *header);
    job.layout = layout;
    job.plaintext_bytes = *plaintext;
    job.body_bytes = info->body_bytes;
    job.records = layout.record_count(*plaintext);
    job.etag = etag;
    job.target = target_path;
    job.authorization = authorization;
    job.fd = fd.get();
    job.state_path = state_path_for(*target);
    const std::uint64_t segment_records =
        std::max<std::uint64_t>(1, options.segment_bytes / layout.record_size);
    job.segments = plan_segments(layout, *plaintext, segment_records);

    DownloadState expected;
    expected.file_id = link.file_id;
    expected.etag = etag;
    expected.body_bytes = info->body_bytes;
    expected.plaintext_bytes = *plaintext;
    expected.record_size = layout.record_size;
    expected.segment_records = segment_records;
    expected.done.assign(job.segments.size(), false);
    bool resumed = false;
    if (auto text = read_small_file(job.state_path, kMaxStateFileBytes); text && !etag.empty()) {
        auto saved = download_state_from_json(*text);
        struct stat st {};
        if (saved && ::fstat(fd.get(), &st) == 0 && static_cast<std::uint64_t>(st.st_size) == *plaintext) {
            DownloadState probe = *saved;
            probe.done = expected.done;
            resumed = probe == expected;
            if (resumed) expected.done = saved->done;
        }
    }
    if (!resumed) {
        if (::ftruncate(fd.get(), 0) != 0 ||
            ::ftruncate(fd.get(), static_cast<off_t>(*plaintext)) != 0) {
            return client_error(ErrorCode::file_io, io_message("cannot size", part, errno));
        }
    }
    job.state = std::move(expected);
    std::uint64_t already = header->size();
    for (std::size_t i = 0; i < job.segments.size(); ++i) {
        if (job.state.done[i]) already += job.segments[i].size_bytes();
    }
    if (resumed && options.notice) {
        options.notice("resuming an earlier download: " + format_bytes(already) + " of " +
                       format_bytes(info->body_bytes) + " already here");
    }

    Progress progress("get", info->body_bytes, already, options.show_progress);
    job.progress = &progress;
    job.last_save = std::chrono::steady_clock::now();
    {
        std::vector<std::jthread> workers;
        const std::size_t todo = static_cast<std::size_t>(
            std::count(job.state.done.begin(), job.state.done.end(), false));
        for (std::size_t i = 0; i < std::min<std::size_t>(options.parallel, todo); ++i) {
            workers.emplace_back([&job] { worker(job); });
        }
    }
    progress.finish();

    if (job.error) {
        Error error = *job.error;
        if (is_fatal(error.code)) {
            // Nothing of a tampered or changed file is worth keeping.
            ::unlink(part.c_str());
            ::unlink(job.state_path.c_str());
        } else {
            std::lock_guard lock(job.mutex);
            if (job.save_locked()) error.message += " (run the same command again to resume)";
        }
        return tl::unexpected(error);
    }
    SATLOAD_ASSERT(std::all_of(job.state.done.begin(), job.state.done.end(), [](bool d) { return d; }));
    if (::fsync(fd.get()) != 0) {
        return client_error(ErrorCode::file_io, io_message("cannot sync", part, errno));
    }
    if (auto r = install(part, *target, options.force); !r) {
        // Keep the finished temporary file: rerunning with --force completes at once.
        std::lock_guard lock(job.mutex);
        (void)job.save_locked();
        return tl::unexpected(r.error());
    }
    ::unlink(job.state_path.c_str());

    DownloadResult result;
    result.path = *target;
    result.metadata = std::move(*meta);
    result.resumed = resumed;
    result.body_bytes = info->body_bytes;
    result.fetched_bytes = job.fetched.load() + response->body.size();
    return result;
}

}  // namespace satload::client
