// secp256k1 keys and ECDSA over libsecp256k1: private keys (wiped on destruction), compressed
// public keys, the BIP32 tweaks, DER signatures with RFC 6979 nonces, and WIF text.
//
// Signing calls secp256k1_ecdsa_sign with the default nonce function (RFC 6979) and no extra
// entropy, and never grinds for a low R value, so a signature is a function of key and digest
// alone and equals what bitcoinjs-lib (tiny-secp256k1) produces byte for byte. libsecp256k1
// always returns low-S signatures, which is what relay policy (BIP146) requires.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "chain/hashes.h"
#include "chain/network.h"
#include "core/encoding.h"

namespace satload::chain {

inline constexpr std::size_t kPrivateKeyBytes = 32;
inline constexpr std::size_t kCompressedPublicKeyBytes = 33;
// A DER ECDSA signature is at most 72 bytes (two 33-byte integers and 6 bytes of framing).
inline constexpr std::size_t kMaxDerSignatureBytes = 72;

class PublicKey {
public:
    using Bytes33 = std::array<std::uint8_t, kCompressedPublicKeyBytes>;

    // A 33-byte compressed point on the curve (0x02/0x03 prefix); nullopt otherwise.
    [[nodiscard]] static std::optional<PublicKey> parse(ByteSpan bytes);

    [[nodiscard]] const Bytes33& bytes() const { return m_bytes; }
    // BIP32: point + tweak*G; nullopt if the tweak is not below the curve order or the sum is
    // the point at infinity.
    [[nodiscard]] std::optional<PublicKey> tweak_add(
        const std::array<std::uint8_t, 32>& tweak) const;
    // A DER signature (strict DER, low S or not) of a 32-byte digest by this key.
    [[nodiscard]] bool verify(const Hash256& digest, ByteSpan der_signature) const;

    bool operator==(const PublicKey&) const = default;

private:
    friend class PrivateKey;
    explicit PublicKey(const Bytes33& bytes) : m_bytes(bytes) {}
    Bytes33 m_bytes{};
};

class PrivateKey {
public:
    using Bytes32 = std::array<std::uint8_t, kPrivateKeyBytes>;

    // 32 bytes forming a number in 1..n-1; nullopt otherwise.
    [[nodiscard]] static std::optional<PrivateKey> from_bytes(ByteSpan bytes);

    PrivateKey(const PrivateKey&) = default;
    PrivateKey& operator=(const PrivateKey&) = default;
    ~PrivateKey();

    [[nodiscard]] const Bytes32& bytes() const { return m_bytes; }
    [[nodiscard]] PublicKey public_key() const;
    // BIP32: (key + tweak) mod n; nullopt if the tweak is not below n or the sum is zero.
    [[nodiscard]] std::optional<PrivateKey> tweak_add(
        const std::array<std::uint8_t, 32>& tweak) const;
    // ECDSA over a 32-byte digest, RFC 6979 nonce, no extra entropy, low S, DER-encoded.
    [[nodiscard]] Bytes sign_der(const Hash256& digest) const;

    // Constant time.
    [[nodiscard]] bool operator==(const PrivateKey& other) const;

private:
    explicit PrivateKey(const Bytes32& bytes) : m_bytes(bytes) {}
    Bytes32 m_bytes{};
};

// Wallet Import Format of a key whose public key is used compressed (as every BIP84 key is):
// base58check(prefix || key || 0x01).
[[nodiscard]] std::string encode_wif(const NetworkParams& network, const PrivateKey& key);

}  // namespace satload::chain
