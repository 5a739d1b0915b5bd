// Pins down the secp256k1 key layer: the private key range (0 and n refused, 1 and n-1
// accepted), public key parsing (only compressed points on the curve), signatures that are
// deterministic (RFC 6979), low-S, strict DER and verified only by the right key for the right
// digest, and the BIP32 tweaks refusing out-of-range tweaks.
#include "chain/keys.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace satload::chain {
namespace {

using test::hex;
using test::unhex;

constexpr std::string_view kOrder =
    "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141";
constexpr std::string_view kOrderMinusOne =
    "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140";

// 1..n-1 are keys; 0, n and wrong sizes are not. Key 1's public key is the generator G.
TEST(PrivateKey, Range) {
    EXPECT_FALSE(PrivateKey::from_bytes(Bytes(32, 0)).has_value());
    EXPECT_FALSE(PrivateKey::from_bytes(unhex(kOrder)).has_value());
    EXPECT_FALSE(PrivateKey::from_bytes(Bytes(31, 1)).has_value());
    EXPECT_FALSE(PrivateKey::from_bytes(Bytes(33, 1)).has_value());
    EXPECT_TRUE(PrivateKey::from_bytes(unhex(kOrderMinusOne)).has_value());
    Bytes one(32, 0);
    one[31] = 1;
    const auto key = PrivateKey::from_bytes(one);
    ASSERT_TRUE(key.has_value());
    EXPECT_EQ(hex(key->public_key().bytes()),
              "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798");
}

// Only 33-byte compressed encodings of curve points parse.
TEST(PublicKey, Parse) {
    const Bytes g = unhex("0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798");
    EXPECT_TRUE(PublicKey::parse(g).has_value());
    Bytes bad_prefix = g;
    bad_prefix[0] = 0x04;
    EXPECT_FALSE(PublicKey::parse(bad_prefix).has_value());
    bad_prefix[0] = 0x05;
    EXPECT_FALSE(PublicKey::parse(bad_prefix).has_value());
    EXPECT_FALSE(PublicKey::parse(ByteSpan(g).first(32)).has_value());
    // x = 7 is not on the curve (BIP32 vector 5).
    EXPECT_FALSE(PublicKey::parse(
                     unhex("020000000000000000000000000000000000000000000000000000000000000007"))
                     .has_value());
    // The uncompressed form of G is refused (BIP143: version 0 witnesses take compressed keys).
    EXPECT_FALSE(PublicKey::parse(unhex("0479be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b"
                                        "16f81798483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c"
                                        "47d08ffb10d4b8"))
                     .has_value());
}

// Same key and digest, same signature; it is low-S strict DER; it verifies for its key and
// digest only; a flipped byte anywhere breaks it.
TEST(PrivateKey, SignaturesAreDeterministicLowSAndChecked) {
    const auto key = PrivateKey::from_bytes(unhex(kOrderMinusOne)).value();
    const auto other = PrivateKey::from_bytes(Bytes(32, 0x42)).value();
    Hash256 digest{};
    digest.fill(0x5a);
    const Bytes sig = key.sign_der(digest);
    EXPECT_EQ(sig, key.sign_der(digest));
    ASSERT_GE(sig.size(), 8u);
    EXPECT_LE(sig.size(), kMaxDerSignatureBytes);
    EXPECT_EQ(sig[0], 0x30);
    EXPECT_EQ(sig[1], sig.size() - 2);
    // S is the last integer; low S means its top bit, after any 0x00 pad, is below 0x80 and
    // the value is at most n/2 (the first byte of a 32-byte S is at most 0x7f).
    const std::size_t r_len = sig[3];
    const std::size_t s_len = sig[4 + r_len + 1];
    EXPECT_LE(s_len, 32u);
    EXPECT_LT(sig[4 + r_len + 2], 0x80);
    EXPECT_TRUE(key.public_key().verify(digest, sig));
    EXPECT_FALSE(other.public_key().verify(digest, sig));
    Hash256 changed = digest;
    changed[0] ^= 1;
    EXPECT_FALSE(key.public_key().verify(changed, sig));
    for (std::size_t i = 0; i < sig.size(); ++i) {
        Bytes flipped = sig;
        flipped[i] ^= 0x01;
        EXPECT_FALSE(key.public_key().verify(digest, flipped)) << i;
    }
    EXPECT_FALSE(key.public_key().verify(digest, {}));
    EXPECT_NE(sig, other.sign_der(digest));
}

// Tweaks: a tweak of n is refused; a tweak that lands on zero (n - k) is refused for private
// keys and gives infinity for public keys; an ordinary tweak moves both halves alike.
TEST(Keys, TweakAdd) {
    const auto key = PrivateKey::from_bytes(Bytes(32, 0x11)).value();
    std::array<std::uint8_t, 32> n{};
    const Bytes order = unhex(kOrder);
    std::copy(order.begin(), order.end(), n.begin());
    EXPECT_FALSE(key.tweak_add(n).has_value());
    EXPECT_FALSE(key.public_key().tweak_add(n).has_value());

    // n - k: the sum is zero.
    std::array<std::uint8_t, 32> neg{};
    int borrow = 0;
    for (int i = 31; i >= 0; --i) {
        int d = n[static_cast<std::size_t>(i)] - key.bytes()[static_cast<std::size_t>(i)] - borrow;
        borrow = d < 0 ? 1 : 0;
        neg[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(d + (borrow ? 256 : 0));
    }
    EXPECT_FALSE(key.tweak_add(neg).has_value());
    EXPECT_FALSE(key.public_key().tweak_add(neg).has_value());

    std::array<std::uint8_t, 32> t{};
    t[31] = 5;
    const auto moved = key.tweak_add(t);
    ASSERT_TRUE(moved.has_value());
    EXPECT_EQ(moved->public_key(), key.public_key().tweak_add(t).value());
}

// WIF: the key of 1 on main and test (well-known encodings), and the constant-time equality.
TEST(PrivateKey, WifAndEquality) {
    Bytes one(32, 0);
    one[31] = 1;
    const auto key = PrivateKey::from_bytes(one).value();
    EXPECT_EQ(encode_wif(network_params(Network::main), key),
              "KwDiBf89QgGbjEhKnhXJuH7LrciVrZi3qYjgd9M7rFU73sVHnoWn");
    EXPECT_EQ(encode_wif(network_params(Network::test), key),
              "cMahea7zqjxrtgAbB7LSGbcQUr1uX1ojuat9jZodMN87JcbXMTcA");
    const auto same = PrivateKey::from_bytes(one).value();
    EXPECT_TRUE(key == same);
    EXPECT_FALSE(key == PrivateKey::from_bytes(Bytes(32, 2)).value());
}

}  // namespace
}  // namespace satload::chain
