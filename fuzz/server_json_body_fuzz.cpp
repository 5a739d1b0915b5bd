// Fuzzes the JSON object request bodies of the API (server/json_body.h) and the text encodings
// their members are decoded from (core/encoding.h). No crash; a body over the limit is never
// parsed; an accepted body is an object that serialises and parses back to itself, and the
// member readers agree with each member's type; the decoders accept only canonical text: what
// one accepts encodes back to exactly that text (hex up to case), and any bytes encode to text
// each decoder accepts and decodes back to them.
#include <boost/json.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/encoding.h"
#include "fuzz_text.h"
#include "server/json_body.h"

namespace server = satload::server;
namespace json = boost::json;
using satload::fuzz::lower;

namespace {

bool has_double(const json::value& v) {
    if (v.is_double()) return true;
    if (const auto* a = v.if_array()) {
        for (const auto& e : *a) {
            if (has_double(e)) return true;
        }
    }
    if (const auto* o = v.if_object()) {
        for (const auto& [k, e] : *o) {
            if (has_double(e)) return true;
        }
    }
    return false;
}

bool has_double(const json::object& o) {
    for (const auto& [k, e] : o) {
        if (has_double(e)) return true;
    }
    return false;
}

void check_body(std::string_view body) {
    // The limit binds at the last byte: one byte fewer allowed is 413, whatever the content.
    if (!body.empty()) {
        const server::JsonBody small = server::parse_json_object(body, body.size() - 1);
        if (small.object || small.problem != satload::Problem::payload_too_large) std::abort();
    }
    const server::JsonBody parsed = server::parse_json_object(body, body.size());
    if (!parsed.object) {
        if (parsed.problem != satload::Problem::bad_request || parsed.detail.empty()) std::abort();
        return;
    }
    const json::object& o = *parsed.object;
    const auto again = server::parse_json_object(json::serialize(o), SIZE_MAX);
    // Exact equality only without doubles: Boost.JSON's default number parsing may land one ulp
    // off a serialized double (no amount is ever a double: json_int64 takes integers only).
    if (!again.object || (!has_double(o) && *again.object != o)) std::abort();
    for (const auto& [key, value] : o) {
        const auto s = server::json_string(o, key);
        const json::value* found = o.if_contains(key);
        if (found == nullptr) std::abort();
        if (s.has_value() != found->is_string()) std::abort();
        if (s && *s != std::string_view(found->as_string())) std::abort();
        const auto n = server::json_int64(o, key);
        if (n && !(found->is_int64() || found->is_uint64())) std::abort();
        if (found->is_int64() && (!n || *n != found->as_int64())) std::abort();
        (void)value;
    }
}

void check_encodings(std::string_view text) {
    if (const auto b = satload::hex_decode(text)) {
        if (satload::hex_encode(*b) != lower(text)) std::abort();
    }
    if (const auto b = satload::base64url_decode(text)) {
        if (satload::base64url_encode(*b) != text) std::abort();
    }
    if (const auto b = satload::base64_decode(text)) {
        if (satload::base64_encode(*b) != text) std::abort();
    }
    const satload::ByteSpan bytes = satload::as_bytes(text);
    const auto hex = satload::hex_decode(satload::hex_encode(bytes));
    const auto url = satload::base64url_decode(satload::base64url_encode(bytes));
    const auto std64 = satload::base64_decode(satload::base64_encode(bytes));
    for (const auto* back : {&hex, &url, &std64}) {
        if (!*back || !std::equal(bytes.begin(), bytes.end(), (*back)->begin(), (*back)->end())) std::abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    check_body(text);
    check_encodings(text);
    return 0;
}
