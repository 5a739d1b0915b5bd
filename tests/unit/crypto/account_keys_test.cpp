// Pins down account key crypto (DESIGN.md "login"): Argon2id parameters and split, the
// AES-256-GCM wrap layout and purposes, recovery keys and their text form, fake salts.
#include "crypto/account_keys.h"

#include <gtest/gtest.h>

namespace satload::crypto {
namespace {

template <class S>
S counting(std::uint8_t first) {
    std::array<std::uint8_t, S::kSize> b{};
    for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<std::uint8_t>(first + i);
    return *S::from(b);
}

// A "random" source that hands out a fixed nonce, so the wrap output can be compared with an
// independent implementation.
RandomSource fixed_nonce() {
    return [](std::span<std::uint8_t> out) {
        for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<std::uint8_t>(0xa0 + i);
    };
}

std::string hex(ByteSpan b) {
    return hex_encode(b);
}

// Argon2id t=3, m=65536 KiB, p=1, 64-byte output. The expected hash was computed once with
// Debian's `argon2` command-line tool (the reference implementation, package argon2
// 0~20171227): echo -n "correct horse battery staple" | argon2 satload-salt-16b -id -t 3 -k 65536
// -p 1 -l 64 -r. Bytes 0..31 are the password key, 32..63 the auth key.
TEST(AccountKeys, Argon2idMatchesReferenceImplementation) {
    AccountSalt salt{};
    const std::string_view salt_text = "satload-salt-16b";
    std::copy(salt_text.begin(), salt_text.end(), salt.begin());
    const auto keys = derive_password_keys("correct horse battery staple", salt);
    ASSERT_TRUE(keys);
    EXPECT_EQ(hex(keys->password_key.bytes()),
              "28c4a8ff0aed26bb733e1ffef86b3e28b8fada8ca3caba358b8370b892d867aa");
    EXPECT_EQ(hex(keys->auth_key.bytes()),
              "232b27cf52895c1ccd5e3d1d4779355f43d851ccc1191e17b4d6375152710880");

    // A different salt gives different keys (the salt is really used).
    salt[0] ^= 1;
    const auto other = derive_password_keys("correct horse battery staple", salt);
    ASSERT_TRUE(other);
    EXPECT_NE(hex(other->password_key.bytes()), hex(keys->password_key.bytes()));
}

// An over-long password is refused before any hashing.
TEST(AccountKeys, PasswordLengthIsLimited) {
    const std::string long_password(kMaxPasswordBytes + 1, 'x');
    const auto keys = derive_password_keys(long_password, AccountSalt{});
    ASSERT_FALSE(keys);
    EXPECT_EQ(keys.error(), KdfError::password_too_long);
}

// The wrap layout is nonce || ciphertext || tag with the purpose string as AD; expected bytes
// from python3's `cryptography` AESGCM(key).encrypt(nonce, plaintext, ad).
TEST(AccountKeys, WrapMatchesIndependentAesGcm) {
    const auto key = counting<PasswordKey>(0x00);
    const auto master = counting<MasterKey>(0x40);
    const Bytes wrapped = wrap_master_key(key, master, fixed_nonce());
    ASSERT_EQ(wrapped.size(), kWrappedMasterKeyBytes);
    EXPECT_EQ(hex(wrapped),
              "a0a1a2a3a4a5a6a7a8a9aaaba6593e6e018e44f82a2ccd984b378e9120fd0b43c6e2143bc4577cdd23f6"
              "2b5e24a20d51bce9dd0b6f79741ebac1b424");

    FileSecret secret{};
    for (std::size_t i = 0; i < secret.size(); ++i) secret[i] = static_cast<std::uint8_t>(0x10 + i);
    const Bytes wrapped_secret = wrap_file_secret(master, secret, fixed_nonce());
    ASSERT_EQ(wrapped_secret.size(), kWrappedFileSecretBytes);
    EXPECT_EQ(hex(wrapped_secret),
              "a0a1a2a3a4a5a6a7a8a9aaabc79e142cf6fe8a3a61765be595a12ee9d955c6dd9cbbd6e646ff97fd8af4"
              "e308");
}

// Round trips with real random nonces; each wrap uses a fresh nonce.
TEST(AccountKeys, WrapRoundTrips) {
    const auto random = system_random();
    const MasterKey master = random_master_key(random);
    const auto key = counting<PasswordKey>(0x00);
    const Bytes a = wrap_master_key(key, master, random);
    const Bytes b = wrap_master_key(key, master, random);
    EXPECT_NE(a, b);
    const auto back = unwrap_master_key(key, a);
    ASSERT_TRUE(back);
    EXPECT_TRUE(*back == master);

    const FileSecret secret = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    const auto secret_back = unwrap_file_secret(master, wrap_file_secret(master, secret, random));
    ASSERT_TRUE(secret_back);
    EXPECT_EQ(*secret_back, secret);
}

// A wrong key, a wrong purpose, any flipped bit and a wrong size all fail to unwrap.
TEST(AccountKeys, UnwrapRefusesWrongKeyPurposeAndTampering) {
    const auto random = system_random();
    const auto key = counting<PasswordKey>(0x00);
    const auto master = counting<MasterKey>(0x40);
    const Bytes wrapped = wrap_master_key(key, master, random);

    const auto wrong = unwrap_master_key(counting<PasswordKey>(0x01), wrapped);
    ASSERT_FALSE(wrong);
    EXPECT_EQ(wrong.error(), UnwrapError::authentication_failed);

    // The same bytes under the same key but a different purpose (AD) fail.
    const auto wrong_ad = unwrap_bytes(key.bytes(), kFileSecretWrapAd, wrapped, kAccountKeyBytes);
    ASSERT_FALSE(wrong_ad);
    EXPECT_EQ(wrong_ad.error(), UnwrapError::authentication_failed);

    // A wrapped file secret is never accepted as a master key, nor the other way round.
    FileSecret secret{};
    const Bytes wrapped_secret = wrap_file_secret(master, secret, random);
    const auto as_master =
        unwrap_bytes(master.bytes(), kMasterKeyWrapAd, wrapped_secret, kFileSecretBytes);
    EXPECT_FALSE(as_master);

    for (std::size_t bit = 0; bit < wrapped.size() * 8; bit += 7) {
        Bytes flipped = wrapped;
        flipped[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
        EXPECT_FALSE(unwrap_master_key(key, flipped)) << "bit " << bit;
    }

    const Bytes short_blob(wrapped.begin(), wrapped.end() - 1);
    const auto malformed = unwrap_master_key(key, short_blob);
    ASSERT_FALSE(malformed);
    EXPECT_EQ(malformed.error(), UnwrapError::malformed);
}

// The recovery wrap and auth keys are HKDF-SHA256 of the recovery key with distinct infos
// (expected values from python3's `cryptography` HKDF), and the recovery wrap round-trips.
TEST(AccountKeys, RecoveryKeysDeriveAndWrap) {
    const auto recovery = counting<RecoveryKey>(0x80);
    const RecoveryWrapKey wrap_key = derive_recovery_wrap_key(recovery);
    const RecoveryAuthKey auth_key = derive_recovery_auth_key(recovery);
    EXPECT_EQ(hex(wrap_key.bytes()),
              "1c1aaa5e12e372010f3e29537f565706fc40da59d829624c0d31682a1c59a428");
    EXPECT_EQ(hex(auth_key.bytes()),
              "334de740018e566324c27d1a6dec450a45efdda6dadcd03be57007a795bfa7b7");

    const auto master = counting<MasterKey>(0x40);
    const auto back =
        unwrap_master_key(wrap_key, wrap_master_key(wrap_key, master, system_random()));
    ASSERT_TRUE(back);
    EXPECT_TRUE(*back == master);
}

// The recovery text is Crockford base32 of key || checksum in 7 groups of 8 (expected text from
// an independent python3 encoder); it parses back with lenient case, separators and misreadings.
TEST(AccountKeys, RecoveryTextRoundTrips) {
    const auto recovery = counting<RecoveryKey>(0x80);
    const std::string text = recovery_key_to_text(recovery);
    EXPECT_EQ(text, "G20R50W4-GP38F249-HA5RS3CE-HY8934MK-JJASD5WR-K6D9Q74X-KTFV2R6Z");

    const auto back = recovery_key_from_text(text);
    ASSERT_TRUE(back);
    EXPECT_TRUE(*back == recovery);

    const auto lenient =
        recovery_key_from_text("g2or50w4 gp38f249 ha5rs3ce hy8934mk jjasd5wr k6d9q74x ktfv2r6z");
    ASSERT_TRUE(lenient);
    EXPECT_TRUE(*lenient == recovery);

    const RecoveryKey random_key = random_recovery_key(system_random());
    const auto random_back = recovery_key_from_text(recovery_key_to_text(random_key));
    ASSERT_TRUE(random_back);
    EXPECT_TRUE(*random_back == random_key);
}

// Every single-character substitution, a dropped or an extra character is caught.
TEST(AccountKeys, RecoveryTextDetectsTypos) {
    const std::string text = recovery_key_to_text(counting<RecoveryKey>(0x80));
    std::size_t caught = 0;
    std::size_t tried = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '-') continue;
        std::string typo = text;
        typo[i] = text[i] == 'Z' ? 'Y' : 'Z';
        ++tried;
        if (!recovery_key_from_text(typo)) ++caught;
    }
    EXPECT_EQ(caught, tried);
    EXPECT_FALSE(recovery_key_from_text(text.substr(1)));
    EXPECT_FALSE(recovery_key_from_text(text + "0"));
    EXPECT_FALSE(recovery_key_from_text(""));
    EXPECT_FALSE(recovery_key_from_text(std::string(text).replace(0, 1, "U")));  // not Crockford
}

// The fake salt is HMAC-SHA256(secret, label || username)[0..16): deterministic per username
// and server secret (expected value from python3's hmac).
TEST(AccountKeys, FakeSaltIsDeterministic) {
    const Bytes secret(32, 7);
    EXPECT_EQ(hex(fake_salt(secret, "alice")), "acba5f58d42cb230cd60643496fa6437");
    EXPECT_EQ(fake_salt(secret, "alice"), fake_salt(secret, "alice"));
    EXPECT_NE(fake_salt(secret, "alice"), fake_salt(secret, "alicf"));
    EXPECT_NE(fake_salt(secret, "alice"), fake_salt(Bytes(32, 8), "alice"));
}

// The server stores SHA-256(auth key) and accepts only the exact key.
TEST(AccountKeys, AuthKeyVerification) {
    const auto auth = counting<AuthKey>(0x20);
    const Sha256Digest stored = auth_key_hash(auth.bytes());
    EXPECT_EQ(stored, sha256(auth.bytes()));
    EXPECT_TRUE(verify_auth_key(auth.bytes(), stored));
    EXPECT_FALSE(verify_auth_key(counting<AuthKey>(0x21).bytes(), stored));
    EXPECT_FALSE(verify_auth_key(ByteSpan(auth.bytes().data(), 31), stored));
}

}  // namespace
}  // namespace satload::crypto
