// Fuzzes the tus Upload-Metadata header as the upload's creation request carries it: the
// generic pairs (core/http_headers.h) and the link controls read from them (files/
// link_controls.h). No crash; accepted pairs are within the limits and re-encode to a header
// that parses to the same pairs; accepted link controls are within their bounds, are exactly
// the decimal values of their keys, and survive their own re-encoding.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include "core/encoding.h"
#include "core/http_headers.h"
#include "core/money.h"
#include "files/link_controls.h"

namespace files = satload::files;

namespace {

std::string encode_pairs(const satload::MetadataPairs& pairs) {
    std::string out;
    for (const auto& [key, value] : pairs) {
        if (!out.empty()) out += ',';
        out += key;
        if (!value.empty()) out += ' ' + satload::base64_encode(satload::as_bytes(value));
    }
    return out;
}

void check_pairs(const satload::MetadataPairs& pairs) {
    if (pairs.size() > satload::kMaxMetadataPairs) std::abort();
    std::set<std::string> keys;
    for (const auto& [key, value] : pairs) {
        if (key.empty() || key.find_first_of(" ,") != std::string::npos) std::abort();
        if (value.size() > satload::kMaxMetadataValueBytes) std::abort();
        if (!keys.insert(key).second) std::abort();
    }
    const auto again = satload::parse_upload_metadata(encode_pairs(pairs));
    if (!again || *again != pairs) std::abort();
}

void check_controls(const files::LinkControls& c, const satload::MetadataPairs& pairs) {
    if (!satload::within_supply(satload::Msat{c.price_msat})) std::abort();
    if (c.expires_in_s && (*c.expires_in_s < 1 || *c.expires_in_s > files::kLinkLifetimeMaxS)) std::abort();
    if (c.max_downloads && (*c.max_downloads < 1 || *c.max_downloads > files::kDownloadLimitMax)) std::abort();
    // Each field is the decimal value of its key, or the default without the key.
    const auto value_of = [&](std::string_view key) -> std::optional<std::uint64_t> {
        const auto it = std::find_if(pairs.begin(), pairs.end(), [&](const auto& p) { return p.first == key; });
        if (it == pairs.end()) return std::nullopt;
        const auto n = satload::parse_decimal(it->second);
        if (!n) std::abort();  // accepted controls come from decimal values only
        return n;
    };
    const auto price = value_of(files::kPriceMsatKey);
    if (static_cast<std::uint64_t>(c.price_msat) != price.value_or(0)) std::abort();
    const auto expires = value_of(files::kExpiresInKey);
    if (expires.has_value() != c.expires_in_s.has_value()) std::abort();
    if (expires && static_cast<std::uint64_t>(*c.expires_in_s) != *expires) std::abort();
    if (value_of(files::kMaxDownloadsKey) != c.max_downloads) std::abort();

    // The controls written as a header of their own read back the same.
    satload::MetadataPairs own;
    own.emplace_back(std::string(files::kPriceMsatKey), std::to_string(c.price_msat));
    if (c.expires_in_s) own.emplace_back(std::string(files::kExpiresInKey), std::to_string(*c.expires_in_s));
    if (c.max_downloads) own.emplace_back(std::string(files::kMaxDownloadsKey), std::to_string(*c.max_downloads));
    const auto again = files::parse_link_metadata(encode_pairs(own));
    if (!again || again->price_msat != c.price_msat || again->expires_in_s != c.expires_in_s ||
        again->max_downloads != c.max_downloads) {
        std::abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto pairs = satload::parse_upload_metadata(text);
    if (pairs) check_pairs(*pairs);
    const auto controls = files::parse_link_metadata(text);
    if (!controls) {
        if (controls.error().empty()) std::abort();  // every refusal says why
        return 0;
    }
    if (!text.empty() && !pairs) std::abort();  // a malformed header is never read for controls
    check_controls(*controls, pairs ? *pairs : satload::MetadataPairs{});
    return 0;
}
