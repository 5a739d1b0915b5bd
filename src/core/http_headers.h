// Strict parsers for the HTTP header values the server acts on: decimal sizes, tus
// Upload-Metadata / Upload-Checksum / Upload-Concat, and byte ranges (RFC 9110 section 14).
// Pure functions over text; each has a fuzz target under fuzz/.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/encoding.h"

namespace satload {

// Limits that bound what a hostile header can make us allocate.
inline constexpr std::size_t kMaxMetadataPairs = 32;
inline constexpr std::size_t kMaxMetadataValueBytes = 8 * 1024;
inline constexpr std::size_t kMaxConcatParts = 256;

// A non-negative decimal with no sign, no spaces, no leading '+', at most 19 digits and no
// overflow of uint64. "0" is fine; "007" is accepted as 7 (RFC 9110 allows leading zeros).
[[nodiscard]] std::optional<std::uint64_t> parse_decimal(std::string_view text);

// tus Upload-Metadata: comma-separated "key base64value" pairs (value optional). Keys are
// unique, non-empty, without spaces or commas; values are standard base64.
using MetadataPairs = std::vector<std::pair<std::string, std::string>>;
[[nodiscard]] std::optional<MetadataPairs> parse_upload_metadata(std::string_view text);
// `text` (an Upload-Metadata value) with the value of `key` replaced by `value`, the other
// pairs as they were; nullopt when it does not parse or has no such key.
[[nodiscard]] std::optional<std::string> replace_upload_metadata_value(std::string_view text, std::string_view key,
                                                                       std::string_view value);

// tus Upload-Checksum: "<algorithm> <base64 digest>".
struct UploadChecksum {
    std::string algorithm;  // lowercase as sent
    Bytes digest;
};
[[nodiscard]] std::optional<UploadChecksum> parse_upload_checksum(std::string_view text);

// tus Upload-Concat: "partial" or "final;<url> <url> ...".
struct UploadConcat {
    bool partial = false;
    std::vector<std::string> parts;  // for final: the URLs as sent
};
[[nodiscard]] std::optional<UploadConcat> parse_upload_concat(std::string_view text);

// A single byte range resolved against a representation of `size` bytes.
struct ByteRange {
    std::uint64_t first = 0;
    std::uint64_t last = 0;  // inclusive
    [[nodiscard]] std::uint64_t length() const { return last - first + 1; }
};

enum class RangeResult {
    none,            // no usable Range: serve the whole representation (also for multi-range)
    satisfiable,     // serve `range` with 206
    unsatisfiable,   // 416
    malformed,       // ignore the header, as RFC 9110 requires for invalid syntax
};

struct ParsedRange {
    RangeResult result = RangeResult::none;
    ByteRange range;
};

[[nodiscard]] ParsedRange parse_range(std::string_view text, std::uint64_t size);

}  // namespace satload
