// Link controls on the wire: tus metadata pairs at upload, JSON to and from the owner's API.
#include "client/link_controls.h"

#include <boost/json.hpp>

#include "core/encoding.h"
#include "core/ids.h"
#include "client/tus.h"
#include "crypto/primitives.h"

namespace satload::client {
namespace {

namespace json = boost::json;
namespace http = boost::beast::http;

void add_pair(std::string& out, std::string_view key, const std::string& decimal) {
    if (!out.empty()) out += ',';
    out += key;
    out += ' ';
    out += base64_encode(as_bytes(decimal));
}

std::optional<std::int64_t> int_of(const json::value* v) {
    if (v == nullptr) return std::nullopt;
    if (v->is_int64()) return v->as_int64();
    if (v->is_uint64() && v->as_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
        return static_cast<std::int64_t>(v->as_uint64());
    }
    return std::nullopt;
}

}  // namespace

std::optional<std::uint64_t> parse_download_limit(std::string_view text) {
    const auto value = tus::parse_decimal(text);
    if (!value || *value < 1 || *value > kDownloadLimitMax) return std::nullopt;
    return value;
}

std::string controls_metadata(const UploadControls& controls) {
    std::string out;
    if (controls.expires_in_s) add_pair(out, "expires_in", std::to_string(*controls.expires_in_s));
    if (controls.max_downloads) add_pair(out, "max_downloads", std::to_string(*controls.max_downloads));
    if (controls.price_msat != 0) add_pair(out, "price_msat", std::to_string(controls.price_msat));
    return out;
}

std::string change_json(const FileChange& change) {
    json::object body;
    if (change.price_msat) body["price_msat"] = *change.price_msat;
    if (change.expires_in_s) {
        if (*change.expires_in_s) body["expires_in_s"] = **change.expires_in_s; else body["expires"] = nullptr;
    }
    if (change.max_downloads) {
        if (*change.max_downloads) body["max_downloads"] = **change.max_downloads; else body["max_downloads"] = nullptr;
    }
    if (change.revoked) body["revoked"] = *change.revoked;
    if (change.meta) body["meta"] = *change.meta;
    return json::serialize(body);
}

ClientResult<FileState> parse_file_state(std::string_view body) {
    const auto malformed = [] { return client_error(ErrorCode::protocol, "the server's file state is malformed"); };
    boost::system::error_code ec;
    json::value v = json::parse(body, ec);
    if (ec || !v.is_object()) return malformed();
    const json::object& o = v.as_object();
    FileState state;
    const json::value* id = o.if_contains("id");
    if (id == nullptr || !id->is_string() || !is_file_id(std::string_view(id->as_string()))) return malformed();
    state.file_id = std::string(id->as_string());
    const auto size = int_of(o.if_contains("size_bytes"));
    const auto created = int_of(o.if_contains("created"));
    const auto price = int_of(o.if_contains("price_msat"));
    const auto downloads = int_of(o.if_contains("downloads"));
    const json::value* revoked = o.if_contains("revoked");
    const json::value* expires = o.if_contains("expires");
    const json::value* max_downloads = o.if_contains("max_downloads");
    if (!size || *size < 0 || !created || !price || *price < 0 || !downloads || *downloads < 0 ||
        revoked == nullptr || !revoked->is_bool() || expires == nullptr || max_downloads == nullptr) {
        return malformed();
    }
    state.size_bytes = static_cast<std::uint64_t>(*size);
    state.created_s = *created;
    state.price_msat = *price;
    state.downloads = static_cast<std::uint64_t>(*downloads);
    state.revoked = revoked->as_bool();
    if (!expires->is_null()) {
        state.expires_s = int_of(expires);
        if (!state.expires_s) return malformed();
    }
    if (!max_downloads->is_null()) {
        const auto limit = int_of(max_downloads);
        if (!limit || *limit < 0) return malformed();
        state.max_downloads = static_cast<std::uint64_t>(*limit);
    }
    return state;
}

ClientResult<FileState> update_file(const Session& session, std::string_view file_id, const FileChange& change,
                                    const HttpOptions& options) {
    // A file id is a plain path segment; anything else never reaches the server.
    if (!is_file_id(file_id)) return client_error(ErrorCode::bad_argument, "not a file id");
    const std::string body = change_json(change);
    HttpRequest request;
    request.method = http::verb::patch;
    request.target = session.server.target("/api/v1/files/" + std::string(file_id));
    request.headers.emplace_back("Content-Type", "application/json");
    request.headers.emplace_back("Authorization", "Bearer " + session.token);
    request.body = as_bytes(body);
    HttpClient client(options);
    auto response = client.send(session.server.endpoint, request);
    crypto::secure_wipe(request.headers.back().second.data(), request.headers.back().second.size());
    if (!response) return tl::unexpected(response.error());
    if (response->status != 200) return tl::unexpected(status_error("changing the file", *response));
    return parse_file_state(response->body);
}

}  // namespace satload::client
