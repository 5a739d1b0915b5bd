// The client address the rate limits key on: the peer, or behind a trusted proxy the entry the
// proxy itself appended to X-Forwarded-For. Reproduces the bug where the first entry was used:
// a client sending its own X-Forwarded-For through an appending proxy (nginx's
// $proxy_add_x_forwarded_for, HAProxy's extra header line) picked the address every limit saw.
#include "server/client_limits.h"

#include <gtest/gtest.h>

#include <string>

namespace satload::server {
namespace {

Request with_forwarded(std::initializer_list<std::string> lines) {
    Request req;
    for (const std::string& line : lines) req.insert("X-Forwarded-For", line);
    return req;
}

// The proxy's entry is the last one; what the client wrote before it is ignored.
TEST(ClientAddress, LastEntryIsTheProxys) {
    EXPECT_EQ(client_address(with_forwarded({"203.0.113.9"}), true, "10.0.0.2"), "203.0.113.9");
    EXPECT_EQ(client_address(with_forwarded({"1.2.3.4, 203.0.113.9"}), true, "10.0.0.2"), "203.0.113.9");
    EXPECT_EQ(client_address(with_forwarded({"spoof,\t 203.0.113.9 "}), true, "10.0.0.2"), "203.0.113.9");
    // A proxy that adds a header line of its own: the last line counts.
    EXPECT_EQ(client_address(with_forwarded({"1.2.3.4", "203.0.113.9"}), true, "10.0.0.2"), "203.0.113.9");
}

// Without --trust-proxy, or without a usable entry, the peer.
TEST(ClientAddress, PeerOtherwise) {
    EXPECT_EQ(client_address(with_forwarded({"203.0.113.9"}), false, "10.0.0.2"), "10.0.0.2");
    EXPECT_EQ(client_address(with_forwarded({}), true, "10.0.0.2"), "10.0.0.2");
    EXPECT_EQ(client_address(with_forwarded({"203.0.113.9, "}), true, "10.0.0.2"), "10.0.0.2");
    EXPECT_EQ(client_address(with_forwarded({" "}), true, "10.0.0.2"), "10.0.0.2");
}

// An address is cut at kClientAddressBytesMax, from the proxy's entry or the peer.
// An IPv6 client counts by its /64 (any address of it is one client), from the peer or the
// proxy's entry; an IPv4-mapped peer as its IPv4 address; IPv4 and non-addresses unchanged.
TEST(ClientAddress, Ipv6CountsByItsSlash64) {
    EXPECT_EQ(client_address(with_forwarded({}), false, "2001:db8:1:2:aaaa:bbbb:cccc:dddd"),
              "2001:db8:1:2::/64");
    EXPECT_EQ(client_address(with_forwarded({}), false, "2001:db8:1:2::1"),
              client_address(with_forwarded({}), false, "2001:db8:1:2:ffff::9"));
    EXPECT_NE(client_address(with_forwarded({}), false, "2001:db8:1:2::1"),
              client_address(with_forwarded({}), false, "2001:db8:1:3::1"));
    EXPECT_EQ(client_address(with_forwarded({"1.2.3.4, 2001:db8::7"}), true, "10.0.0.2"),
              "2001:db8::/64");
    EXPECT_EQ(client_address(with_forwarded({}), false, "fe80::1%2"), "fe80::/64");
    EXPECT_EQ(client_address(with_forwarded({}), false, "::ffff:203.0.113.9"), "203.0.113.9");
    EXPECT_EQ(limit_key("203.0.113.9"), "203.0.113.9");
    EXPECT_EQ(limit_key("unknown"), "unknown");
    EXPECT_EQ(limit_key("::1"), "::/64");
}

// A proxy that writes the client's port after its address (some do): one client is one key,
// whatever port each connection came from. Text that only looks like it stays as it is.
TEST(ClientAddress, PortOfAForwardedEntryIsNotCounted) {
    EXPECT_EQ(client_address(with_forwarded({"203.0.113.9:51234"}), true, "10.0.0.2"),
              "203.0.113.9");
    EXPECT_EQ(client_address(with_forwarded({"203.0.113.9:51234"}), true, "10.0.0.2"),
              client_address(with_forwarded({"203.0.113.9:40000"}), true, "10.0.0.2"));
    EXPECT_EQ(client_address(with_forwarded({"1.2.3.4, [2001:db8:1:2::7]:443"}), true, "10.0.0.2"),
              "2001:db8:1:2::/64");
    EXPECT_EQ(limit_key("[2001:db8::1]"), "2001:db8::/64");
    EXPECT_EQ(limit_key("[::ffff:203.0.113.9]:80"), "203.0.113.9");
    EXPECT_EQ(limit_key("2001:db8::1:80"), "2001:db8::/64");  // an IPv6 address, not a port
    EXPECT_EQ(limit_key("203.0.113.9:"), "203.0.113.9:");
    EXPECT_EQ(limit_key("203.0.113.9:123456"), "203.0.113.9:123456");
    EXPECT_EQ(limit_key("[2001:db8::1]x"), "[2001:db8::1]x");
    EXPECT_EQ(limit_key("[203.0.113.9]:80"), "[203.0.113.9]:80");
    EXPECT_EQ(limit_key("host:80"), "host:80");
    for (const char* entry : {"203.0.113.9:51234", "[2001:db8::1]:443", "host:80", "[x]"}) {
        EXPECT_EQ(limit_key(limit_key(entry)), limit_key(entry)) << entry;
    }
}

TEST(ClientAddress, Bounded) {
    const std::string long_entry(kClientAddressBytesMax + 10, 'a');
    EXPECT_EQ(client_address(with_forwarded({"x, " + long_entry}), true, "p").size(), kClientAddressBytesMax);
    EXPECT_EQ(client_address(with_forwarded({}), true, long_entry).size(), kClientAddressBytesMax);
}

}  // namespace
}  // namespace satload::server
