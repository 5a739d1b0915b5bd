// tus requests over HttpClient, with the answers checked against docs/HTTP.md.
#include "client/tus.h"

#include <charconv>

#include "core/ids.h"
#include "crypto/primitives.h"

namespace satload::client::tus {

namespace http = boost::beast::http;

namespace {

constexpr std::size_t kMaxDecimalDigits = 20;

void add_common(HttpRequest& request) { request.headers.emplace_back("Tus-Resumable", kVersion); }

ClientResult<std::string> file_id_of(const HttpResponse& response) {
    std::string id = response.header(kFileIdHeader);
    if (!id.empty() && !is_file_id(id)) {
        return client_error(ErrorCode::protocol, "the server sent a malformed Satload-File-Id");
    }
    return id;
}

}  // namespace

std::optional<std::uint64_t> parse_decimal(std::string_view text) {
    if (text.empty() || text.size() > kMaxDecimalDigits) return std::nullopt;
    std::uint64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size() || text.front() == '+') {
        return std::nullopt;
    }
    return value;
}

std::string metadata_header(std::string_view meta_text) {
    return "meta " + base64_encode(as_bytes(meta_text));
}

ClientResult<Created> create(HttpClient& client, const ServerUrl& server, const Creation& c) {
    HttpRequest request;
    request.method = http::verb::post;
    request.target = server.target("/files");
    add_common(request);
    if (c.length_bytes) request.headers.emplace_back("Upload-Length", std::to_string(*c.length_bytes));
    if (c.partial) request.headers.emplace_back("Upload-Concat", "partial");
    if (!c.final_of.empty()) {
        std::string value = "final;";
        for (std::size_t i = 0; i < c.final_of.size(); ++i) {
            if (i > 0) value += ' ';
            value += c.final_of[i];
        }
        request.headers.emplace_back("Upload-Concat", std::move(value));
    }
    std::string metadata;
    if (!c.meta_text.empty()) metadata = metadata_header(c.meta_text);
    if (!c.owner_secret_text.empty()) {
        // The owner's copy of the file secret, wrapped by the master key: opaque to the server.
        if (!metadata.empty()) metadata += ',';
        metadata += "owner_secret " + base64_encode(as_bytes(c.owner_secret_text));
    }
    if (!metadata.empty()) request.headers.emplace_back("Upload-Metadata", std::move(metadata));
    if (!c.bearer_token.empty()) request.headers.emplace_back("Authorization", "Bearer " + c.bearer_token);
    auto response = client.send(server.endpoint, request);
    if (!response) return tl::unexpected(response.error());
    if (response->status != 201) return tl::unexpected(status_error("creating the upload", *response));
    auto url = resolve_location(server, response->header("Location"));
    if (!url) return tl::unexpected(url.error());
    auto id = file_id_of(*response);
    if (!id) return tl::unexpected(id.error());
    return Created{std::move(*url), std::move(*id)};
}

ClientResult<Status> head(HttpClient& client, const RequestUrl& upload) {
    HttpRequest request;
    request.method = http::verb::head;
    request.target = upload.target;
    add_common(request);
    auto response = client.send(upload.endpoint, request);
    if (!response) return tl::unexpected(response.error());
    if (response->status != 200) return tl::unexpected(status_error("checking the upload", *response));
    const auto offset = parse_decimal(response->header("Upload-Offset"));
    const auto length = parse_decimal(response->header("Upload-Length"));
    if (!offset || !length || *offset > *length) {
        return client_error(ErrorCode::protocol, "the server's upload status is malformed");
    }
    auto id = file_id_of(*response);
    if (!id) return tl::unexpected(id.error());
    return Status{*offset, *length, std::move(*id)};
}

ClientResult<PatchOutcome> patch(HttpClient& client, const RequestUrl& upload,
                                 std::uint64_t offset_bytes, ByteSpan chunk) {
    HttpRequest request;
    request.method = http::verb::patch;
    request.target = upload.target;
    add_common(request);
    request.headers.emplace_back("Upload-Offset", std::to_string(offset_bytes));
    request.headers.emplace_back("Content-Type", "application/offset+octet-stream");
    request.headers.emplace_back("Upload-Checksum", "sha256 " + base64_encode(crypto::sha256(chunk)));
    request.body = chunk;
    auto response = client.send(upload.endpoint, request);
    if (!response) return tl::unexpected(response.error());
    PatchOutcome outcome;
    if (response->status != 204 && response->status != 200) {
        outcome.refused = std::move(*response);
        return outcome;
    }
    const auto offset = parse_decimal(response->header("Upload-Offset"));
    if (!offset || *offset <= offset_bytes || *offset > offset_bytes + chunk.size()) {
        return client_error(ErrorCode::protocol, "the server answered a PATCH with a bad Upload-Offset");
    }
    outcome.offset_bytes = *offset;
    auto id = file_id_of(*response);
    if (!id) return tl::unexpected(id.error());
    outcome.file_id = std::move(*id);
    return outcome;
}

void terminate(HttpClient& client, const RequestUrl& upload) {
    HttpRequest request;
    request.method = http::verb::delete_;
    request.target = upload.target;
    add_common(request);
    (void)client.send(upload.endpoint, request);
}

}  // namespace satload::client::tus
