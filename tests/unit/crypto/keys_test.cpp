// Pins down the file key schedule of docs/DESIGN.md "keys" and the secret's link form.
#include "crypto/keys.h"

#include <gtest/gtest.h>

namespace satload::crypto {
namespace {

FileSecret counting_secret() {
    FileSecret s{};
    for (std::size_t i = 0; i < s.size(); ++i) s[i] = static_cast<std::uint8_t>(i);
    return s;
}

// The derived IKMs for secret 00 01 .. 0f. The expected values were computed independently,
// once, with python3's hmac/hashlib (HKDF-SHA256 written out per RFC 5869: PRK =
// HMAC(32 zero bytes, secret), OKM = HMAC(PRK, info || 0x01)[:16]) and pasted here.
TEST(FileKeys, DerivationMatchesIndependentVector) {
    const FileKeys keys = derive_file_keys(counting_secret());
    EXPECT_EQ(hex_encode(keys.content_ikm), "b75bd73db64fc23033fc7a022aab3a31");
    EXPECT_EQ(hex_encode(keys.metadata_ikm), "626882d0f7d46acc6219fb5d927571cf");
}

// Content and metadata keys are separate, and a different secret gives different keys.
TEST(FileKeys, KeysAreSeparatedAndSecretDependent) {
    FileSecret other = counting_secret();
    other[15] ^= 1;
    const FileKeys a = derive_file_keys(counting_secret());
    const FileKeys b = derive_file_keys(other);
    EXPECT_NE(a.content_ikm, a.metadata_ikm);
    EXPECT_NE(a.content_ikm, b.content_ikm);
    EXPECT_NE(a.metadata_ikm, b.metadata_ikm);
}

// The fragment form is base64url without padding, 22 characters, and round-trips.
TEST(FileSecretText, RoundTripsAsBase64Url) {
    EXPECT_EQ(secret_to_text(counting_secret()), "AAECAwQFBgcICQoLDA0ODw");
    const auto back = secret_from_text("AAECAwQFBgcICQoLDA0ODw");
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, counting_secret());
    FileSecret ff{};
    ff.fill(0xff);
    EXPECT_EQ(secret_to_text(ff), "_____________________w");
    EXPECT_EQ(secret_from_text(secret_to_text(ff)), ff);
}

// Anything but the canonical 22-character form is refused, so a link has one secret text.
TEST(FileSecretText, RefusesNonCanonicalText) {
    EXPECT_FALSE(secret_from_text(""));
    EXPECT_FALSE(secret_from_text("AAECAwQFBgcICQoLDA0OD"));     // 21 chars
    EXPECT_FALSE(secret_from_text("AAECAwQFBgcICQoLDA0ODwA"));   // 23 chars
    EXPECT_FALSE(secret_from_text("AAECAwQFBgcICQoLDA0ODw=="));  // padding
    EXPECT_FALSE(secret_from_text("AAECAwQFBgcICQoLDA0ODx"));    // non-zero trailing bits
    EXPECT_FALSE(secret_from_text("AAECAwQFBgcICQoLDA0OD+"));    // standard alphabet
    EXPECT_FALSE(secret_from_text("AAECAwQFBgcICQoLDA0O w"));   // a space
}

}  // namespace
}  // namespace satload::crypto
