// Fuzzes the header value parsers of core/http_headers.h: none may crash, and every
// satisfiable range must lie inside the representation.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/check.h"
#include "core/http_headers.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    (void)satload::parse_decimal(text);
    (void)satload::parse_upload_metadata(text);
    (void)satload::parse_upload_checksum(text);
    (void)satload::parse_upload_concat(text);
    for (const std::uint64_t body : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{65536}}) {
        const auto r = satload::parse_range(text, body);
        if (r.result == satload::RangeResult::satisfiable) {
            SATLOAD_ASSERT(r.range.first <= r.range.last && r.range.last < body);
        }
    }
    return 0;
}
