// Bech32 (BIP173) and Bech32m (BIP350): the checksummed base-32 text of segwit addresses.
// This is the generic layer (human-readable part + 5-bit data); address.h turns it into
// witness programs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/encoding.h"
#include "core/result.h"

namespace satload::chain {

// BIP173: a whole string is at most 90 characters, a checksum is 6 characters, and HRP
// characters are US-ASCII 33..126.
inline constexpr std::size_t kMaxBech32Chars = 90;
inline constexpr std::size_t kBech32ChecksumChars = 6;

enum class Bech32Encoding { bech32, bech32m };

enum class Bech32Error {
    too_long,                // more than kMaxBech32Chars
    character_out_of_range,  // a character outside US-ASCII 33..126
    mixed_case,              // upper and lower case letters together
    no_separator,            // no '1'
    empty_hrp,               // the last '1' is the first character
    bad_character,           // a data or checksum character outside the bech32 alphabet
    checksum_too_short,      // fewer than 6 characters after the separator
    bad_checksum,            // neither the bech32 nor the bech32m constant
};

[[nodiscard]] std::string_view bech32_error_name(Bech32Error e);

struct Bech32Decoded {
    Bech32Encoding encoding = Bech32Encoding::bech32;
    std::string hrp;                 // lowercase
    std::vector<std::uint8_t> data;  // 5-bit values, checksum removed
};

// Lowercase output. The HRP must be 1..83 valid lowercase characters and the result at most
// kMaxBech32Chars; data values must be < 32 (programmer errors).
[[nodiscard]] std::string bech32_encode(std::string_view hrp, std::span<const std::uint8_t> data,
                                        Bech32Encoding encoding);
// Accepts all-lowercase or all-uppercase text with a valid bech32 or bech32m checksum.
[[nodiscard]] Result<Bech32Decoded, Bech32Error> bech32_decode(std::string_view text);

// Regroups bits (8 to 5 or 5 to 8). With pad, a final partial group is zero-padded; without,
// it must be shorter than `from_bits` and all zero, else nullopt (BIP173's padding rule).
[[nodiscard]] std::optional<std::vector<std::uint8_t>> convert_bits(
    std::span<const std::uint8_t> in, int from_bits, int to_bits, bool pad);

}  // namespace satload::chain
