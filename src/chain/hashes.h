// The hash functions bitcoin is built from: double SHA-256 (txids, block hashes, base58check),
// RIPEMD-160 and HASH160 (key hashes in addresses), HMAC-SHA512 (BIP32), PBKDF2-HMAC-SHA512
// (BIP39), all on OpenSSL 3. Also the display form of 256-bit hashes (byte-reversed hex).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/encoding.h"

namespace satload::chain {

// A double SHA-256 in internal byte order (the order it is serialized in).
using Hash256 = std::array<std::uint8_t, 32>;
using Hash160 = std::array<std::uint8_t, 20>;
using Sha512Digest = std::array<std::uint8_t, 64>;

[[nodiscard]] Hash256 sha256d(ByteSpan data);
[[nodiscard]] Hash160 ripemd160(ByteSpan data);
// RIPEMD-160(SHA-256(data)): the key hash of P2WPKH and the BIP32 fingerprint.
[[nodiscard]] Hash160 hash160(ByteSpan data);
[[nodiscard]] Sha512Digest hmac_sha512(ByteSpan key, ByteSpan data);
void pbkdf2_hmac_sha512(ByteSpan password, ByteSpan salt, std::uint32_t iterations,
                        std::span<std::uint8_t> out);

// Which OpenSSL provider RIPEMD-160 came from: OpenSSL 3.0.7 and later carry it in the default
// provider; earlier 3.0 releases only in the legacy one, which we then load into a private
// library context (so the rest of the process keeps the default provider set).
enum class Ripemd160Source { default_provider, legacy_provider };
[[nodiscard]] Ripemd160Source ripemd160_source();
// RIPEMD-160 through the legacy provider even when the default one has it, so a test can
// check that fallback path on any OpenSSL 3 (returns nullopt if the legacy provider is absent).
[[nodiscard]] std::optional<Hash160> ripemd160_via_legacy_provider(ByteSpan data);

// Hashes are shown (txids, block hashes, RPC arguments) as hex of the reversed bytes.
[[nodiscard]] std::string hash_to_display_hex(const Hash256& hash);
// 64 hex digits in display order; anything else gives nullopt.
[[nodiscard]] std::optional<Hash256> hash_from_display_hex(std::string_view text);

}  // namespace satload::chain
