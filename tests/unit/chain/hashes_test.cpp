// Pins down the hash layer against published vectors: RIPEMD-160 (the algorithm's own test
// suite), through the default provider and through the legacy provider, HASH160 and SHA-256d
// (from BIP143's worked example), HMAC-SHA512 (RFC 4231), and the byte-reversed display form
// of hashes (the genesis block's hash).
#include "chain/hashes.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace satload::chain {
namespace {

using test::hex;
using test::unhex;

struct RipemdVector {
    std::string_view message;
    std::string_view digest;
};

// From the RIPEMD-160 page of its authors (Dobbertin, Bosselaers, Preneel).
constexpr RipemdVector kRipemdVectors[] = {
    {"", "9c1185a5c5e9fc54612808977ee8f548b2258d31"},
    {"a", "0bdc9d2d256b3ee9daae347be6f4dc835a467ffe"},
    {"abc", "8eb208f7e05d987a9b044a8e98c6b087f15a0bfc"},
    {"message digest", "5d0689ef49d2fae572b881b123a85ffa21595f36"},
    {"abcdefghijklmnopqrstuvwxyz", "f71c27109c692c1b56bbdceb5b9d2865b3708dbc"},
};

// RIPEMD-160 gives the published digests, whichever provider the process uses.
TEST(Ripemd160, PublishedVectors) {
    for (const auto& v : kRipemdVectors) {
        EXPECT_EQ(hex(ripemd160(as_bytes(v.message))), v.digest) << v.message;
    }
}

// The legacy-provider path (needed on OpenSSL before 3.0.7) gives the same digests, so the
// fallback is known to work wherever it is taken. Debian 12's OpenSSL has both providers.
TEST(Ripemd160, LegacyProviderPathAgrees) {
    for (const auto& v : kRipemdVectors) {
        const auto digest = ripemd160_via_legacy_provider(as_bytes(v.message));
        ASSERT_TRUE(digest.has_value()) << "the legacy provider is not installed";
        EXPECT_EQ(hex(*digest), v.digest) << v.message;
    }
    // On this OpenSSL (3.0.7 or later) the default provider serves it.
    EXPECT_EQ(ripemd160_source(), Ripemd160Source::default_provider);
}

// HASH160 of BIP143's P2WPKH public key is the program of its scriptPubKey (0014...).
TEST(Hash160, Bip143KeyHash) {
    const Bytes pub = unhex("025476c2e83188368da1ff3e292e7acafcdb3566bb0ad253f62fc70f07aeee6357");
    EXPECT_EQ(hex(hash160(pub)), "1d0f172a0ecb48aee1be1f2687d2963ae33f71a1");
}

// SHA-256d of BIP143's hashSequence and hashPrevouts preimages.
TEST(Sha256d, Bip143Intermediates) {
    EXPECT_EQ(hex(sha256d(unhex("eeffffffffffffff"))),
              "52b0a642eea2fb7ae638c36f6252b6750293dbe574a806984b8e4d8548339a3b");
    EXPECT_EQ(hex(sha256d(unhex("fff7f7881a8099afa6940d42d1e7f6362bec38171ea3edf433541db4e4ad969f"
                                "00000000ef51e1b804cc89d182d279655c3aa89e815b1b309fe287d9b2b55d57"
                                "b90ec68a01000000"))),
              "96b827c8483d4e9b96712b6713a7b68d6e8003a781feba36c31143470b4efd37");
}

// RFC 4231 test case 2 (short key) and test case 6 (key longer than the block).
TEST(HmacSha512, Rfc4231) {
    EXPECT_EQ(hex(hmac_sha512(as_bytes("Jefe"), as_bytes("what do ya want for nothing?"))),
              "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
              "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737");
    const Bytes key(131, 0xaa);
    EXPECT_EQ(
        hex(hmac_sha512(key, as_bytes("Test Using Larger Than Block-Size Key - Hash Key First"))),
        "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352"
        "6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598");
}

// Hashes are displayed reversed: the genesis block's header hashes to the familiar
// 000000000019d6...; parsing the display form gives the internal bytes back; anything but 64
// hex digits is refused.
TEST(DisplayHex, GenesisAndRefusals) {
    const Bytes header = unhex(
        "0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd7a7b12b2"
        "7ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c");
    const Hash256 h = sha256d(header);
    EXPECT_EQ(hash_to_display_hex(h),
              "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f");
    const auto back = hash_from_display_hex(hash_to_display_hex(h));
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(*back, h);
    EXPECT_FALSE(hash_from_display_hex(""));
    EXPECT_FALSE(hash_from_display_hex(std::string(63, '0')));
    EXPECT_FALSE(hash_from_display_hex(std::string(66, '0')));
    EXPECT_FALSE(hash_from_display_hex(std::string(63, '0') + "g"));
}

}  // namespace
}  // namespace satload::chain
