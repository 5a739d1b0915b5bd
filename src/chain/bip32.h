// BIP32 hierarchical deterministic keys: the master key of a seed, private and public child
// derivation (hardened and not), derivation paths ("m/84'/0'/0'/0/5"), and the base58check
// serialization (xprv/xpub, tprv/tpub, and BIP84's zprv/zpub, vprv/vpub) with every BIP32
// test-vector-5 refusal named.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chain/keys.h"
#include "chain/network.h"
#include "core/encoding.h"
#include "core/result.h"

namespace satload::chain {

inline constexpr std::uint32_t kHardenedBit = 0x80000000u;
// BIP32 allows seeds of 128 to 512 bits.
inline constexpr std::size_t kMinSeedBytes = 16;
inline constexpr std::size_t kMaxSeedBytes = 64;
// The depth is one byte in the serialization.
inline constexpr std::size_t kMaxPathDepth = 255;
// Longest path text we look at: 255 levels of "/2147483647'".
inline constexpr std::size_t kMaxPathChars = 2 + kMaxPathDepth * 12;
inline constexpr std::size_t kExtendedKeyBytes = 78;
inline constexpr std::size_t kChainCodeBytes = 32;

using ChainCode = std::array<std::uint8_t, kChainCodeBytes>;

enum class Bip32Error {
    // Derivation.
    bad_seed_length,       // seed not 16..64 bytes
    invalid_master_key,    // the seed's I_L is 0 or not below n (probability below 2^-127)
    invalid_child,         // this index gives no key (probability below 2^-127): use the next
    hardened_from_public,  // a hardened child needs the private key
    too_deep,              // beyond depth 255
    // Serialization (base58check layer).
    bad_base58,       // empty, too long, or a character outside the alphabet
    bad_checksum,     // base58check checksum mismatch
    bad_length,       // not 78 bytes
    unknown_version,  // none of the versions of network.h
    // Serialization (key data), in BIP32 test vector 5's words.
    public_version_with_private_key,  // "pubkey version / prvkey mismatch"
    private_version_with_public_key,  // "prvkey version / pubkey mismatch"
    bad_private_key_prefix,           // "invalid prvkey prefix": not 0x00
    private_key_out_of_range,         // "private key 0 not in 1..n-1" (or n)
    bad_public_key,                   // "invalid pubkey prefix" or a point not on the curve
    zero_depth_with_parent,           // "zero depth with non-zero parent fingerprint"
    zero_depth_with_index,            // "zero depth with non-zero index"
};

[[nodiscard]] std::string_view bip32_error_name(Bip32Error e);

struct ExtendedKey {
    std::uint8_t depth = 0;
    std::uint32_t parent_fingerprint = 0;
    std::uint32_t child_number = 0;  // with kHardenedBit for hardened children
    ChainCode chain_code{};
    PublicKey public_key;
    std::optional<PrivateKey> private_key;  // absent in an extended public key

    explicit ExtendedKey(const PublicKey& key) : public_key(key) {}
    ExtendedKey(const ExtendedKey&) = default;
    ExtendedKey& operator=(const ExtendedKey&) = default;
    ~ExtendedKey();  // wipes the chain code (the private key wipes itself)

    [[nodiscard]] bool is_private() const { return private_key.has_value(); }
    // First 4 bytes of HASH160(public key), big-endian: the children's parent_fingerprint.
    [[nodiscard]] std::uint32_t fingerprint() const;
    // The same node without its private key.
    [[nodiscard]] ExtendedKey neutered() const;
};

[[nodiscard]] Result<ExtendedKey, Bip32Error> master_key_from_seed(ByteSpan seed);
// CKDpriv for a private key, CKDpub for a public one.
[[nodiscard]] Result<ExtendedKey, Bip32Error> derive_child(const ExtendedKey& parent,
                                                           std::uint32_t index);

// Child numbers from the master key, hardened ones with kHardenedBit.
using DerivationPath = std::vector<std::uint32_t>;

enum class PathError {
    empty,            // ""
    too_long,         // more than kMaxPathChars
    missing_root,     // does not start with "m"
    empty_component,  // "m//0", "m/0/", "m/"
    not_a_number,     // "m/x", "m/ 1", "m/-1", "m/1''"
    leading_zero,     // "m/01": one index, one spelling
    index_too_large,  // 2^31 or more before the hardened mark
    too_deep,         // more than kMaxPathDepth levels
};

[[nodiscard]] std::string_view path_error_name(PathError e);

// "m", or "m/" then components separated by '/', each a decimal below 2^31 optionally
// followed by ' or h (hardened).
[[nodiscard]] Result<DerivationPath, PathError> parse_path(std::string_view text);
// Hardened components are written with '.
[[nodiscard]] std::string format_path(const DerivationPath& path);
[[nodiscard]] Result<ExtendedKey, Bip32Error> derive_path(const ExtendedKey& root,
                                                          const DerivationPath& path);

// BIP84 paths: m/84'/coin'/account' and m/84'/coin'/account'/change/index.
[[nodiscard]] DerivationPath bip84_account_path(const NetworkParams& network,
                                                std::uint32_t account);
[[nodiscard]] DerivationPath bip84_path(const NetworkParams& network, std::uint32_t account,
                                        std::uint32_t change, std::uint32_t index);

// Base58check text with the given versions: the private form needs a private key.
[[nodiscard]] std::string encode_extended_private(const ExtendedKey& key,
                                                  const ExtendedKeyVersions& versions);
[[nodiscard]] std::string encode_extended_public(const ExtendedKey& key,
                                                 const ExtendedKeyVersions& versions);

struct DecodedExtendedKey {
    ExtendedKey key;
    Network network = Network::main;  // test also stands for regtest: they share versions
    bool bip84 = false;               // zprv/zpub/vprv/vpub rather than xprv/xpub/tprv/tpub
};
// Any of the versions in network.h.
[[nodiscard]] Result<DecodedExtendedKey, Bip32Error> decode_extended_key(std::string_view text);

}  // namespace satload::chain
