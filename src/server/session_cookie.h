// The web app's session cookie (docs/DESIGN.md "sessions"): the same session token the CLI
// sends as `Authorization: Bearer`, kept by the browser in an HttpOnly, SameSite=Strict cookie
// that page scripts cannot read. Parsing, the Set-Cookie values, and the CSRF rule.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "server/exchange.h"

namespace satload::server {

inline constexpr std::string_view kSessionCookieName = "satload_session";
// State-changing requests authenticated by the cookie must carry this header (any value but
// empty). A cross-site form cannot set a header, and a cross-origin script cannot send one
// without a CORS preflight, which this server never grants: together with SameSite=Strict, a
// request another site triggers never acts with the cookie.
inline constexpr std::string_view kCsrfHeaderName = "X-Satload-Csrf";
// A cookie value longer than this is not one of our tokens (ours are 47 characters).
inline constexpr std::size_t kMaxSessionCookieChars = 256;

// The session cookie's value, or nullopt when the request has none (or an empty or oversized
// one). With several (a stale copy under another path), the first.
[[nodiscard]] std::optional<std::string_view> session_cookie(const Request& req);

// The pure steps of session_cookie, for tests and fuzzing. The value (blanks trimmed) of the
// first `satload_session=` pair in one Cookie header value, checked or not; nullopt when the
// header has no such pair.
[[nodiscard]] std::optional<std::string_view> find_session_cookie(std::string_view cookie_header);
// Whether a cookie value can be one of our tokens: 1 to kMaxSessionCookieChars printable ASCII
// characters without the separators RFC 6265 forbids in a value.
[[nodiscard]] bool is_session_cookie_value(std::string_view value);

// Whether the request carries any credential a session could come from: an Authorization
// header or the session cookie.
[[nodiscard]] bool has_session_credential(const Request& req);

// The token of an `Authorization: Bearer <token>` value (the scheme as the CLI sends it, one
// space), nullopt for any other scheme or an empty token.
[[nodiscard]] std::optional<std::string_view> bearer_token(std::string_view authorization);

// GET, HEAD and OPTIONS change nothing; everything else needs the CSRF header with a cookie.
[[nodiscard]] bool passes_csrf_rule(const Request& req);
// The same rule on the method and the CSRF header's value (nullopt: no header): a value of
// blanks only counts as none.
[[nodiscard]] bool passes_csrf_rule(http::verb method, std::optional<std::string_view> csrf_header);

// The Set-Cookie value issuing `token` until `expires_s` (Unix seconds); `secure` when the
// server is reached over TLS (its own, or a proxy's named by an https public URL).
[[nodiscard]] std::string session_cookie_header(std::string_view token, std::int64_t expires_s,
                                                bool secure);
// The Set-Cookie value that removes the cookie (logout, a token the server no longer knows).
[[nodiscard]] std::string clearing_cookie_header(bool secure);

}  // namespace satload::server
