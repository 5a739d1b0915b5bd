// The session cookie: parsing the Cookie header, the Set-Cookie values, and the CSRF rule.
#include "server/session_cookie.h"

#include <algorithm>

#include "server/app.h"

namespace satload::server {
namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

std::string attributes(bool secure) {
    // Path=/ so every route (the API, /d/ for paid downloads) gets it; no Domain, so no
    // subdomain does.
    std::string a = "; Path=/; HttpOnly; SameSite=Strict";
    if (secure) a += "; Secure";
    return a;
}

}  // namespace

std::optional<std::string_view> find_session_cookie(std::string_view cookie_header) {
    while (!cookie_header.empty()) {
        const auto semi = cookie_header.find(';');
        const std::string_view pair = trim(cookie_header.substr(0, semi));
        const auto eq = pair.find('=');
        if (eq != std::string_view::npos && trim(pair.substr(0, eq)) == kSessionCookieName) {
            return trim(pair.substr(eq + 1));
        }
        if (semi == std::string_view::npos) break;
        cookie_header.remove_prefix(semi + 1);
    }
    return std::nullopt;
}

// Cookie values of tokens: printable ASCII without the separators RFC 6265 forbids.
bool is_session_cookie_value(std::string_view value) {
    return !value.empty() && value.size() <= kMaxSessionCookieChars &&
           std::all_of(value.begin(), value.end(), [](char c) {
               return c > 0x20 && c < 0x7f && c != '"' && c != ',' && c != ';' && c != '\\';
           });
}

std::optional<std::string_view> session_cookie(const Request& req) {
    for (auto [it, end] = req.equal_range(http::field::cookie); it != end; ++it) {
        // The first pair with our name decides, even when its value is not a token.
        if (const auto value = find_session_cookie(it->value())) {
            if (is_session_cookie_value(*value)) return value;
            return std::nullopt;
        }
    }
    return std::nullopt;
}

std::optional<std::string_view> bearer_token(std::string_view authorization) {
    constexpr std::string_view kBearerPrefix = "Bearer ";
    if (authorization.size() <= kBearerPrefix.size() || !authorization.starts_with(kBearerPrefix)) {
        return std::nullopt;
    }
    return authorization.substr(kBearerPrefix.size());
}

bool has_session_credential(const Request& req) {
    return req.find(http::field::authorization) != req.end() || session_cookie(req).has_value();
}

bool passes_csrf_rule(const Request& req) {
    const auto it = req.find(kCsrfHeaderName);
    return passes_csrf_rule(req.method(), it != req.end() ? std::optional<std::string_view>(it->value())
                                                           : std::nullopt);
}

bool passes_csrf_rule(http::verb method, std::optional<std::string_view> csrf_header) {
    if (method == http::verb::get || method == http::verb::head || method == http::verb::options) {
        return true;
    }
    return csrf_header.has_value() && !trim(*csrf_header).empty();
}

std::string session_cookie_header(std::string_view token, std::int64_t expires_s, bool secure) {
    std::string v = std::string(kSessionCookieName) + "=" + std::string(token);
    v += "; Expires=" + http_date(expires_s);
    v += attributes(secure);
    return v;
}

std::string clearing_cookie_header(bool secure) {
    return std::string(kSessionCookieName) + "=; Max-Age=0" + attributes(secure);
}

}  // namespace satload::server
