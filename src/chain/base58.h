// Base58 and Base58Check (the text form of extended keys and WIF private keys).
//
// Written by hand: Debian 12 packages no C or C++ base58 library (only Perl, Python and Rust
// ones), and the codec is a few dozen lines over the SHA-256 we already have. Inputs are
// bounded (kMaxBase58Chars), so the quadratic base conversion stays cheap.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/encoding.h"
#include "core/result.h"

namespace satload::chain {

// The longest text we decode: extended keys are 111 characters, WIF keys 52.
inline constexpr std::size_t kMaxBase58Chars = 128;
inline constexpr std::size_t kBase58CheckBytes = 4;

enum class Base58Error {
    empty,          // ""
    too_long,       // more than kMaxBase58Chars
    bad_character,  // not in the alphabet (0, O, I, l, whitespace, anything non-ASCII)
    too_short,      // Base58Check: fewer than the 4 checksum bytes
    bad_checksum,   // Base58Check: the last 4 bytes are not SHA-256d(payload)[0..4]
};

[[nodiscard]] std::string_view base58_error_name(Base58Error e);

[[nodiscard]] std::string base58_encode(ByteSpan bytes);
[[nodiscard]] Result<Bytes, Base58Error> base58_decode(std::string_view text);

// payload || SHA-256d(payload)[0..4], base58-encoded.
[[nodiscard]] std::string base58check_encode(ByteSpan payload);
[[nodiscard]] Result<Bytes, Base58Error> base58check_decode(std::string_view text);

}  // namespace satload::chain
