// Fuzzes the --blobs URL (s3/s3_blob_store.h: parse_s3_url), an operator's text whose parts
// end up in every request's Host header and signature. No crash; parsing is deterministic; an
// accepted URL names each parameter once, a valid bucket, an endpoint host that is a DNS name
// or IPv4 address (no byte a header or the resolver would misread), the port written (default
// 80, never wrapped into 16 bits) and a region usable in a SigV4 scope ([A-Za-z0-9._-]); it has
// nothing the parser would drop unread (user info, port or fragment of the s3 URL; user info,
// query or fragment of the endpoint); the canonical URL of what was accepted parses back to it.
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <boost/url/parse.hpp>

#include "fuzz_text.h"
#include "s3/s3_blob_store.h"

namespace s3 = satload::s3;
namespace urls = boost::urls;
using satload::fuzz::parse_checked;
using satload::fuzz::same_outcome;

namespace {

bool all_in(std::string_view s, std::string_view extra) {
    for (const char c : s) {
        const bool alnum =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum && extra.find(c) == std::string_view::npos) return false;
    }
    return true;
}

bool same_config(const s3::S3StoreConfig& a, const s3::S3StoreConfig& b) {
    return a.endpoint.bucket == b.endpoint.bucket && a.endpoint.host == b.endpoint.host &&
           a.endpoint.port == b.endpoint.port && a.endpoint.region == b.endpoint.region &&
           a.part_size_bytes == b.part_size_bytes &&
           a.single_copy_max_bytes == b.single_copy_max_bytes &&
           a.copy_part_bytes == b.copy_part_bytes;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto parsed = parse_checked(s3::parse_s3_url, text, same_config);
    if (!parsed) return 0;
    const s3::S3Endpoint& ep = parsed->endpoint;
    if (ep.bucket.size() < 3 || ep.bucket.size() > 63 || !all_in(ep.bucket, ".-")) std::abort();
    if (ep.bucket.find_first_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") != std::string::npos) std::abort();
    if (ep.host.empty() || !all_in(ep.host, ".-") || ep.port == 0) std::abort();
    if (ep.region.empty() || !all_in(ep.region, "._-")) std::abort();
    const s3::S3StoreConfig defaults;
    if (parsed->part_size_bytes != defaults.part_size_bytes ||
        parsed->single_copy_max_bytes != defaults.single_copy_max_bytes ||
        parsed->copy_part_bytes != defaults.copy_part_bytes) {
        std::abort();
    }

    // Every part of the URL was read: none that the parser would silently drop.
    const auto url = urls::parse_uri(text);
    if (!url || url->has_userinfo() || url->has_port() || url->has_fragment()) std::abort();
    std::string endpoint;
    for (const auto p : url->params()) {
        if (p.key == "endpoint") endpoint = p.value;
    }
    if (url->params().count("endpoint") != 1 || url->params().count("region") > 1) std::abort();
    const auto endpoint_url = urls::parse_uri(endpoint);
    if (!endpoint_url || endpoint_url->has_userinfo() || endpoint_url->has_query() ||
        endpoint_url->has_fragment()) {
        std::abort();
    }
    // The port is the one written, never that number wrapped into 16 bits; absent, it is 80.
    std::uint64_t written_port = 80;
    if (endpoint_url->has_port()) {
        const std::string_view digits = endpoint_url->port();
        const auto [end, error] =
            std::from_chars(digits.data(), digits.data() + digits.size(), written_port);
        if (error != std::errc() || end != digits.data() + digits.size()) std::abort();
    }
    if (written_port != ep.port) std::abort();

    const std::string canonical = "s3://" + ep.bucket + "?endpoint=http://" + ep.host + ":" +
                                  std::to_string(ep.port) + "&region=" + ep.region;
    if (!same_outcome(parsed, s3::parse_s3_url(canonical), same_config)) std::abort();
    return 0;
}
