// Server URL and Location parsing over Boost.URL, with our own stricter checks on top.
#include "client/url.h"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <algorithm>
#include <charconv>

namespace satload::client {
namespace {

bool is_unreserved(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '.' || c == '_' || c == '~';
}

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
        return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    });
    return out;
}

// Scheme, host and port of an absolute URL, checked: http or https, a registered name or an
// IP address without percent-encoding, no user info, a port in 1..65535.
ClientResult<Endpoint> endpoint_of(const boost::urls::url_view& url, ErrorCode code) {
    Endpoint ep;
    const std::string scheme = lower(url.scheme());
    if (scheme == "https") {
        ep.tls = true;
    } else if (scheme != "http") {
        return client_error(code, "only http:// and https:// URLs are supported");
    }
    if (url.has_userinfo()) {
        return client_error(code, "user names and passwords in URLs are not supported");
    }
    const auto host = url.encoded_host();
    if (host.empty() || host.find('%') != std::string_view::npos ||
        url.host_type() == boost::urls::host_type::ipvfuture) {
        return client_error(code, "the URL has no usable host name");
    }
    ep.host = lower(host);
    ep.port = ep.tls ? 443 : 80;
    if (url.has_port()) {
        const auto text = url.port();
        unsigned value = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || value == 0 ||
            value > 65535) {
            return client_error(code, "the URL's port is not a number from 1 to 65535");
        }
        ep.port = static_cast<std::uint16_t>(value);
    }
    return ep;
}

}  // namespace

std::string Endpoint::origin() const {
    const bool default_port = port == (tls ? 443 : 80);
    return std::string(tls ? "https://" : "http://") + host +
           (default_port ? "" : ":" + std::to_string(port));
}

std::string Endpoint::host_header() const {
    const bool default_port = port == (tls ? 443 : 80);
    return host + (default_port ? "" : ":" + std::to_string(port));
}

std::string Endpoint::connect_host() const {
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        return host.substr(1, host.size() - 2);
    }
    return host;
}

bool is_plain_path_prefix(std::string_view path) {
    if (path.empty()) return true;
    if (path.front() != '/') return false;
    std::size_t start = 1;
    while (true) {
        const std::size_t end = std::min(path.find('/', start), path.size());
        const std::string_view segment = path.substr(start, end - start);
        if (segment.empty() || segment == "." || segment == "..") return false;
        if (!std::all_of(segment.begin(), segment.end(), is_unreserved)) return false;
        if (end == path.size()) return true;
        start = end + 1;
    }
}

ClientResult<ServerUrl> parse_server_url(std::string_view text) {
    if (text.size() > kMaxUrlChars) {
        return client_error(ErrorCode::bad_url, "the server URL is too long");
    }
    const auto parsed = boost::urls::parse_absolute_uri(text);
    if (!parsed) {
        return client_error(ErrorCode::bad_url, "the server URL is not a valid URL");
    }
    const boost::urls::url_view& url = *parsed;
    auto ep = endpoint_of(url, ErrorCode::bad_url);
    if (!ep) return tl::unexpected(ep.error());
    if (url.has_query()) {
        return client_error(ErrorCode::bad_url, "the server URL must not have a query");
    }
    std::string path(url.encoded_path());
    while (!path.empty() && path.back() == '/') path.pop_back();
    if (!is_plain_path_prefix(path)) {
        return client_error(ErrorCode::bad_url,
                            "the server URL's path must be plain segments like /a/b");
    }
    return ServerUrl{std::move(*ep), std::move(path)};
}

ClientResult<RequestUrl> resolve_location(const ServerUrl& base, std::string_view location) {
    if (location.empty() || location.size() > kMaxUrlChars) {
        return client_error(ErrorCode::protocol, "the server sent an empty or overlong Location");
    }
    if (location.front() == '/') {
        if (location.size() > 1 && location[1] == '/') {
            return client_error(ErrorCode::protocol, "the server sent a scheme-relative Location");
        }
        const auto parsed = boost::urls::parse_origin_form(location);
        if (!parsed) {
            return client_error(ErrorCode::protocol, "the server sent a malformed Location");
        }
        return RequestUrl{base.endpoint, std::string(location)};
    }
    const auto parsed = boost::urls::parse_absolute_uri(location);
    if (!parsed) {
        return client_error(ErrorCode::protocol, "the server sent a malformed Location");
    }
    auto ep = endpoint_of(*parsed, ErrorCode::protocol);
    if (!ep) return tl::unexpected(ep.error());
    std::string target(parsed->encoded_path());
    if (target.empty()) target = "/";
    if (parsed->has_query()) {
        target += "?";
        target += parsed->encoded_query();
    }
    return RequestUrl{std::move(*ep), std::move(target)};
}

}  // namespace satload::client
