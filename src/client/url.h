// Strict parsing of the URLs the client talks to: the server's base URL (--server, the part
// of a link before /f/) and the upload URLs the server hands out in Location headers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "client/error.h"

namespace satload::client {

// Longest URL we accept anywhere (server base, Location, link).
inline constexpr std::size_t kMaxUrlChars = 2048;

// Where to connect: scheme, host and port.
struct Endpoint {
    bool tls = false;
    std::string host;  // as in the URL, lower case; IPv6 keeps its brackets
    std::uint16_t port = 0;

    [[nodiscard]] std::string origin() const;       // scheme://host[:port], default port left out
    [[nodiscard]] std::string host_header() const;  // host[:port] for the Host header
    [[nodiscard]] std::string connect_host() const; // host for the resolver (no brackets)
    friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

// A server base URL: http(s)://host[:port][/prefix], no user info, query or fragment.
struct ServerUrl {
    Endpoint endpoint;
    std::string path_prefix;  // "" or "/a/b" (no trailing slash)

    [[nodiscard]] std::string text() const { return endpoint.origin() + path_prefix; }
    // Request target for an absolute path below the base, e.g. target("/files").
    [[nodiscard]] std::string target(std::string_view path) const { return path_prefix + std::string(path); }
};

// An absolute request URL: where to connect and the origin-form target (path and query).
struct RequestUrl {
    Endpoint endpoint;
    std::string target;
    [[nodiscard]] std::string text() const { return endpoint.origin() + target; }
};

[[nodiscard]] ClientResult<ServerUrl> parse_server_url(std::string_view text);

// Resolves a Location header against the server it came from: an absolute http(s) URL or an
// absolute path ("/files/x"). Anything else (relative paths, other schemes, user info,
// fragments) is a protocol error.
[[nodiscard]] ClientResult<RequestUrl> resolve_location(const ServerUrl& base,
                                                        std::string_view location);

// True when every segment of `path` ("" or "/a/b") is non-empty, not "." or "..", and made of
// unreserved characters only, so the prefix needs no escaping and cannot climb.
[[nodiscard]] bool is_plain_path_prefix(std::string_view path);

}  // namespace satload::client
