// The uploader: state handling and the part workers. Each part is a tus upload filled by one
// thread with its own connection and Encoder; a failed chunk is retried after asking the
// server (HEAD) how much it really has, so nothing it holds is sent twice.
#include "client/upload.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "client/ciphertext_reader.h"
#include "client/files.h"
#include "client/metadata.h"
#include "client/progress.h"
#include "client/tus.h"
#include "client/upload_state.h"
#include "core/check.h"
#include "core/ids.h"
#include "crypto/primitives.h"

namespace satload::client {

namespace fs = std::filesystem;
namespace ece = crypto::ece;

namespace {

struct Source {
    fs::path absolute;
    std::string name;  // the base name the user gave
    std::uint64_t size_bytes = 0;
    std::int64_t mtime_ns = 0;
};

std::int64_t mtime_ns_of(const struct stat& st) {
    return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

ClientResult<void> check_options(const UploadOptions& o) {
    if (o.parallel_parts < 1 || o.parallel_parts > kMaxParallelParts) {
        return client_error(ErrorCode::bad_argument, "the number of parallel parts must be 1 to " +
                                                         std::to_string(kMaxParallelParts));
    }
    if (o.chunk_bytes < kMinChunkBytes || o.chunk_bytes > kMaxChunkBytes) {
        return client_error(ErrorCode::bad_argument, "the chunk size must be 1 KiB to 256 MiB");
    }
    if (o.record_size < ece::kMinRecordSize || o.record_size > ece::kMaxRecordSize ||
        o.min_part_bytes == 0 || o.max_attempts == 0) {
        return client_error(ErrorCode::bad_argument, "invalid upload tuning options");
    }
    return {};
}

bool state_matches(const UploadState& s, const Source& src, const UploadOptions& o) {
    return s.source_path == src.absolute.string() && s.size_bytes == src.size_bytes &&
           s.mtime_ns == src.mtime_ns && s.server == o.server.text();
}

// The parts must cover the body exactly, in order, on record boundaries.
bool parts_fit(const UploadState& s, const ece::Layout& layout) {
    const std::uint64_t body = layout.ciphertext_size(s.size_bytes);
    std::uint64_t at = 0;
    for (const auto& p : s.parts) {
        if (p.begin_bytes != at || p.end_bytes <= p.begin_bytes) return false;
        if (p.end_bytes != body && (p.end_bytes < layout.header_bytes ||
                                    (p.end_bytes - layout.header_bytes) % layout.record_size != 0)) {
            return false;
        }
        at = p.end_bytes;
    }
    return at == body && (s.parts.size() == 1) != s.concatenated;
}

UploadState fresh_state(const Source& src, const UploadOptions& o) {
    UploadState s;
    s.source_path = src.absolute.string();
    s.size_bytes = src.size_bytes;
    s.mtime_ns = src.mtime_ns;
    s.server = o.server.text();
    crypto::random_bytes(s.secret);
    crypto::random_bytes(s.salt);
    s.record_size = o.record_size;
    const ece::Layout layout{ece::kHeaderBaseBytes, o.record_size};
    for (const auto& range : plan_parts(layout, src.size_bytes, o.parallel_parts, o.min_part_bytes)) {
        s.parts.push_back(PartState{"", range.begin_bytes, range.end_bytes});
    }
    s.concatenated = s.parts.size() > 1;
    return s;
}

// Best effort: ask the server to drop the parts of an abandoned upload.
void abandon(const UploadState& s, const UploadOptions& o) {
    auto server = parse_server_url(s.server);
    if (!server) return;
    HttpClient http(o.http);
    for (const auto& p : s.parts) {
        if (p.url.empty()) continue;
        if (auto url = resolve_location(*server, p.url)) tus::terminate(http, *url);
    }
}

struct Shared {
    const UploadOptions& options;
    int fd;
    std::uint64_t plaintext_bytes;
    const ece::Key& content_ikm;
    const ece::Header& header;
    Progress& progress;
    std::atomic<bool> abort{false};
};

bool retryable(const ClientResult<tus::PatchOutcome>& out) {
    if (!out) return out.error().code == ErrorCode::network;
    const unsigned s = out->refused->status;
    // 409: our offset is stale; 460: bytes damaged in transit; 423: a previous PATCH of ours
    // still holds the upload; 408/429/5xx: the server is busy or restarting.
    return s == 409 || s == 460 || s == 423 || s == 408 || s == 429 || s >= 500;
}

void pause(Shared& shared, std::chrono::milliseconds delay) {
    const auto until = std::chrono::steady_clock::now() + delay;
    while (!shared.abort && std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(std::min(kAbortPollMs, delay));
    }
}

// Sends part bytes [offset, length) and returns the file id if the server named it.
ClientResult<std::string> send_part(Shared& shared, const RequestUrl& url, const PartState& part,
                                    std::uint64_t offset) {
    HttpClient http(shared.options.http);
    CiphertextReader reader(shared.fd, shared.plaintext_bytes, shared.content_ikm, shared.header);
    const std::uint64_t length = part.end_bytes - part.begin_bytes;
    Bytes buffer(static_cast<std::size_t>(std::min(shared.options.chunk_bytes, length)));
    std::string file_id;
    unsigned failures = 0;
    while (offset < length) {
        if (shared.abort) return client_error(ErrorCode::network, "cancelled");
        const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size(), length - offset));
        const std::span<std::uint8_t> chunk(buffer.data(), n);
        if (auto r = reader.read(part.begin_bytes + offset, chunk); !r) return tl::unexpected(r.error());
        auto out = tus::patch(http, url, offset, chunk);
        if (out && !out->refused) {
            shared.progress.add(out->offset_bytes - offset);
            offset = out->offset_bytes;
            if (!out->file_id.empty()) file_id = out->file_id;
            failures = 0;
            continue;
        }
        Error error = out ? status_error("uploading a chunk", *out->refused) : out.error();
        if (!retryable(out) || ++failures >= shared.options.max_attempts) return tl::unexpected(error);
        pause(shared, shared.options.retry_delay_ms * failures);
        http.close();
        auto status = tus::head(http, url);
        if (!status) {
            if (status.error().code == ErrorCode::network) continue;  // the next PATCH tells
            return tl::unexpected(status.error());
        }
        if (status->length_bytes != length || status->offset_bytes > length) {
            return client_error(ErrorCode::protocol, "the server reports a different part size");
        }
        if (status->offset_bytes >= offset) {
            shared.progress.add(status->offset_bytes - offset);
        } else {
            shared.progress.remove(offset - status->offset_bytes);
        }
        offset = status->offset_bytes;
        if (!status->file_id.empty()) file_id = status->file_id;
    }
    return file_id;
}

// tus::create for the creation that makes the file: the same request with the link-control
// keys added to Upload-Metadata (tus::Creation knows only `meta` and `owner_secret`).
ClientResult<tus::Created> create_file_upload(HttpClient& http, const ServerUrl& server,
                                              const tus::Creation& c, const UploadControls& controls) {
    if (controls.empty()) return tus::create(http, server, c);
    HttpRequest request;
    request.method = boost::beast::http::verb::post;
    request.target = server.target("/files");
    request.headers.emplace_back("Tus-Resumable", tus::kVersion);
    if (c.length_bytes) request.headers.emplace_back("Upload-Length", std::to_string(*c.length_bytes));
    if (!c.final_of.empty()) {
        std::string value = "final;";
        for (std::size_t i = 0; i < c.final_of.size(); ++i) {
            if (i > 0) value += ' ';
            value += c.final_of[i];
        }
        request.headers.emplace_back("Upload-Concat", std::move(value));
    }
    std::string metadata;
    if (!c.meta_text.empty()) metadata = tus::metadata_header(c.meta_text);
    if (!c.owner_secret_text.empty()) {
        if (!metadata.empty()) metadata += ',';
        metadata += "owner_secret " + base64_encode(as_bytes(c.owner_secret_text));
    }
    const std::string pairs = controls_metadata(controls);
    if (!metadata.empty()) metadata += ',';
    metadata += pairs;
    request.headers.emplace_back("Upload-Metadata", std::move(metadata));
    if (!c.bearer_token.empty()) request.headers.emplace_back("Authorization", "Bearer " + c.bearer_token);
    auto response = http.send(server.endpoint, request);
    if (!c.bearer_token.empty()) {
        auto& token = request.headers.back().second;
        crypto::secure_wipe(token.data(), token.size());
    }
    if (!response) return tl::unexpected(response.error());
    if (response->status != 201) return tl::unexpected(status_error("creating the upload", *response));
    auto url = resolve_location(server, response->header("Location"));
    if (!url) return tl::unexpected(url.error());
    std::string file_id = response->header(tus::kFileIdHeader);
    if (!file_id.empty() && !is_file_id(file_id)) {
        return client_error(ErrorCode::protocol, "the server sent a malformed Satload-File-Id");
    }
    return tus::Created{std::move(*url), std::move(file_id)};
}

// Signals that the state refers to uploads the server no longer has.
constexpr std::string_view kStaleMessage = "the earlier partial upload is gone from the server";

ClientResult<UploadResult> run_upload(UploadState& state, bool resumed, const Source& src,
                                      int fd, const fs::path& state_path,
                                      const UploadOptions& options) {
    const crypto::FileKeys keys = crypto::derive_file_keys(state.secret);
    ece::Header header;
    header.salt = state.salt;
    header.record_size = state.record_size;
    const ece::Layout layout{header.size(), header.record_size};
    const std::uint64_t body_bytes = layout.ciphertext_size(src.size_bytes);
    if (!parts_fit(state, layout)) {
        return client_error(ErrorCode::state, "the upload state does not fit the file");
    }
    const std::string meta_text = encrypt_metadata(
        FileMetadata{src.name, src.size_bytes, guess_media_type(src.name)}, keys.metadata_ikm);
    if (meta_text.size() > kMaxMetadataTextChars) {
        return client_error(ErrorCode::bad_argument, "the file name is too long");
    }

    // Create the parts that do not exist yet, and ask the server about those that do.
    HttpClient http(options.http);
    std::vector<RequestUrl> urls;
    std::vector<std::uint64_t> offsets;
    std::string file_id;
    for (auto& part : state.parts) {
        const std::uint64_t length = part.end_bytes - part.begin_bytes;
        if (part.url.empty()) {
            tus::Creation creation;
            creation.length_bytes = length;
            creation.partial = state.concatenated;
            creation.bearer_token = options.session_token;
            if (!state.concatenated) {
                creation.meta_text = meta_text;
                if (options.wrap_owner_secret) creation.owner_secret_text = options.wrap_owner_secret(state.secret);
            }
            auto created = state.concatenated ? tus::create(http, options.server, creation)
                                              : create_file_upload(http, options.server, creation, options.controls);
            if (!created) return tl::unexpected(created.error());
            part.url = created->url.text();
            if (auto r = save_upload_state(state_path, state); !r) return tl::unexpected(r.error());
            urls.push_back(std::move(created->url));
            offsets.push_back(0);
            continue;
        }
        auto url = resolve_location(options.server, part.url);
        if (!url) return client_error(ErrorCode::state, "the upload state holds a bad URL");
        auto status = tus::head(http, *url);
        if (!status) {
            if (status.error().code == ErrorCode::not_found) {
                return client_error(ErrorCode::not_found, std::string(kStaleMessage));
            }
            return tl::unexpected(status.error());
        }
        if (status->length_bytes != length) {
            return client_error(ErrorCode::state, "the server's part size differs from the state");
        }
        if (!state.concatenated && !status->file_id.empty()) file_id = status->file_id;
        urls.push_back(std::move(*url));
        offsets.push_back(status->offset_bytes);
    }
    std::uint64_t already = 0;
    for (const auto o : offsets) already += o;
    if (resumed && options.notice) {
        options.notice("resuming an earlier upload: " + format_bytes(already) + " of " +
                       format_bytes(body_bytes) + " already on the server");
    }

    // Fill the parts in parallel.
    Progress progress("put", body_bytes, already, options.show_progress);
    Shared shared{options, fd, src.size_bytes, keys.content_ikm, header, progress};
    std::vector<std::optional<ClientResult<std::string>>> results(state.parts.size());
    {
        std::vector<std::jthread> workers;
        for (std::size_t i = 0; i < state.parts.size(); ++i) {
            if (offsets[i] >= state.parts[i].end_bytes - state.parts[i].begin_bytes) continue;
            workers.emplace_back([&, i] {
                results[i] = send_part(shared, urls[i], state.parts[i], offsets[i]);
                if (!*results[i]) shared.abort = true;
            });
        }
    }
    progress.finish();
    std::optional<Error> first_error;
    for (const auto& r : results) {
        if (!r) continue;
        if (!*r) {
            // A worker cancelled because another failed is not the interesting error.
            if (!first_error || first_error->message == "cancelled") first_error = r->error();
        } else if (!state.concatenated && !(*r)->empty()) {
            file_id = **r;
        }
    }
    if (first_error) {
        if (first_error->code == ErrorCode::not_found && resumed) {
            return client_error(ErrorCode::not_found, std::string(kStaleMessage));
        }
        return tl::unexpected(*first_error);
    }

    // The bytes are only right if the file did not change while we read it.
    struct stat st {};
    if (::fstat(fd, &st) != 0 || static_cast<std::uint64_t>(st.st_size) != src.size_bytes ||
        mtime_ns_of(st) != src.mtime_ns) {
        remove_upload_state(state_path);
        abandon(state, options);
        return client_error(ErrorCode::file_changed,
                            "the file changed while it was being uploaded; run put again");
    }

    if (state.concatenated) {
        tus::Creation final_upload;
        for (const auto& url : urls) final_upload.final_of.push_back(url.text());
        final_upload.meta_text = meta_text;
        final_upload.bearer_token = options.session_token;
        if (options.wrap_owner_secret) final_upload.owner_secret_text = options.wrap_owner_secret(state.secret);
        auto created = create_file_upload(http, options.server, final_upload, options.controls);
        if (!created) return tl::unexpected(created.error());
        file_id = created->file_id;
        if (file_id.empty()) {
            auto status = tus::head(http, created->url);
            if (!status) return tl::unexpected(status.error());
            file_id = status->file_id;
        }
    } else if (file_id.empty()) {
        auto status = tus::head(http, urls.front());
        if (!status) return tl::unexpected(status.error());
        file_id = status->file_id;
    }
    if (file_id.empty()) {
        return client_error(ErrorCode::protocol, "the server did not name the uploaded file");
    }
    remove_upload_state(state_path);

    UploadResult result;
    result.link.server = options.server;
    result.link.file_id = file_id;
    result.link.secret = state.secret;
    result.resumed = resumed;
    result.body_bytes = body_bytes;
    result.already_sent_bytes = already;
    result.parts = static_cast<unsigned>(state.parts.size());
    return result;
}

}  // namespace

