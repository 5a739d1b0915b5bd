// What the rate limits and throttles of the server share: the client address they key on, and
// the 429 answer with Retry-After.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "server/exchange.h"

namespace satload::server {

// Longest client address kept (an IPv6 address with a zone fits).
inline constexpr std::size_t kClientAddressBytesMax = 64;

// The connection's peer, or behind a trusted proxy (`--trust-proxy`) the last entry of the
// last X-Forwarded-For line: the client as the proxy saw it (entries before it are the
// client's own text). What the limits count by: an IPv6 address as its /64 (the network of
// one subscriber or host, who can pick any address in it), an IPv4-mapped one as IPv4, and
// without the port some proxies write after the address ("203.0.113.9:51234",
// "[2001:db8::1]:443").
[[nodiscard]] std::string client_address(const Request& req, bool trust_proxy, std::string_view peer);
// An address as the limits count it (above); text that is no IP address (with or without a
// port) stays as it is.
[[nodiscard]] std::string limit_key(std::string_view address);

// 429 problem+json (`too-many-requests`) with Retry-After (at least 1 s).
awaitable<void> send_too_many_requests(Exchange& ex, std::int64_t retry_after_s, std::string_view detail);

}  // namespace satload::server
