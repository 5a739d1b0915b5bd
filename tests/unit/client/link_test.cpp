// Pins down the link contract `<base>/f/<id>[?r=<referrer>]#<secret>` and the server URL
// rules: the one accepted form round-trips, and every malformed or hostile variant is refused
// with a bad_link error rather than being "repaired".
#include "client/link.h"

#include <gtest/gtest.h>

#include "client/url.h"

namespace satload::client {
namespace {

constexpr std::string_view kId = "AAAAAAAAAAAAAAAAAAAAAA";      // 22 chars, 16 zero bytes
constexpr std::string_view kSecret = "AQIDBAUGBwgJCgsMDQ4PEA";   // bytes 1..16

std::string link_text(std::string_view base, std::string_view tail = "") {
    return std::string(base) + "/f/" + std::string(kId) + std::string(tail) + "#" + std::string(kSecret);
}

// The canonical form parses into its parts and formats back to the same text.
TEST(Link, ParsesAndFormatsTheCanonicalForm) {
    const std::string text = link_text("http://127.0.0.1:8080");
    auto link = parse_link(text);
    ASSERT_TRUE(link) << link.error().message;
    EXPECT_FALSE(link->server.endpoint.tls);
    EXPECT_EQ(link->server.endpoint.host, "127.0.0.1");
    EXPECT_EQ(link->server.endpoint.port, 8080);
    EXPECT_EQ(link->server.path_prefix, "");
    EXPECT_EQ(link->file_id, kId);
    EXPECT_EQ(link->referrer, "");
    for (std::size_t i = 0; i < link->secret.size(); ++i) EXPECT_EQ(link->secret[i], i + 1);
    EXPECT_EQ(format_link(*link), text);
}

// A referral code, an https base with a path prefix, the default port and IPv6 all survive
// a round trip; scheme and host case is normalised.
TEST(Link, AcceptsReferrerPrefixesAndIpv6) {
    for (const std::string& text :
         {link_text("https://files.example.com/satload", "?r=alice_01-x"),
          link_text("http://[::1]:9000"), link_text("https://example.com")}) {
        auto link = parse_link(text);
        ASSERT_TRUE(link) << text << ": " << link.error().message;
        EXPECT_EQ(format_link(*link), text);
    }
    auto link = parse_link(link_text("https://files.example.com/satload", "?r=alice_01-x"));
    ASSERT_TRUE(link);
    EXPECT_TRUE(link->server.endpoint.tls);
    EXPECT_EQ(link->server.endpoint.port, 443);
    EXPECT_EQ(link->server.path_prefix, "/satload");
    EXPECT_EQ(link->referrer, "alice_01-x");
    auto upper = parse_link(link_text("HTTP://EXAMPLE.com:80"));
    ASSERT_TRUE(upper);
    EXPECT_EQ(format_link(*upper), link_text("http://example.com"));
    auto v6 = parse_link(link_text("http://[::1]:9000"));
    ASSERT_TRUE(v6);
    EXPECT_EQ(v6->server.endpoint.connect_host(), "::1");
    EXPECT_EQ(v6->server.endpoint.host_header(), "[::1]:9000");
}

// Each malformed link is refused, whichever part is wrong.
TEST(Link, RefusesMalformedAndHostileLinks) {
    const std::string id(kId), secret(kSecret);
    const std::string bad[] = {
        "",
        "not a link",
        "http://h/f/" + id,                                   // no secret
        "http://h/f/" + id + "#",                             // empty secret
        "http://h/f/" + id + "#" + secret.substr(1),          // 21 chars
        "http://h/f/" + id + "#" + secret + "A",              // 23 chars
        "http://h/f/" + id + "#" + secret.substr(0, 21) + "=",  // padding
        "http://h/f/" + id + "#" + secret.substr(0, 21) + "+",  // standard alphabet
        "http://h/f/" + id + "#" + secret.substr(0, 21) + "B",  // non-zero trailing bits
        "http://h/f/" + id.substr(1) + "#" + secret,          // short id
        "http://h/f/" + id + "A#" + secret,                   // long id
        "http://h/f/%41" + id.substr(1) + "#" + secret,       // percent-encoded id
        "http://h/f/" + id + "/#" + secret,                   // trailing slash
        "http://h/f/" + id + "/x#" + secret,                  // extra path
        "http://h/g/" + id + "#" + secret,                    // wrong path
        "http://h/" + id + "#" + secret,                      // no /f/
        "http://h/../f/" + id + "#" + secret,                 // climbing prefix
        "http://h/a//f/" + id + "#" + secret,                 // empty segment
        "http://h/f/" + id + "?x=1#" + secret,                // other query
        "http://h/f/" + id + "?r=a&r=b#" + secret,            // two referrers
        "http://h/f/" + id + "?r=#" + secret,                 // empty referrer
        "http://h/f/" + id + "?r=a%20b#" + secret,            // escaped referrer
        "http://h/f/" + id + "?r=" + std::string(65, 'a') + "#" + secret,  // long referrer
        "http://h/f/" + id + "?#" + secret,                   // empty query
        "http://user:pw@h/f/" + id + "#" + secret,            // user info
        "ftp://h/f/" + id + "#" + secret,                     // scheme
        "javascript:alert(1)//f/" + id + "#" + secret,        // no authority
        "http:///f/" + id + "#" + secret,                     // no host
        "http://h:0/f/" + id + "#" + secret,                  // port 0
        "http://h:65536/f/" + id + "#" + secret,              // port too large
        "http://h:8o/f/" + id + "#" + secret,                 // port not a number
        "http://h%2e/f/" + id + "#" + secret,                 // encoded host
        " http://h/f/" + id + "#" + secret,                   // leading space
        "http://h/f/" + id + "#" + secret + "\n",             // control character
        "http://h/f/" + id + "#" + secret + "#x",             // second fragment
        "http://h/" + std::string(3000, 'a') + "/f/" + id + "#" + secret,  // too long
    };
    for (const auto& text : bad) {
        auto link = parse_link(text);
        EXPECT_FALSE(link) << "accepted: " << text;
        if (!link) {
            EXPECT_EQ(link.error().code, ErrorCode::bad_link) << text;
            EXPECT_FALSE(link.error().message.empty());
            // The error never echoes the secret back.
            EXPECT_EQ(link.error().message.find(secret), std::string::npos);
        }
    }
}

// Server URLs: trailing slashes are dropped, queries, fragments and odd paths refused.
TEST(ServerUrl, ParsesBaseUrlsStrictly) {
    auto url = parse_server_url("http://127.0.0.1:8080/");
    ASSERT_TRUE(url);
    EXPECT_EQ(url->text(), "http://127.0.0.1:8080");
    EXPECT_EQ(url->target("/files"), "/files");
    url = parse_server_url("https://h.example/a/b/");
    ASSERT_TRUE(url);
    EXPECT_EQ(url->text(), "https://h.example/a/b");
    EXPECT_EQ(url->target("/files"), "/a/b/files");
    for (const char* bad : {"127.0.0.1:8080", "http://h/?q", "http://h/#f", "http://h/a/../b",
                            "ws://h", "http://u@h", "http://h:99999", "", "http://"}) {
        EXPECT_FALSE(parse_server_url(bad)) << bad;
    }
}

// Location headers: absolute http(s) URLs and absolute paths resolve; anything that could
// send us somewhere unexpected is a protocol error.
TEST(ServerUrl, ResolvesLocations) {
    const auto base = parse_server_url("http://127.0.0.1:8080/p");
    ASSERT_TRUE(base);
    auto abs = resolve_location(*base, "https://other.example:8443/files/abc?x=1");
    ASSERT_TRUE(abs);
    EXPECT_TRUE(abs->endpoint.tls);
    EXPECT_EQ(abs->endpoint.port, 8443);
    EXPECT_EQ(abs->target, "/files/abc?x=1");
    auto rel = resolve_location(*base, "/p/files/abc");
    ASSERT_TRUE(rel);
    EXPECT_EQ(rel->text(), "http://127.0.0.1:8080/p/files/abc");
    for (const char* bad : {"", "files/abc", "//evil.example/files/x", "ftp://h/x",
                            "http://u:p@h/x", "http://h/x#frag"}) {
        auto r = resolve_location(*base, bad);
        EXPECT_FALSE(r) << bad;
        if (!r) {
            EXPECT_EQ(r.error().code, ErrorCode::protocol);
        }
    }
}

}  // namespace
}  // namespace satload::client
