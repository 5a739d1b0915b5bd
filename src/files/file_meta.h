// The encrypted metadata of a file as the server handles it: opaque base64url text whose
// shape (an RFC 8188 body) and size it checks when the file's owner replaces it (a rename).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace satload::files {

// The tus Upload-Metadata key that carries it (docs/HTTP.md).
inline constexpr std::string_view kMetaKey = "meta";

// The longest metadata text an upload could carry: a tus value of at most
// kMaxMetadataValueBytes (core/http_headers.h) whose pair "meta <base64>" fits, alone, in an
// Upload-Metadata header of `max_metadata_bytes`. A replacement may be as large, no larger.
[[nodiscard]] std::size_t max_meta_chars(std::size_t max_metadata_bytes);

// Why `meta` cannot be a file's encrypted metadata, in one sentence, or nullopt when it can:
// base64url without padding, at most max_meta_chars(max_metadata_bytes) characters, decoding
// to an RFC 8188 header and at least one record. The server cannot check more: the plaintext
// is sealed with a key it never sees.
[[nodiscard]] std::optional<std::string> meta_problem(std::string_view meta,
                                                      std::size_t max_metadata_bytes);

}  // namespace satload::files
