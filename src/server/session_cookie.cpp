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

// Cookie values of tokens: printable ASCII without the separators RFC 6265 forbids.
bool cookie_value_ok(std::string_view v) {
    return !v.empty() && v.size() <= kMaxSessionCookieChars &&
           std::all_of(v.begin(), v.end(), [](char c) {
               return c > 0x20 && c < 0x7f && c != '"' && c != ',' && c != ';' && c != '\\';
           });
}

std::string attributes(bool secure) {
    // Path=/ so every route (the API, /d/ for paid downloads) gets it; no Domain, so no
    // subdomain does.
    std::string a = "; Path=/; HttpOnly; SameSite=Strict";
    if (secure) a += "; Secure";
    return a;
}

}  // namespace

std::optional<std::string_view> session_cookie(const Request& req) {
    for (auto [it, end] = req.equal_range(http::field::cookie); it != end; ++it) {
        std::string_view header = it->value();
        while (!header.empty()) {
            const auto semi = header.find(';');
            const std::string_view pair = trim(header.substr(0, semi));
            const auto eq = pair.find('=');
            if (eq != std::string_view::npos && trim(pair.substr(0, eq)) == kSessionCookieName) {
                const std::string_view value = trim(pair.substr(eq + 1));
                if (cookie_value_ok(value)) return value;
                return std::nullopt;
            }
            if (semi == std::string_view::npos) break;
            header.remove_prefix(semi + 1);
        }
    }
    return std::nullopt;
}

bool has_session_credential(const Request& req) {
    return req.find(http::field::authorization) != req.end() || session_cookie(req).has_value();
}

bool passes_csrf_rule(const Request& req) {
    const http::verb m = req.method();
    if (m == http::verb::get || m == http::verb::head || m == http::verb::options) return true;
    const auto it = req.find(kCsrfHeaderName);
    return it != req.end() && !trim(it->value()).empty();
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