ClientResult<UploadResult> upload_file(const fs::path& source, const UploadOptions& options) {
    if (auto r = check_options(options); !r) return tl::unexpected(r.error());
    FileHandle fd(::open(source.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return client_error(ErrorCode::file_io, io_message("cannot open", source, errno));
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
        return client_error(ErrorCode::file_io, io_message("cannot stat", source, errno));
    }
    if (!S_ISREG(st.st_mode)) {
        return client_error(ErrorCode::bad_argument, source.string() + " is not a regular file");
    }
    Source src;
    std::error_code ec;
    src.absolute = fs::canonical(source, ec);
    if (ec) return client_error(ErrorCode::file_io, "cannot resolve " + source.string() + ": " + ec.message());
    src.name = source.filename().string();
    if (src.name.empty()) src.name = src.absolute.filename().string();
    src.size_bytes = static_cast<std::uint64_t>(st.st_size);
    src.mtime_ns = mtime_ns_of(st);

    const fs::path state_path = upload_state_path(options.state_dir, src.absolute.string());
    if (auto r = make_private_dir(state_path.parent_path()); !r) return tl::unexpected(r.error());
    fs::path lock_path = state_path;
    lock_path += ".lock";
    auto lock = lock_file(lock_path);
    if (!lock) return tl::unexpected(lock.error());

    auto loaded = load_upload_state(state_path);
    std::optional<UploadState> previous;
    if (loaded) {
        previous = std::move(*loaded);
    } else if (options.notice) {
        options.notice(loaded.error().message + "; starting a new upload");
    }
    // Two rounds at most: a resume that finds its parts gone starts over once.
    for (int round = 0;; ++round) {
        UploadState state;
        const bool resumed = previous && state_matches(*previous, src, options);
        if (resumed) {
            state = *previous;
        } else {
            if (previous) abandon(*previous, options);
            state = fresh_state(src, options);
            if (auto r = save_upload_state(state_path, state); !r) return tl::unexpected(r.error());
        }
        previous.reset();
        auto result = run_upload(state, resumed, src, fd.get(), state_path, options);
        if (!result && resumed && round == 0 &&
            (result.error().code == ErrorCode::not_found || result.error().code == ErrorCode::state)) {
            if (options.notice) options.notice(result.error().message + "; starting over");
            remove_upload_state(state_path);
            continue;
        }
        if (result) ::unlink(lock_path.c_str());
        return result;
    }
}

}  // namespace satload::client
