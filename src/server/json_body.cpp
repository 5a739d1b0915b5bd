// Small JSON request bodies (see json_body.h).
#include "server/json_body.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "crypto/primitives.h"

namespace satload::server {

namespace {

JsonBody too_large(std::size_t max_bytes) {
    JsonBody out;
    out.problem = Problem::payload_too_large;
    out.detail = "the request body is larger than " + std::to_string(max_bytes) + " bytes";
    return out;
}

// Boost.JSON reads a number beyond double's range (1e400) as infinity, which has no JSON
// spelling (it would serialize as `Infinity`): such a body is refused like any other that is
// not JSON we can represent. Depth is bounded by the parser's max_depth.
bool numbers_finite(const boost::json::value& v) {
    switch (v.kind()) {
        case boost::json::kind::double_: return std::isfinite(v.get_double());
        case boost::json::kind::array:
            return std::all_of(v.get_array().begin(), v.get_array().end(), numbers_finite);
        case boost::json::kind::object:
            return std::all_of(v.get_object().begin(), v.get_object().end(),
                               [](const auto& member) { return numbers_finite(member.value()); });
        default: return true;
    }
}

}  // namespace

JsonBody parse_json_object(std::string_view body, std::size_t max_bytes) {
    if (body.size() > max_bytes) return too_large(max_bytes);
    JsonBody out;
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(body, ec);
    if (ec || !v.is_object() || !numbers_finite(v)) {
        out.problem = Problem::bad_request;
        out.detail = "the body must be a JSON object";
        return out;
    }
    out.object = std::move(v.as_object());
    return out;
}

awaitable<JsonBody> read_json_object(Exchange& ex, std::size_t max_bytes) {
    JsonBody out;
    if (ex.content_length() && *ex.content_length() > max_bytes) co_return too_large(max_bytes);
    std::string body;
    std::array<std::uint8_t, 1024> buffer{};
    for (;;) {
        const auto n = co_await ex.read_body(buffer);
        if (!n) {
            out.connection_failed = true;
            co_return out;
        }
        if (*n == 0) break;
        body.append(reinterpret_cast<const char*>(buffer.data()), *n);
        if (body.size() > max_bytes) {
            crypto::secure_wipe(body.data(), body.size());
            co_return too_large(max_bytes);
        }
    }
    out = parse_json_object(body, max_bytes);
    crypto::secure_wipe(body.data(), body.size());
    co_return out;
}

std::optional<std::string> json_string(const boost::json::object& o, std::string_view name) {
    const boost::json::value* v = o.if_contains(name);
    if (v == nullptr || !v->is_string()) return std::nullopt;
    return std::string(v->as_string());
}

std::optional<std::int64_t> json_int64(const boost::json::object& o, std::string_view name) {
    const boost::json::value* v = o.if_contains(name);
    if (v == nullptr) return std::nullopt;
    if (v->is_int64()) return v->as_int64();
    if (v->is_uint64() && v->as_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
        return static_cast<std::int64_t>(v->as_uint64());
    }
    return std::nullopt;
}

}  // namespace satload::server
