// Segwit addresses (BIP173 bech32 for version 0, BIP350 bech32m for versions 1 to 16) and the
// output scripts they stand for; BIP84's P2WPKH address of a public key.
//
// Decoding follows BIP350's reference order, so each refusal gets the reason its test
// vectors give: the text, the human-readable part, the version, the program bytes and their
// length, and only then whether the checksum variant fits the version.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "chain/bech32.h"
#include "chain/hashes.h"
#include "chain/network.h"
#include "core/encoding.h"
#include "core/result.h"

namespace satload::chain {

class PublicKey;

inline constexpr std::uint8_t kMaxWitnessVersion = 16;
inline constexpr std::size_t kMinWitnessProgramBytes = 2;
inline constexpr std::size_t kMaxWitnessProgramBytes = 40;
inline constexpr std::size_t kP2wpkhProgramBytes = 20;
inline constexpr std::size_t kP2wshProgramBytes = 32;

enum class AddressError {
    // The bech32 text itself (see Bech32Error).
    too_long,
    character_out_of_range,
    mixed_case,
    no_separator,
    empty_hrp,
    bad_character,
    checksum_too_short,
    bad_checksum,
    // The segwit layer.
    unknown_hrp,             // not the prefix of any network we know
    wrong_network,           // a valid prefix of another network (a mainnet address on regtest)
    empty_data,              // no witness version
    bad_witness_version,     // above 16
    bad_padding,             // more than 4 padding bits, or non-zero padding (8-to-5)
    bad_program_length,      // fewer than 2 or more than 40 bytes
    bad_v0_program_length,   // version 0 with a program neither 20 nor 32 bytes (BIP141)
    wrong_checksum_variant,  // bech32m for version 0, or bech32 for versions 1 to 16
};

[[nodiscard]] std::string_view address_error_name(AddressError e);
// One clear sentence for users.
[[nodiscard]] std::string_view address_error_message(AddressError e);

struct WitnessProgram {
    std::uint8_t version = 0;
    Bytes program;
    bool operator==(const WitnessProgram&) const = default;
};

// Decodes an address of this network. Upper-case addresses (as QR codes carry) are accepted.
[[nodiscard]] Result<WitnessProgram, AddressError> decode_segwit_address(
    const NetworkParams& network, std::string_view text);
// Decodes for whichever network the prefix names (for tools and fuzzing).
struct AnyNetworkAddress {
    Network network = Network::main;
    WitnessProgram program;
};
[[nodiscard]] Result<AnyNetworkAddress, AddressError> decode_segwit_address_any(
    std::string_view text);

// Lowercase; version 0 in bech32, 1..16 in bech32m. The program must be valid for its version
// (a programmer error otherwise).
[[nodiscard]] std::string encode_segwit_address(const NetworkParams& network,
                                                const WitnessProgram& program);

// BIP84: P2WPKH, the version 0 program HASH160(compressed public key).
[[nodiscard]] WitnessProgram p2wpkh_program(const PublicKey& key);
[[nodiscard]] std::string p2wpkh_address(const NetworkParams& network, const PublicKey& key);

// scriptPubKey = OP_n (0x00, or 0x51..0x60) then one push of the program.
[[nodiscard]] Bytes witness_script_pubkey(const WitnessProgram& program);
// The witness program of a scriptPubKey, if it is one (BIP141's definition) that an address
// can name (so not version 0 with a program neither 20 nor 32 bytes).
[[nodiscard]] std::optional<WitnessProgram> witness_program_of(ByteSpan script_pubkey);
// The BIP143 scriptCode of a P2WPKH input: OP_DUP OP_HASH160 <20 bytes> OP_EQUALVERIFY
// OP_CHECKSIG, as in P2PKH.
[[nodiscard]] Bytes p2wpkh_script_code(const Hash160& key_hash);

}  // namespace satload::chain
