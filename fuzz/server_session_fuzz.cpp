// Fuzzes the credential headers of the server (server/session_cookie.h): the Cookie header
// parsing, the Bearer Authorization value and the CSRF header rule. No crash; a found value is
// a slice of the header with no blank at either end; an accepted cookie value is a token
// (bounded, no separator) that survives a round trip through a Set-Cookie value and a Cookie
// header of several pairs; the request-level lookup agrees with the pure steps.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "server/session_cookie.h"

namespace server = satload::server;
namespace http = boost::beast::http;

namespace {

bool inside(std::string_view part, std::string_view whole) {
    return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

bool blank(char c) { return c == ' ' || c == '\t'; }

void check_cookie_header(std::string_view header) {
    const auto found = server::find_session_cookie(header);
    if (!found) {
        // A header naming no session cookie, followed by one that does, yields the latter: the
        // pairs already in the header are unchanged by what follows a ';'.
        const std::string more = std::string(header) + ";satload_session=tok";
        const auto later = server::find_session_cookie(more);
        if (!later || *later != "tok") std::abort();
        return;
    }
    if (!inside(*found, header)) std::abort();
    if (!found->empty() && (blank(found->front()) || blank(found->back()))) std::abort();
    // The value ends at the pair's ';'.
    if (found->find(';') != std::string_view::npos) std::abort();
}

void check_token(std::string_view value) {
    if (!server::is_session_cookie_value(value)) return;
    if (value.empty() || value.size() > server::kMaxSessionCookieChars) std::abort();
    for (const char c : value) {
        if (c <= 0x20 || c >= 0x7f || c == ';' || c == ',' || c == '"' || c == '\\') std::abort();
    }
    // What we issue comes back: the Set-Cookie value's first pair is what the browser returns,
    // among other cookies.
    const std::string set_cookie = server::session_cookie_header(value, 1'800'000'000, true);
    const std::string pair = set_cookie.substr(0, set_cookie.find(';'));
    const std::string header = "theme=dark; " + pair + "; lang=en";
    const auto back = server::find_session_cookie(header);
    if (!back || *back != value) std::abort();

    server::Request req;
    req.set(http::field::cookie, header);
    const auto from_request = server::session_cookie(req);
    if (!from_request || *from_request != value) std::abort();
    if (!server::has_session_credential(req)) std::abort();
}

void check_request(std::string_view header) {
    // The request-level lookup is the pure one plus the token check.
    server::Request req;
    req.method(http::verb::post);
    req.set(http::field::cookie, header);
    const auto pure = server::find_session_cookie(header);
    const auto from_request = server::session_cookie(req);
    const bool want = pure && server::is_session_cookie_value(*pure);
    if (from_request.has_value() != want) std::abort();
    if (want && *from_request != *pure) std::abort();
    if (server::passes_csrf_rule(req)) std::abort();  // a POST without the header
    req.set(server::kCsrfHeaderName, header);
    const bool csrf = server::passes_csrf_rule(req);
    if (csrf != server::passes_csrf_rule(http::verb::post, header)) std::abort();
    if (csrf != (header.find_first_not_of(" \t") != std::string_view::npos)) std::abort();
    req.method(http::verb::get);
    if (!server::passes_csrf_rule(req)) std::abort();
}

void check_bearer(std::string_view value) {
    const auto token = server::bearer_token(value);
    if (!token) return;
    if (token->empty() || !inside(*token, value)) std::abort();
    if ("Bearer " + std::string(*token) != value) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    check_cookie_header(text);
    check_token(text);
    check_bearer(text);
    // A header value never holds CR, LF or NUL (the HTTP parser refuses them before us).
    if (text.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos) {
        check_request(text);
    }
    if (const auto found = server::find_session_cookie(text)) check_token(*found);
    return 0;
}
