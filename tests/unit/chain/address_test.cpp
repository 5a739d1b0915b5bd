// Pins down segwit addresses with BIP173's and BIP350's address vectors: every valid address
// gives its published scriptPubKey and re-encodes to itself; every invalid one is refused for
// its published reason; addresses of another network are refused as such (a mainnet address
// on regtest); BIP84's P2WPKH addresses come from their public keys.
#include "chain/address.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>

#include "chain/keys.h"
#include "test_util.h"

namespace satload::chain {
namespace {
// Named too: a unity build compiles this layer's test files as one translation unit.
namespace address_test {

using test::hex;
using test::unhex;

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

struct Valid {
    std::string_view address;
    std::string_view script_hex;
};

// BIP350's valid segwit addresses (BIP173's version 0 ones among them).
constexpr Valid kValid[] = {
    {"BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", "0014751e76e8199196d454941c45d1b3a323f1433bd6"},
    {"tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7",
     "00201863143c14c5166804bd19203356da136c985678cd4d27a1b8c6329604903262"},
    {"bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y",
     "5128751e76e8199196d454941c45d1b3a323f1433bd6751e76e8199196d454941c45d1b3a323f1433bd6"},
    {"BC1SW50QGDZ25J", "6002751e"},
    {"bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs", "5210751e76e8199196d454941c45d1b3a323"},
    {"tb1qqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesrxh6hy",
     "0020000000c4a5cad46221b2a187905e5266362b99d5e91c6ce24d165dab93e86433"},
    {"tb1pqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesf3hn0c",
     "5120000000c4a5cad46221b2a187905e5266362b99d5e91c6ce24d165dab93e86433"},
    {"bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
     "512079be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"},
};

// Each valid address decodes (for its own network) to the published scriptPubKey, which maps
// back to the same program, and encodes back to the address in lower case.
TEST(SegwitAddress, ValidVectors) {
    for (const auto& v : kValid) {
        const auto any = decode_segwit_address_any(v.address);
        ASSERT_TRUE(any.has_value()) << v.address << ": " << address_error_name(any.error());
        const NetworkParams& net = network_params(any->network);
        EXPECT_EQ(net.bech32_hrp, lower(v.address).substr(0, 2));
        const auto program = decode_segwit_address(net, v.address);
        ASSERT_TRUE(program.has_value()) << v.address;
        EXPECT_EQ(hex(witness_script_pubkey(*program)), v.script_hex) << v.address;
        const auto again = witness_program_of(unhex(v.script_hex));
        ASSERT_TRUE(again.has_value()) << v.address;
        EXPECT_EQ(*again, *program);
        EXPECT_EQ(encode_segwit_address(net, *program), lower(v.address));
    }
}

struct Invalid {
    std::string_view address;
    AddressError error;
};

// BIP350's invalid segwit addresses, each for its published reason.
TEST(SegwitAddress, Bip350InvalidVectors) {
    constexpr Invalid kCases[] = {
        {"tc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq5zuyut",
         AddressError::unknown_hrp},
        {"bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd",
         AddressError::wrong_checksum_variant},
        {"tb1z0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqglt7rf",
         AddressError::wrong_checksum_variant},
        {"BC1S0XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ54WELL",
         AddressError::wrong_checksum_variant},
        {"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh", AddressError::wrong_checksum_variant},
        {"tb1q0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq24jc47",
         AddressError::wrong_checksum_variant},
        {"bc1p38j9r5y49hruaue7wxjce0updqjuyyx0kh56v8s25huc6995vvpql3jow4",
         AddressError::bad_character},
        {"BC130XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ7ZWS8R",
         AddressError::bad_witness_version},
        {"bc1pw5dgrnzv", AddressError::bad_program_length},
        {"bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v8n0nx0muaewav253zgeav",
         AddressError::bad_program_length},
        {"BC1QR508D6QEJXTDG4Y5R3ZARVARYV98GJ9P", AddressError::bad_v0_program_length},
        {"tb1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq47Zagq",
         AddressError::mixed_case},
        {"bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v07qwwzcrf",
         AddressError::bad_padding},
        {"tb1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vpggkg4j",
         AddressError::bad_padding},
        {"bc1gmk9yu", AddressError::empty_data},
    };
    for (const auto& c : kCases) {
        const auto r = decode_segwit_address_any(c.address);
        ASSERT_FALSE(r.has_value()) << c.address;
        EXPECT_EQ(address_error_name(r.error()), address_error_name(c.error)) << c.address;
    }
}

// BIP173's invalid segwit addresses keep their reasons under BIP350's rules; its valid
// version 1+ addresses (bech32 checksums) are refused now: those need bech32m.
TEST(SegwitAddress, Bip173VectorsUnderBip350) {
    constexpr Invalid kCases[] = {
        {"tc1qw508d6qejxtdg4y5r3zarvary0c5xw7kg3g4ty", AddressError::unknown_hrp},
        {"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5", AddressError::bad_checksum},
        {"BC13W508D6QEJXTDG4Y5R3ZARVARY0C5XW7KN40WF2", AddressError::bad_witness_version},
        {"bc1rw5uspcuh", AddressError::bad_program_length},
        {"bc10w508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kw5rljs90",
         AddressError::bad_program_length},
        {"BC1QR508D6QEJXTDG4Y5R3ZARVARYV98GJ9P", AddressError::bad_v0_program_length},
        {"tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sL5k7",
         AddressError::mixed_case},
        {"bc1zw508d6qejxtdg4y5r3zarvaryvqyzf3du", AddressError::bad_padding},
        {"tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3pjxtptv",
         AddressError::bad_padding},
        {"bc1gmk9yu", AddressError::empty_data},
        // Valid in BIP173, version 1, 2 and 16 with bech32 checksums.
        {"bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7k7grplx",
         AddressError::wrong_checksum_variant},
        {"BC1SW50QA3JX3S", AddressError::wrong_checksum_variant},
        {"bc1zw508d6qejxtdg4y5r3zarvaryvg6kdaj", AddressError::wrong_checksum_variant},
    };
    for (const auto& c : kCases) {
        const auto r = decode_segwit_address_any(c.address);
        ASSERT_FALSE(r.has_value()) << c.address;
        EXPECT_EQ(address_error_name(r.error()), address_error_name(c.error)) << c.address;
    }
}

// A node's network decides which addresses it takes: a mainnet address on regtest and a
// testnet address on mainnet are wrong_network; bcrt addresses are regtest's (not tb, not rb).
TEST(SegwitAddress, NetworkIsChecked) {
    const NetworkParams& main = network_params(Network::main);
    const NetworkParams& test = network_params(Network::test);
    const NetworkParams& regtest = network_params(Network::regtest);
    const std::string_view mainnet = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4";
    EXPECT_TRUE(decode_segwit_address(main, mainnet).has_value());
    EXPECT_EQ(decode_segwit_address(regtest, mainnet).error(), AddressError::wrong_network);
    EXPECT_EQ(decode_segwit_address(test, mainnet).error(), AddressError::wrong_network);

    const WitnessProgram p{0, unhex("751e76e8199196d454941c45d1b3a323f1433bd6")};
    const std::string on_regtest = encode_segwit_address(regtest, p);
    EXPECT_EQ(on_regtest.substr(0, 5), "bcrt1");
    EXPECT_EQ(decode_segwit_address(regtest, on_regtest).value(), p);
    EXPECT_EQ(decode_segwit_address(test, on_regtest).error(), AddressError::wrong_network);
    // bcoin's own regtest prefix is not one of ours.
    const std::string bcoin_style =
        bech32_encode("rb", std::vector<std::uint8_t>{0, 1, 2, 3}, Bech32Encoding::bech32);
    EXPECT_EQ(decode_segwit_address(regtest, bcoin_style).error(), AddressError::unknown_hrp);
}

// BIP84's first receive address comes from its published public key; the scriptPubKey is
// 0014<HASH160>; the BIP143 scriptCode is the P2PKH script of the same hash.
TEST(SegwitAddress, P2wpkhFromPublicKey) {
    const auto pub = PublicKey::parse(
        unhex("0330d54fd0dd420a6e5f8d3624f5f3482cae350f79d5f0753bf5beef9c2d91af3c"));
    ASSERT_TRUE(pub.has_value());
    EXPECT_EQ(p2wpkh_address(network_params(Network::main), *pub),
              "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu");
    const WitnessProgram program = p2wpkh_program(*pub);
    EXPECT_EQ(program.version, 0);
    EXPECT_EQ(hex(witness_script_pubkey(program)), "0014" + hex(hash160(pub->bytes())));
    EXPECT_EQ(hex(p2wpkh_script_code(hash160(pub->bytes()))),
              "76a914" + hex(hash160(pub->bytes())) + "88ac");
}

// Scripts that are not witness programs: P2PKH, bare pushes, a wrong push length, OP_1NEGATE
// as a version, a version 0 program of 21 bytes.
TEST(SegwitAddress, NonWitnessScripts) {
    for (const std::string_view s : {
             "76a914751e76e8199196d454941c45d1b3a323f1433bd688ac",
             "0014751e76e8199196d454941c45d1b3a323f1433b",    // push says 20, 19 follow
             "4f14751e76e8199196d454941c45d1b3a323f1433bd6",  // OP_1NEGATE
             "0015751e76e8199196d454941c45d1b3a323f1433bd600",
             "5101ff",  // 1-byte program
             "",
         }) {
        EXPECT_FALSE(witness_program_of(unhex(s)).has_value()) << s;
    }
}

// Addresses longer than 90 characters never get as far as the checksum.
TEST(SegwitAddress, LengthLimit) {
    EXPECT_EQ(decode_segwit_address_any(std::string(91, 'q')).error(), AddressError::too_long);
}

}  // namespace address_test
}  // namespace
}  // namespace satload::chain
