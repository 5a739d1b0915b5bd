// Fuzzes what every request's routing reads (server/request_path.h, client_limits.h): the
// request target as the router splits it, an Upload-Concat part URL, and X-Forwarded-For. No
// crash; accepted segments are plain (no '/', '%', dot or empty segment) and join back to
// exactly the path; a part URL yields only a canonical upload id it ends with; the client
// address is bounded, trimmed and taken from the proxy's own, last entry (or the peer), so a
// client's entries before it change nothing.
#include <boost/url/parse.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/ids.h"
#include "server/client_limits.h"
#include "server/request_path.h"

namespace server = satload::server;

namespace {

void check_segments(std::string_view path) {
    const auto segments = server::plain_segments(path);
    if (!segments) return;
    std::string joined;
    for (const std::string_view seg : *segments) {
        if (seg.empty() || seg == "." || seg == "..") std::abort();
        if (seg.find_first_of("/%") != std::string_view::npos) std::abort();
        joined += '/';
        joined += seg;
    }
    if (joined.empty()) joined = "/";
    if (joined != path) std::abort();
}

void check_target(std::string_view target) {
    // The router's steps: the origin form, then its still-encoded path.
    const auto url = boost::urls::parse_origin_form(target);
    if (url) check_segments(url->encoded_path());
    check_segments(target);
}

void check_part_url(std::string_view url) {
    const auto id = server::upload_id_of_url(url);
    if (!id) return;
    if (!satload::is_upload_id(*id)) std::abort();
    if (!url.ends_with("/files/" + *id)) std::abort();
}

void check_forwarded(std::string_view value) {
    constexpr std::string_view kPeer = "192.0.2.7";
    server::Request req;
    // The HTTP parser never passes CR, LF or NUL in a value.
    if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos) return;
    req.set("X-Forwarded-For", value);
    if (server::client_address(req, false, kPeer) != kPeer) std::abort();
    const std::string a = server::client_address(req, true, kPeer);
    if (a.empty() || a.size() > server::kClientAddressBytesMax) std::abort();
    if (a == kPeer) return;
    if (a.find(',') != std::string::npos) std::abort();
    if (a.front() == ' ' || a.front() == '\t') std::abort();
    // From the last entry (the proxy's): the value's text after its last comma, trimmed and
    // bounded, as the limits count it (an IPv6 address by its /64).
    const auto comma = value.rfind(',');
    std::string_view last = comma == std::string_view::npos ? value : value.substr(comma + 1);
    while (!last.empty() && (last.front() == ' ' || last.front() == '\t')) last.remove_prefix(1);
    while (!last.empty() && (last.back() == ' ' || last.back() == '\t')) last.remove_suffix(1);
    if (a != server::limit_key(last.substr(0, server::kClientAddressBytesMax))) std::abort();
    // A key is its own key: counting it again changes nothing.
    if (server::limit_key(a) != a) std::abort();
    // Whatever a client puts before the proxy's entry does not change the answer.
    req.set("X-Forwarded-For", "198.51.100.1, " + std::string(value));
    if (server::client_address(req, true, kPeer) != a) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    check_target(text);
    check_part_url(text);
    check_forwarded(text);
    return 0;
}
