// Fuzzes the tus and Range header values the upload and download handlers act on (core/
// http_headers.h) for what http_headers_fuzz does not check: an accepted Upload-Checksum or
// Upload-Concat is within its limits and re-encodes to a value parsing to the same; a decimal
// reads back from its own digits; a satisfiable range names exactly the bytes its form asks
// for, against sizes drawn from the input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "core/encoding.h"
#include "core/http_headers.h"

namespace {

bool token(std::string_view s) {
    for (const char c : s) {
        if (c <= 0x20 || c >= 0x7f || c == ',') return false;
    }
    return !s.empty();
}

void check_checksum(std::string_view text) {
    const auto c = satload::parse_upload_checksum(text);
    if (!c) return;
    if (!token(c->algorithm) || c->digest.empty() || c->digest.size() > 64) std::abort();
    for (const char ch : c->algorithm) {
        if (ch >= 'A' && ch <= 'Z') std::abort();  // lower-cased
    }
    const auto again = satload::parse_upload_checksum(c->algorithm + " " + satload::base64_encode(c->digest));
    if (!again || again->algorithm != c->algorithm || again->digest != c->digest) std::abort();
}

void check_concat(std::string_view text) {
    const auto c = satload::parse_upload_concat(text);
    if (!c) return;
    if (c->partial) {
        if (!c->parts.empty()) std::abort();
        return;
    }
    if (c->parts.empty() || c->parts.size() > satload::kMaxConcatParts) std::abort();
    std::string joined = "final;";
    for (const std::string& part : c->parts) {
        if (!token(part)) std::abort();
        joined += part + " ";
    }
    const auto again = satload::parse_upload_concat(joined);
    if (!again || again->partial || again->parts != c->parts) std::abort();
}

void check_range(std::string_view text, std::uint64_t size) {
    const auto r = satload::parse_range(text, size);
    if (r.result != satload::RangeResult::satisfiable) return;
    if (r.range.first > r.range.last || r.range.last >= size) std::abort();
    // "bytes=-N" ends at the last byte; "bytes=A-" and "bytes=A-B" start at A.
    const auto eq = text.find('=');
    const auto dash = text.find('-', eq);
    if (eq == std::string_view::npos || dash == std::string_view::npos) std::abort();
    std::string_view first = text.substr(eq + 1, dash - eq - 1);
    while (!first.empty() && (first.front() == ' ' || first.front() == '\t')) first.remove_prefix(1);
    while (!first.empty() && (first.back() == ' ' || first.back() == '\t')) first.remove_suffix(1);
    if (first.empty()) {
        if (r.range.last != size - 1) std::abort();
    } else {
        const auto a = satload::parse_decimal(first);
        if (!a || *a != r.range.first) std::abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    if (const auto n = satload::parse_decimal(text)) {
        if (satload::parse_decimal(std::to_string(*n)) != n) std::abort();
    }
    check_checksum(text);
    check_concat(text);
    // Sizes: small ones, the largest, and one drawn from the input's first bytes.
    std::uint64_t drawn = 0;
    std::memcpy(&drawn, data, size < sizeof drawn ? size : sizeof drawn);
    for (const std::uint64_t body : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{100}, UINT64_MAX, drawn}) {
        check_range(text, body);
    }
    return 0;
}
