// Segwit address decoding and encoding (BIP173, BIP350) and witness output scripts.
#include "chain/address.h"

#include "chain/keys.h"
#include "core/check.h"

namespace satload::chain {
namespace {

constexpr std::uint8_t kOp0 = 0x00;
constexpr std::uint8_t kOp1 = 0x51;
constexpr std::uint8_t kOp16 = 0x60;
constexpr std::uint8_t kOpDup = 0x76;
constexpr std::uint8_t kOpHash160 = 0xa9;
constexpr std::uint8_t kOpEqualVerify = 0x88;
constexpr std::uint8_t kOpCheckSig = 0xac;

AddressError from_bech32(Bech32Error e) {
    switch (e) {
        case Bech32Error::too_long:
            return AddressError::too_long;
        case Bech32Error::character_out_of_range:
            return AddressError::character_out_of_range;
        case Bech32Error::mixed_case:
            return AddressError::mixed_case;
        case Bech32Error::no_separator:
            return AddressError::no_separator;
        case Bech32Error::empty_hrp:
            return AddressError::empty_hrp;
        case Bech32Error::bad_character:
            return AddressError::bad_character;
        case Bech32Error::checksum_too_short:
            return AddressError::checksum_too_short;
        case Bech32Error::bad_checksum:
            return AddressError::bad_checksum;
    }
    SATLOAD_ASSERT(false);
    return AddressError::bad_checksum;
}

bool valid_program(std::uint8_t version, std::size_t size) {
    if (version > kMaxWitnessVersion) return false;
    if (size < kMinWitnessProgramBytes || size > kMaxWitnessProgramBytes) return false;
    return version != 0 || size == kP2wpkhProgramBytes || size == kP2wshProgramBytes;
}

// The segwit checks after the prefix, in BIP350's order.
Result<WitnessProgram, AddressError> program_of(const Bech32Decoded& d) {
    if (d.data.empty()) return fail(AddressError::empty_data);
    const std::uint8_t version = d.data[0];
    if (version > kMaxWitnessVersion) return fail(AddressError::bad_witness_version);
    auto program = convert_bits(std::span(d.data).subspan(1), 5, 8, false);
    if (!program) return fail(AddressError::bad_padding);
    if (program->size() < kMinWitnessProgramBytes || program->size() > kMaxWitnessProgramBytes) {
        return fail(AddressError::bad_program_length);
    }
    if (version == 0 && program->size() != kP2wpkhProgramBytes &&
        program->size() != kP2wshProgramBytes) {
        return fail(AddressError::bad_v0_program_length);
    }
    const Bech32Encoding wanted = version == 0 ? Bech32Encoding::bech32 : Bech32Encoding::bech32m;
    if (d.encoding != wanted) return fail(AddressError::wrong_checksum_variant);
    return WitnessProgram{version, std::move(*program)};
}

}  // namespace

std::string_view address_error_name(AddressError e) {
    switch (e) {
        case AddressError::too_long:
            return "too_long";
        case AddressError::character_out_of_range:
            return "character_out_of_range";
        case AddressError::mixed_case:
            return "mixed_case";
        case AddressError::no_separator:
            return "no_separator";
        case AddressError::empty_hrp:
            return "empty_hrp";
        case AddressError::bad_character:
            return "bad_character";
        case AddressError::checksum_too_short:
            return "checksum_too_short";
        case AddressError::bad_checksum:
            return "bad_checksum";
        case AddressError::unknown_hrp:
            return "unknown_hrp";
        case AddressError::wrong_network:
            return "wrong_network";
        case AddressError::empty_data:
            return "empty_data";
        case AddressError::bad_witness_version:
            return "bad_witness_version";
        case AddressError::bad_padding:
            return "bad_padding";
        case AddressError::bad_program_length:
            return "bad_program_length";
        case AddressError::bad_v0_program_length:
            return "bad_v0_program_length";
        case AddressError::wrong_checksum_variant:
            return "wrong_checksum_variant";
    }
    return "unknown";
}

std::string_view address_error_message(AddressError e) {
    switch (e) {
        case AddressError::too_long:
        case AddressError::character_out_of_range:
        case AddressError::mixed_case:
        case AddressError::no_separator:
        case AddressError::empty_hrp:
        case AddressError::bad_character:
        case AddressError::checksum_too_short:
            return "This is not a bitcoin address.";
        case AddressError::bad_checksum:
        case AddressError::wrong_checksum_variant:
            return "This address has a typo: its checksum does not match.";
        case AddressError::unknown_hrp:
            return "This is not a bitcoin address.";
        case AddressError::wrong_network:
            return "This address belongs to another bitcoin network than this server's.";
        case AddressError::empty_data:
        case AddressError::bad_witness_version:
        case AddressError::bad_padding:
        case AddressError::bad_program_length:
        case AddressError::bad_v0_program_length:
            return "This address is malformed.";
    }
    return "This address is malformed.";
}

Result<WitnessProgram, AddressError> decode_segwit_address(const NetworkParams& network,
                                                           std::string_view text) {
    auto decoded = bech32_decode(text);
    if (!decoded) return fail(from_bech32(decoded.error()));
    if (decoded->hrp != network.bech32_hrp) {
        return fail(network_for_hrp(decoded->hrp) ? AddressError::wrong_network
                                                  : AddressError::unknown_hrp);
    }
    return program_of(*decoded);
}

Result<AnyNetworkAddress, AddressError> decode_segwit_address_any(std::string_view text) {
    auto decoded = bech32_decode(text);
    if (!decoded) return fail(from_bech32(decoded.error()));
    const auto network = network_for_hrp(decoded->hrp);
    if (!network) return fail(AddressError::unknown_hrp);
    auto program = program_of(*decoded);
    if (!program) return fail(program.error());
    return AnyNetworkAddress{*network, std::move(*program)};
}

std::string encode_segwit_address(const NetworkParams& network, const WitnessProgram& program) {
    SATLOAD_ASSERT(valid_program(program.version, program.program.size()));
    std::vector<std::uint8_t> data{program.version};
    const auto five = convert_bits(program.program, 8, 5, true);
    SATLOAD_ASSERT(five.has_value());
    data.insert(data.end(), five->begin(), five->end());
    return bech32_encode(network.bech32_hrp, data,
                         program.version == 0 ? Bech32Encoding::bech32 : Bech32Encoding::bech32m);
}

WitnessProgram p2wpkh_program(const PublicKey& key) {
    const Hash160 h = hash160(key.bytes());
    return WitnessProgram{0, Bytes(h.begin(), h.end())};
}

std::string p2wpkh_address(const NetworkParams& network, const PublicKey& key) {
    return encode_segwit_address(network, p2wpkh_program(key));
}

Bytes witness_script_pubkey(const WitnessProgram& program) {
    SATLOAD_ASSERT(valid_program(program.version, program.program.size()));
    Bytes out;
    out.reserve(2 + program.program.size());
    out.push_back(program.version == 0 ? kOp0
                                       : static_cast<std::uint8_t>(kOp1 + program.version - 1));
    out.push_back(static_cast<std::uint8_t>(program.program.size()));
    out.insert(out.end(), program.program.begin(), program.program.end());
    return out;
}

std::optional<WitnessProgram> witness_program_of(ByteSpan script) {
    // BIP141: a version byte (OP_0, OP_1..OP_16) then one direct push of 2 to 40 bytes, and
    // nothing else.
    if (script.size() < 4 || script.size() > 42) return std::nullopt;
    const std::uint8_t op = script[0];
    if (op != kOp0 && (op < kOp1 || op > kOp16)) return std::nullopt;
    if (static_cast<std::size_t>(script[1]) + 2 != script.size()) return std::nullopt;
    const std::uint8_t version = op == kOp0 ? 0 : static_cast<std::uint8_t>(op - kOp1 + 1);
    if (!valid_program(version, script.size() - 2)) return std::nullopt;
    return WitnessProgram{version, Bytes(script.begin() + 2, script.end())};
}

Bytes p2wpkh_script_code(const Hash160& key_hash) {
    // Built by appending into reserved room: GCC 12's -Warray-bounds misreads an
    // initializer-list construction followed by insert at -O3.
    Bytes out;
    out.reserve(3 + key_hash.size() + 2);
    out.push_back(kOpDup);
    out.push_back(kOpHash160);
    out.push_back(static_cast<std::uint8_t>(key_hash.size()));
    out.insert(out.end(), key_hash.begin(), key_hash.end());
    out.push_back(kOpEqualVerify);
    out.push_back(kOpCheckSig);
    return out;
}

}  // namespace satload::chain
