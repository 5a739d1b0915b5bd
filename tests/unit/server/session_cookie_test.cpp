// The web app's session cookie: which Cookie headers yield a token, the CSRF rule, and the
// exact Set-Cookie attributes (HttpOnly, SameSite=Strict, Path=/, Secure only over TLS).
#include "server/session_cookie.h"

#include <gtest/gtest.h>

namespace satload::server {
namespace {

Request request(http::verb method, std::initializer_list<std::pair<std::string, std::string>> headers) {
    Request req;
    req.method(method);
    req.target("/api/v1/account");
    for (const auto& [name, value] : headers) req.insert(name, value);
    return req;
}

// The cookie is found among others, with spaces around; absent, empty, oversized or with
// forbidden characters it is not a credential.
TEST(SessionCookie, ParsesTheSessionCookieOnly) {
    EXPECT_EQ(session_cookie(request(http::verb::get, {{"Cookie", "a=1; satload_session=sls_abc ; b=2"}})),
              std::optional<std::string_view>("sls_abc"));
    EXPECT_EQ(session_cookie(request(http::verb::get, {{"Cookie", "satload_session=x"}, {"Cookie", "satload_session=y"}})),
              std::optional<std::string_view>("x"));
    EXPECT_FALSE(session_cookie(request(http::verb::get, {})));
    EXPECT_FALSE(session_cookie(request(http::verb::get, {{"Cookie", "other_session=sls_abc"}})));
    EXPECT_FALSE(session_cookie(request(http::verb::get, {{"Cookie", "satload_session="}})));
    EXPECT_FALSE(session_cookie(request(http::verb::get, {{"Cookie", "satload_session=\"quoted\""}})));
    EXPECT_FALSE(session_cookie(
        request(http::verb::get, {{"Cookie", "satload_session=" + std::string(kMaxSessionCookieChars + 1, 'a')}})));
    EXPECT_TRUE(has_session_credential(request(http::verb::post, {{"Cookie", "satload_session=t"}})));
    EXPECT_TRUE(has_session_credential(request(http::verb::post, {{"Authorization", "Bearer t"}})));
    EXPECT_FALSE(has_session_credential(request(http::verb::post, {{"Cookie", "theme=dark"}})));
}

// Reading needs no proof; anything that changes state needs the CSRF header, not empty.
TEST(SessionCookie, CsrfRuleCoversEveryStateChangingMethod) {
    for (const auto m : {http::verb::get, http::verb::head, http::verb::options}) {
        EXPECT_TRUE(passes_csrf_rule(request(m, {})));
    }
    for (const auto m : {http::verb::post, http::verb::patch, http::verb::delete_, http::verb::put}) {
        EXPECT_FALSE(passes_csrf_rule(request(m, {})));
        EXPECT_FALSE(passes_csrf_rule(request(m, {{"X-Satload-Csrf", " "}})));
        EXPECT_TRUE(passes_csrf_rule(request(m, {{"X-Satload-Csrf", "1"}})));
    }
}

// The attributes the browser enforces; Secure only when the server is reached over TLS.
TEST(SessionCookie, SetCookieAttributes) {
    EXPECT_EQ(session_cookie_header("sls_t", 0, false),
              "satload_session=sls_t; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; HttpOnly; SameSite=Strict");
    EXPECT_EQ(session_cookie_header("sls_t", 0, true),
              "satload_session=sls_t; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; HttpOnly; SameSite=Strict; Secure");
    EXPECT_EQ(clearing_cookie_header(false), "satload_session=; Max-Age=0; Path=/; HttpOnly; SameSite=Strict");
}

// The pure steps: the first pair named satload_session decides (its value trimmed, checked
// or not), a name only inside another pair's value or without '=' is not ours, and the
// token check bounds the length and refuses separators.
TEST(SessionCookie, FindsTheFirstNamedPair) {
    EXPECT_EQ(find_session_cookie("a=1;\tsatload_session = v1 ;satload_session=v2"),
              std::optional<std::string_view>("v1"));
    EXPECT_EQ(find_session_cookie("satload_session=\"q\""), std::optional<std::string_view>("\"q\""));
    EXPECT_EQ(find_session_cookie("satload_session="), std::optional<std::string_view>(""));
    EXPECT_FALSE(find_session_cookie("x=satload_session=v; satload_session"));
    EXPECT_FALSE(find_session_cookie("satload_sessions=v"));
    EXPECT_FALSE(find_session_cookie(";;"));
    EXPECT_TRUE(is_session_cookie_value(std::string(kMaxSessionCookieChars, 'a')));
    EXPECT_FALSE(is_session_cookie_value(std::string(kMaxSessionCookieChars + 1, 'a')));
    for (const std::string_view bad : {"", "a b", "a,b", "a\\b", "\"a\"", "a\x7f", "\xc3\xa9"}) {
        EXPECT_FALSE(is_session_cookie_value(bad)) << bad;
    }
}

// Only "Bearer " (as the CLI sends it) with a non-empty token is a bearer credential.
TEST(SessionCookie, BearerToken) {
    EXPECT_EQ(bearer_token("Bearer sls_t"), std::optional<std::string_view>("sls_t"));
    EXPECT_EQ(bearer_token("Bearer  t"), std::optional<std::string_view>(" t"));
    for (const std::string_view bad : {"Bearer ", "Bearer", "bearer t", "Basic dTpw", "L402 m:p", ""}) {
        EXPECT_FALSE(bearer_token(bad)) << bad;
    }
}

// The rule on a method and a header value: blanks only are no header.
TEST(SessionCookie, CsrfRuleOnValues) {
    EXPECT_TRUE(passes_csrf_rule(http::verb::get, std::nullopt));
    EXPECT_TRUE(passes_csrf_rule(http::verb::post, "1"));
    EXPECT_FALSE(passes_csrf_rule(http::verb::post, std::nullopt));
    EXPECT_FALSE(passes_csrf_rule(http::verb::delete_, " \t "));
    EXPECT_FALSE(passes_csrf_rule(http::verb::patch, ""));
}

}  // namespace
}  // namespace satload::server
