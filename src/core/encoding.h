// Text encodings of bytes: hex, base64 and base64url (RFC 4648). Decoders reject anything
// that is not canonical, so one byte string has exactly one accepted text form.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace satload {

using Bytes = std::vector<std::uint8_t>;
using ByteSpan = std::span<const std::uint8_t>;

[[nodiscard]] ByteSpan as_bytes(std::string_view s);
[[nodiscard]] std::string_view as_chars(ByteSpan b);

[[nodiscard]] std::string hex_encode(ByteSpan bytes);
// Lowercase or uppercase accepted; odd length or a non-hex digit gives nullopt.
[[nodiscard]] std::optional<Bytes> hex_decode(std::string_view text);

// Base64url without padding (the form used in links and ids).
[[nodiscard]] std::string base64url_encode(ByteSpan bytes);
// Refuses padding, the standard alphabet's '+' and '/', and non-zero trailing bits.
[[nodiscard]] std::optional<Bytes> base64url_decode(std::string_view text);

// Standard base64 with padding (RFC 4648 section 4), as used in some HTTP headers.
[[nodiscard]] std::string base64_encode(ByteSpan bytes);
[[nodiscard]] std::optional<Bytes> base64_decode(std::string_view text);

}  // namespace satload
