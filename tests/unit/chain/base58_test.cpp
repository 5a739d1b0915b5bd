// Pins down base58 against Bitcoin Core's base58 vectors (leading zeros included), and
// base58check's refusals: bad characters, over-long text, short data, flipped checksums.
#include "chain/base58.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace satload::chain {
namespace {

using test::hex;
using test::unhex;

struct Vector {
    std::string_view hex;
    std::string_view text;
};

// Bitcoin Core's src/test/data/base58_encode_decode.json.
constexpr Vector kVectors[] = {
    {"61", "2g"},
    {"626262", "a3gV"},
    {"636363", "aPEr"},
    {"73696d706c792061206c6f6e6720737472696e67", "2cFupjhnEsSn59qHXstmK2ffpLv2"},
    {"00eb15231dfceb60925886b67d065299925915aeb172c06647", "1NS17iag9jJgTHD1VXjvLCEnZuQ3rJDE9L"},
    {"516b6fcd0f", "ABnLTmg"},
    {"bf4f89001e670274dd", "3SEo3LWLoPntC"},
    {"572e4794", "3EFU7m"},
    {"ecac89cad93923c02321", "EJDM8drfXA6uyA"},
    {"10c8511e", "Rt5zm"},
    {"00000000000000000000", "1111111111"},
};

// Encoding gives the published text and decoding gives the bytes back.
TEST(Base58, CoreVectorsBothWays) {
    for (const auto& v : kVectors) {
        EXPECT_EQ(base58_encode(unhex(v.hex)), v.text) << v.hex;
        const auto back = base58_decode(v.text);
        ASSERT_TRUE(back.has_value()) << v.text;
        EXPECT_EQ(hex(*back), v.hex);
    }
    EXPECT_EQ(base58_encode({}), "");
}

// Characters outside the alphabet (0 O I l, spaces, non-ASCII) and over-long input are refused.
TEST(Base58, Refusals) {
    EXPECT_EQ(base58_decode("").error(), Base58Error::empty);
    for (const std::string_view bad : {"0", "O", "I", "l", "2g ", " 2g", "2g\n", "\xc3\xa9"}) {
        EXPECT_EQ(base58_decode(bad).error(), Base58Error::bad_character) << bad;
    }
    EXPECT_EQ(base58_decode(std::string(kMaxBase58Chars + 1, '2')).error(), Base58Error::too_long);
    EXPECT_TRUE(base58_decode(std::string(kMaxBase58Chars, '2')).has_value());
}

// Base58Check appends SHA-256d's first four bytes: the genesis block's P2PKH address decodes
// to version 0 and its key hash; every single-character change and a truncation are caught.
TEST(Base58Check, ChecksumCatchesChanges) {
    const std::string address = "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa";
    const auto payload = base58check_decode(address);
    ASSERT_TRUE(payload.has_value());
    EXPECT_EQ(hex(*payload), "0062e907b15cbf27d5425399ebf6f0fb50ebb88f18");
    EXPECT_EQ(base58check_encode(*payload), address);

    for (std::size_t i = 1; i < address.size(); ++i) {
        std::string changed = address;
        changed[i] = changed[i] == 'z' ? 'y' : 'z';
        EXPECT_EQ(base58check_decode(changed).error(), Base58Error::bad_checksum) << i;
    }
    EXPECT_EQ(base58check_decode("2g").error(), Base58Error::too_short);
    EXPECT_EQ(base58check_decode(address.substr(0, address.size() - 1)).error(),
              Base58Error::bad_checksum);
}

}  // namespace
}  // namespace satload::chain
