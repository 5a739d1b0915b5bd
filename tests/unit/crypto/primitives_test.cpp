// Pins down the OpenSSL wrappers against published vectors: SHA-256 (FIPS 180-2 examples),
// HMAC-SHA256 (RFC 4231), HKDF-SHA256 (RFC 5869), plus wiping, comparison and randomness.
#include "crypto/primitives.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

namespace satload::crypto {
namespace {
// Named too: a unity build compiles this layer's test files as one translation unit.
namespace primitives_test {

std::string hex(ByteSpan b) {
    return hex_encode(b);
}

Bytes unhex(std::string_view text) {
    auto b = hex_decode(text);
    EXPECT_TRUE(b) << text;
    return b.value_or(Bytes{});
}

// The standard short messages give the published digests.
TEST(Sha256, PublishedVectors) {
    EXPECT_EQ(hex(sha256(as_bytes(""))),
              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(hex(sha256(as_bytes("abc"))),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(hex(sha256(as_bytes("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

// assign() takes another hash's state: the copy goes on from the same prefix ("abc" in two
// ways), and the original is left as it was.
TEST(Sha256, AssignContinuesFromTheSamePrefix) {
    Sha256 original;
    original.update(as_bytes("ab"));
    Sha256 copy;
    copy.update(as_bytes("unrelated"));
    copy.assign(original);
    copy.update(as_bytes("c"));
    EXPECT_EQ(hex(copy.finish()), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    original.update(as_bytes("c"));
    EXPECT_EQ(hex(original.finish()), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

// Incremental hashing over uneven pieces equals the one-shot digest, and finish() restarts
// the object so it can hash a second message.
TEST(Sha256, IncrementalMatchesOneShotAndRestarts) {
    Sha256 h;
    const std::string million(1000000, 'a');
    std::size_t offset = 0;
    std::size_t piece = 1;
    while (offset < million.size()) {
        const std::size_t n = std::min(piece, million.size() - offset);
        h.update(as_bytes(std::string_view(million).substr(offset, n)));
        offset += n;
        piece = piece * 3 + 1;
    }
    EXPECT_EQ(hex(h.finish()), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    h.update(as_bytes("abc"));
    EXPECT_EQ(h.finish(), sha256(as_bytes("abc")));
}

// RFC 4231 test cases 1 and 2, and the empty key (which must not be treated as "no key").
TEST(HmacSha256, Rfc4231Vectors) {
    EXPECT_EQ(hex(hmac_sha256(Bytes(20, 0x0b), as_bytes("Hi There"))),
              "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    EXPECT_EQ(hex(hmac_sha256(as_bytes("Jefe"), as_bytes("what do ya want for nothing?"))),
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    // Computed with python3 hmac.new(b'', b'', hashlib.sha256).
    EXPECT_EQ(hex(hmac_sha256({}, {})),
              "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

// RFC 5869 test case 1 (salt and info) and test case 3 (empty salt and info).
TEST(HkdfSha256, Rfc5869Vectors) {
    const Bytes ikm(22, 0x0b);
    Bytes okm(42);
    hkdf_sha256(ikm, unhex("000102030405060708090a0b0c"), unhex("f0f1f2f3f4f5f6f7f8f9"), okm);
    EXPECT_EQ(hex(okm),
              "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
    hkdf_sha256(ikm, {}, {}, okm);
    EXPECT_EQ(hex(okm),
              "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
}

// Equal contents compare equal; any differing byte or length compares unequal.
TEST(ConstantTimeEqual, ComparesContentAndLength) {
    const Bytes a = {1, 2, 3, 4};
    Bytes b = a;
    EXPECT_TRUE(constant_time_equal(a, b));
    EXPECT_TRUE(constant_time_equal({}, {}));
    for (std::size_t i = 0; i < b.size(); ++i) {
        b = a;
        b[i] ^= 0x80;
        EXPECT_FALSE(constant_time_equal(a, b)) << i;
    }
    EXPECT_FALSE(constant_time_equal(a, ByteSpan(a).first(3)));
    EXPECT_FALSE(constant_time_equal(a, {}));
}

// secure_wipe zeroes the whole object, and the span form zeroes exactly the range given.
TEST(SecureWipe, ZeroesMemory) {
    std::array<std::uint8_t, 16> key{};
    key.fill(0xaa);
    secure_wipe(key);
    EXPECT_TRUE(std::all_of(key.begin(), key.end(), [](std::uint8_t v) { return v == 0; }));
    Bytes buf(8, 0x55);
    secure_wipe(buf.data() + 2, 4);
    EXPECT_EQ(buf, (Bytes{0x55, 0x55, 0, 0, 0, 0, 0x55, 0x55}));
    secure_wipe(nullptr, 0);  // allowed: nothing to wipe
}

// A string's characters are wiped, not its object: a short one (stored inside the object) and a
// long one (on the heap) keep their length and hold zeros, and stay usable.
TEST(SecureWipe, ZeroesAStringsCharacters) {
    for (const std::size_t length : {std::size_t{5}, std::size_t{100}}) {
        std::string secret(length, 'k');
        secure_wipe(secret);
        EXPECT_EQ(secret, std::string(length, '\0'));
        secret += "x";
        EXPECT_EQ(secret.size(), length + 1);
    }
}

// Two draws differ, and a fill larger than one RAND_bytes piece reaches the end of the span.
TEST(RandomBytes, FillsWholeSpan) {
    std::array<std::uint8_t, 32> a{}, b{};
    random_bytes(a);
    random_bytes(b);
    EXPECT_NE(a, b);
    Bytes big((3u << 20) + 7, 0);
    random_bytes(big);
    // 64 zero bytes in a row from a CSPRNG has probability 2^-512.
    EXPECT_FALSE(std::all_of(big.end() - 64, big.end(), [](std::uint8_t v) { return v == 0; }));
    EXPECT_FALSE(std::all_of(big.begin(), big.begin() + 64, [](std::uint8_t v) { return v == 0; }));
}

}  // namespace primitives_test
}  // namespace
}  // namespace satload::crypto
