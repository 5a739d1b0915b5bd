// Shape and size checks of a file's encrypted metadata (see file_meta.h).
#include "files/file_meta.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/encoding.h"
#include "core/http_headers.h"
#include "crypto/ece.h"

namespace satload::files {
namespace {

// The separator between a tus metadata key and its value.
constexpr std::size_t kPairSeparatorBytes = 1;
// Standard base64 writes every 3 bytes (or fewer, padded) as 4 characters.
constexpr std::size_t kBase64GroupChars = 4;
constexpr std::size_t kBase64GroupBytes = 3;
// The smallest record: the delimiter byte and the AEAD tag.
constexpr std::size_t kMinRecordBytes = 1 + crypto::ece::kTagBytes;

}  // namespace

std::size_t max_meta_chars(std::size_t max_metadata_bytes) {
    const std::size_t overhead = kMetaKey.size() + kPairSeparatorBytes;
    if (max_metadata_bytes <= overhead) return 0;
    const std::size_t header_fit =
        (max_metadata_bytes - overhead) / kBase64GroupChars * kBase64GroupBytes;
    // parse_upload_metadata bounds a value by its base64 length, so in whole groups of 3 bytes.
    const std::size_t value_fit =
        (kMaxMetadataValueBytes + kBase64GroupBytes - 1) / kBase64GroupBytes * kBase64GroupBytes;
    return std::min(header_fit, value_fit);
}

std::optional<std::string> meta_problem(std::string_view meta, std::size_t max_metadata_bytes) {
    const std::size_t max_chars = max_meta_chars(max_metadata_bytes);
    if (meta.size() > max_chars) {
        return fmt::format("meta is too large: at most {} characters, as at upload", max_chars);
    }
    const auto body = base64url_decode(meta);
    if (!body) return std::string("meta must be base64url text without padding");
    const auto header = crypto::ece::parse_header(*body);
    if (!header || body->size() < header->size() + kMinRecordBytes) {
        return std::string(
            "meta must be an encrypted RFC 8188 body (header and at least one record)");
    }
    return std::nullopt;
}

}  // namespace satload::files
