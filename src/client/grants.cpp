// Grant files: strict JSON in and out, private atomic writes, wiped secrets.
#include "client/grants.h"

#include <boost/json.hpp>

#include <algorithm>

#include "client/api.h"
#include "client/files.h"
#include "core/ids.h"
#include "crypto/primitives.h"

namespace satload::client {

namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

bool is_base64_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/' || c == '-' || c == '_';
}

}  // namespace

StoredGrant::~StoredGrant() {
    crypto::secure_wipe(preimage);
    crypto::secure_wipe(macaroon);
}

std::string l402_authorization(const StoredGrant& grant) {
    std::string out = "L402 ";
    out.reserve(out.size() + grant.macaroon.size() + 1 + grant.preimage.size());
    out += grant.macaroon;
    out += ':';
    out += grant.preimage;
    return out;
}

bool is_grant_macaroon(std::string_view text) {
    if (text.empty() || text.size() > kMaxGrantMacaroonChars) return false;
    const std::size_t body_end = text.find_last_not_of('=');
    if (body_end == std::string_view::npos || text.size() - body_end - 1 > 2) return false;
    return std::all_of(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(body_end + 1),
                       is_base64_char);
}

bool is_preimage_hex(std::string_view text) {
    return text.size() == kPreimageHexChars && std::all_of(text.begin(), text.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
           });
}

std::string grant_to_json(const StoredGrant& grant) {
    json::object o;
    o["macaroon"] = grant.macaroon;
    o["preimage"] = grant.preimage;
    o["expires"] = grant.expires_s;
    if (!grant.server.empty()) o["server"] = grant.server;
    std::string text = json::serialize(o);
    wipe_json_strings(o);
    return text;
}

ClientResult<StoredGrant> grant_from_json(std::string_view text) {
    boost::system::error_code ec;
    json::value v = json::parse(text, ec);
    StoredGrant grant;
    bool ok = !ec && v.is_object();
    if (ok) {
        const json::object& o = v.as_object();
        const json::value* macaroon = o.if_contains("macaroon");
        const json::value* preimage = o.if_contains("preimage");
        const json::value* expires = o.if_contains("expires");
        const json::value* server = o.if_contains("server");
        ok = macaroon != nullptr && macaroon->is_string() && preimage != nullptr &&
             preimage->is_string() && expires != nullptr && expires->is_int64() &&
             (server == nullptr || server->is_string());
        if (ok) {
            grant.macaroon = std::string(macaroon->as_string());
            grant.preimage = std::string(preimage->as_string());
            grant.expires_s = expires->as_int64();
            if (server != nullptr) grant.server = std::string(server->as_string());
            ok = is_grant_macaroon(grant.macaroon) && is_preimage_hex(grant.preimage) &&
                 grant.expires_s > 0;
        }
        wipe_json_strings(v.as_object());
    }
    if (!ok) return client_error(ErrorCode::state, "a stored payment grant is malformed");
    return grant;
}

ClientResult<fs::path> grant_path(const fs::path& home, std::string_view file_id) {
    if (!is_file_id(file_id)) return client_error(ErrorCode::bad_argument, "not a file id");
    return home / kGrantsDirName / (std::string(file_id) + ".json");
}

ClientResult<void> save_grant(const fs::path& home, std::string_view file_id,
                              const StoredGrant& grant) {
    auto path = grant_path(home, file_id);
    if (!path) return tl::unexpected(path.error());
    if (!is_grant_macaroon(grant.macaroon) || !is_preimage_hex(grant.preimage) ||
        grant.expires_s <= 0) {
        return client_error(ErrorCode::protocol, "the server's payment grant is malformed");
    }
    if (auto r = make_private_dir(path->parent_path()); !r) return r;
    std::string text = grant_to_json(grant);
    auto written = write_file_atomic(*path, text);
    crypto::secure_wipe(text);
    return written;
}

ClientResult<std::optional<StoredGrant>> load_grant(const fs::path& home,
                                                    std::string_view file_id) {
    auto path = grant_path(home, file_id);
    if (!path) return tl::unexpected(path.error());
    auto text = read_small_file(*path, kMaxGrantFileBytes);
    if (!text) {
        if (text.error().code == ErrorCode::not_found) return std::optional<StoredGrant>{};
        return tl::unexpected(text.error());
    }
    auto grant = grant_from_json(*text);
    crypto::secure_wipe(*text);
    if (!grant) return tl::unexpected(grant.error());
    return std::optional<StoredGrant>(std::move(*grant));
}

ClientResult<void> remove_grant(const fs::path& home, std::string_view file_id) {
    auto path = grant_path(home, file_id);
    if (!path) return tl::unexpected(path.error());
    std::error_code ec;
    fs::remove(*path, ec);
    if (ec)
        return client_error(ErrorCode::file_io,
                            "cannot remove " + path->string() + ": " + ec.message());
    return {};
}

}  // namespace satload::client
