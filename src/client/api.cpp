// Session API requests: the bearer header is wiped after each send.
#include "client/api.h"

#include <boost/json.hpp>

#include <limits>

#include "crypto/primitives.h"

namespace satload::client {

namespace json = boost::json;
namespace http = boost::beast::http;

ClientResult<HttpResponse> session_request(
    HttpClient& client, const Session& session, http::verb method, std::string_view path,
    std::string_view body, const std::vector<std::pair<std::string, std::string>>& extra) {
    HttpRequest req;
    req.method = method;
    req.target = session.server.target(path);
    req.headers.emplace_back("Accept", "application/json");
    req.headers.insert(req.headers.end(), extra.begin(), extra.end());
    if (!body.empty()) {
        req.headers.emplace_back("Content-Type", "application/json");
        req.body = as_bytes(body);
    }
    req.headers.emplace_back("Authorization", "Bearer " + session.token);
    auto res = client.send(session.server.endpoint, req);
    auto& auth = req.headers.back().second;
    crypto::secure_wipe(auth.data(), auth.size());
    return res;
}

ClientResult<json::object> parse_json_object(std::string_view text, std::string_view what) {
    boost::system::error_code ec;
    json::value v = json::parse(text, ec);
    if (ec || !v.is_object()) {
        return client_error(ErrorCode::protocol, "the server's answer to " + std::string(what) +
                                                     " is not a JSON object");
    }
    return std::move(v.as_object());
}

ClientResult<json::object> session_get_object(const Session& session, std::string_view path,
                                              std::string_view what, const HttpOptions& options) {
    HttpClient client(options);
    auto res = session_request(client, session, http::verb::get, path, {});
    if (!res) return tl::unexpected(res.error());
    if (res->status == 401) {
        return client_error(
            ErrorCode::http_status,
            std::string(what) + " failed: the session was refused (" + problem_detail(*res) +
                "): log in again with satload account login " +
                (session.username.empty() ? std::string("USER") : session.username));
    }
    if (!res->ok()) return tl::unexpected(status_error(what, *res));
    return parse_json_object(res->body, what);
}

std::optional<std::int64_t> json_int(const json::object& o, std::string_view key) {
    const json::value* v = o.if_contains(key);
    if (v == nullptr) return std::nullopt;
    if (v->is_int64()) return v->as_int64();
    if (v->is_uint64() &&
        v->as_uint64() <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        return static_cast<std::int64_t>(v->as_uint64());
    }
    return std::nullopt;
}

std::optional<std::string> json_text(const json::object& o, std::string_view key) {
    const json::value* v = o.if_contains(key);
    if (v == nullptr || !v->is_string()) return std::nullopt;
    return std::string(v->as_string());
}

std::optional<bool> json_flag(const json::object& o, std::string_view key) {
    const json::value* v = o.if_contains(key);
    if (v == nullptr || !v->is_bool()) return std::nullopt;
    return v->as_bool();
}

std::string problem_detail(const HttpResponse& response) {
    if (response.header("Content-Type").rfind("application/problem+json", 0) == 0) {
        boost::system::error_code ec;
        const json::value v = json::parse(response.body, ec);
        if (!ec && v.is_object()) {
            const json::value* detail = v.as_object().if_contains("detail");
            if (detail != nullptr && detail->is_string() && !detail->as_string().empty()) {
                return printable(std::string_view(detail->as_string()), kMaxProblemTextChars);
            }
        }
    }
    return describe_response(response);
}

std::string problem_slug(const HttpResponse& response) {
    // Whatever the Content-Type says: the type names one of this server's problems or nothing.
    boost::system::error_code ec;
    const json::value v = json::parse(response.body, ec);
    if (ec || !v.is_object()) return {};
    const json::value* type = v.as_object().if_contains("type");
    if (type == nullptr || !type->is_string()) return {};
    constexpr std::string_view kPrefix = "https://satload.dev/problems/";
    const std::string_view text = type->as_string();
    if (text.substr(0, kPrefix.size()) != kPrefix) return {};
    return std::string(text.substr(kPrefix.size()));
}

void wipe_json_strings(json::object& o) {
    for (auto& [key, value] : o) {
        if (value.is_string())
            crypto::secure_wipe(value.as_string().data(), value.as_string().size());
    }
}

}  // namespace satload::client
