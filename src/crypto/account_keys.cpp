// Account key crypto: Argon2id from libsodium, AES-256-GCM and HKDF/HMAC/SHA-256 from OpenSSL.
#include "crypto/account_keys.h"

#include <openssl/evp.h>
#include <sodium.h>

#include <algorithm>

#include "core/check.h"

namespace satload::crypto {
namespace {

constexpr std::string_view kCrockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
constexpr std::size_t kRecoveryPayloadBytes = kAccountKeyBytes + kRecoveryChecksumBytes;
static_assert(kRecoveryPayloadBytes * 8 == kRecoveryTextChars * 5,
              "the recovery text must encode whole bytes with no padding bits");

void ensure_sodium() {
    // sodium_init is thread-safe and idempotent; it only fails if the OS has no randomness.
    static const int rc = sodium_init();
    SATLOAD_ASSERT(rc >= 0);
}

struct CipherCtx {
    EVP_CIPHER_CTX* p = EVP_CIPHER_CTX_new();
    CipherCtx() { SATLOAD_ASSERT(p != nullptr); }
    ~CipherCtx() { EVP_CIPHER_CTX_free(p); }
    CipherCtx(const CipherCtx&) = delete;
    CipherCtx& operator=(const CipherCtx&) = delete;
};

template <class S>
S random_secret(const RandomSource& random) {
    S s;
    random(s.mutable_bytes());
    return s;
}

std::array<std::uint8_t, kRecoveryChecksumBytes> recovery_checksum(ByteSpan key) {
    Sha256 h;
    h.update(as_bytes(kRecoveryChecksumLabel));
    h.update(key);
    const Sha256Digest d = h.finish();
    std::array<std::uint8_t, kRecoveryChecksumBytes> out{};
    std::copy_n(d.begin(), out.size(), out.begin());
    return out;
}

// Crockford decoding with the usual misreadings folded in; -1 for anything else.
int crockford_value(char c) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (c == 'O') c = '0';
    if (c == 'I' || c == 'L') c = '1';
    const auto pos = kCrockford.find(c);
    return pos == std::string_view::npos ? -1 : static_cast<int>(pos);
}

}  // namespace

RandomSource system_random() {
    return [](std::span<std::uint8_t> out) { random_bytes(out); };
}

Result<PasswordKeys, KdfError> derive_password_keys(std::string_view password,
                                                    const AccountSalt& salt) {
    static_assert(kAccountSaltBytes == crypto_pwhash_SALTBYTES);
    if (password.size() > kMaxPasswordBytes) return fail(KdfError::password_too_long);
    ensure_sodium();
    std::array<std::uint8_t, kArgon2OutputBytes> out{};
    const int rc = crypto_pwhash(out.data(), out.size(), password.data(), password.size(),
                                 salt.data(), kArgon2OpsLimit, kArgon2MemLimitBytes,
                                 crypto_pwhash_ALG_ARGON2ID13);
    if (rc != 0) {
        secure_wipe(out.data(), out.size());
        return fail(KdfError::out_of_memory);
    }
    PasswordKeys keys;
    std::copy_n(out.begin(), kAccountKeyBytes, keys.password_key.mutable_bytes().begin());
    std::copy_n(out.begin() + kAccountKeyBytes, kAccountKeyBytes,
                keys.auth_key.mutable_bytes().begin());
    secure_wipe(out.data(), out.size());
    return keys;
}

AccountSalt random_account_salt(const RandomSource& random) {
    AccountSalt salt{};
    random(salt);
    return salt;
}

MasterKey random_master_key(const RandomSource& random) {
    return random_secret<MasterKey>(random);
}

RecoveryKey random_recovery_key(const RandomSource& random) {
    return random_secret<RecoveryKey>(random);
}

RecoveryWrapKey derive_recovery_wrap_key(const RecoveryKey& recovery) {
    RecoveryWrapKey key;
    hkdf_sha256(recovery.bytes(), {}, as_bytes(kRecoveryWrapInfo), key.mutable_bytes());
    return key;
}

RecoveryAuthKey derive_recovery_auth_key(const RecoveryKey& recovery) {
    RecoveryAuthKey key;
    hkdf_sha256(recovery.bytes(), {}, as_bytes(kRecoveryAuthInfo), key.mutable_bytes());
    return key;
}

Sha256Digest auth_key_hash(ByteSpan auth_key) {
    return sha256(auth_key);
}

bool verify_auth_key(ByteSpan presented, const Sha256Digest& stored) {
    const Sha256Digest digest = sha256(presented);
    return constant_time_equal(digest, stored);
}

AccountSalt fake_salt(ByteSpan server_secret, std::string_view username) {
    std::string message(kFakeSaltLabel);
    message += username;
    const Sha256Digest mac = hmac_sha256(server_secret, as_bytes(message));
    AccountSalt salt{};
    std::copy_n(mac.begin(), salt.size(), salt.begin());
    return salt;
}

Bytes wrap_bytes(ByteSpan key, std::string_view ad, ByteSpan plaintext,
                 const RandomSource& random) {
    SATLOAD_ASSERT(key.size() == kAccountKeyBytes);
    Bytes out(kWrapNonceBytes + plaintext.size() + kWrapTagBytes);
    random(std::span<std::uint8_t>(out.data(), kWrapNonceBytes));
    CipherCtx ctx;
    int len = 0;
    SATLOAD_ASSERT(EVP_EncryptInit_ex(ctx.p, EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1);
    SATLOAD_ASSERT(EVP_CIPHER_CTX_ctrl(ctx.p, EVP_CTRL_GCM_SET_IVLEN,
                                       openssl_length(kWrapNonceBytes), nullptr) == 1);
    SATLOAD_ASSERT(EVP_EncryptInit_ex(ctx.p, nullptr, nullptr, key.data(), out.data()) == 1);
    if (!ad.empty()) {
        SATLOAD_ASSERT(EVP_EncryptUpdate(ctx.p, nullptr, &len,
                                         reinterpret_cast<const unsigned char*>(ad.data()),
                                         openssl_length(ad.size())) == 1);
    }
    std::uint8_t* ct = out.data() + kWrapNonceBytes;
    if (!plaintext.empty()) {
        SATLOAD_ASSERT(EVP_EncryptUpdate(ctx.p, ct, &len, plaintext.data(),
                                         openssl_length(plaintext.size())) == 1);
        SATLOAD_ASSERT(static_cast<std::size_t>(len) == plaintext.size());
    }
    SATLOAD_ASSERT(EVP_EncryptFinal_ex(ctx.p, ct + plaintext.size(), &len) == 1);
    SATLOAD_ASSERT(EVP_CIPHER_CTX_ctrl(ctx.p, EVP_CTRL_GCM_GET_TAG, openssl_length(kWrapTagBytes),
                                       ct + plaintext.size()) == 1);
    return out;
}

Result<Bytes, UnwrapError> unwrap_bytes(ByteSpan key, std::string_view ad, ByteSpan wrapped,
                                        std::size_t expected_plaintext_bytes) {
    SATLOAD_ASSERT(key.size() == kAccountKeyBytes);
    if (wrapped.size() != kWrapOverheadBytes + expected_plaintext_bytes) {
        return fail(UnwrapError::malformed);
    }
    const std::size_t ct_size = expected_plaintext_bytes;
    const std::uint8_t* nonce = wrapped.data();
    const std::uint8_t* ct = wrapped.data() + kWrapNonceBytes;
    // EVP's tag setter takes a non-const pointer; copy the tag rather than cast.
    std::array<std::uint8_t, kWrapTagBytes> tag{};
    std::copy_n(ct + ct_size, kWrapTagBytes, tag.begin());

    Bytes plain(ct_size);
    CipherCtx ctx;
    int len = 0;
    SATLOAD_ASSERT(EVP_DecryptInit_ex(ctx.p, EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1);
    SATLOAD_ASSERT(EVP_CIPHER_CTX_ctrl(ctx.p, EVP_CTRL_GCM_SET_IVLEN,
                                       openssl_length(kWrapNonceBytes), nullptr) == 1);
    SATLOAD_ASSERT(EVP_DecryptInit_ex(ctx.p, nullptr, nullptr, key.data(), nonce) == 1);
    if (!ad.empty()) {
        SATLOAD_ASSERT(EVP_DecryptUpdate(ctx.p, nullptr, &len,
                                         reinterpret_cast<const unsigned char*>(ad.data()),
                                         openssl_length(ad.size())) == 1);
    }
    if (ct_size != 0) {
        SATLOAD_ASSERT(EVP_DecryptUpdate(ctx.p, plain.data(), &len, ct, openssl_length(ct_size)) ==
                       1);
    }
    SATLOAD_ASSERT(EVP_CIPHER_CTX_ctrl(ctx.p, EVP_CTRL_GCM_SET_TAG, openssl_length(kWrapTagBytes),
                                       tag.data()) == 1);
    std::uint8_t final_block[16];
    if (EVP_DecryptFinal_ex(ctx.p, final_block, &len) != 1) {
        secure_wipe(plain.data(), plain.size());
        return fail(UnwrapError::authentication_failed);
    }
    return plain;
}

namespace {

template <class S, class K>
Result<S, UnwrapError> unwrap_secret(const K& key, std::string_view ad, ByteSpan wrapped) {
    auto plain = unwrap_bytes(key.bytes(), ad, wrapped, S::kSize);
    if (!plain) return fail(plain.error());
    auto secret = S::from(*plain);
    secure_wipe(plain->data(), plain->size());
    SATLOAD_ASSERT(secret.has_value());
    return *secret;
}

}  // namespace

Bytes wrap_master_key(const PasswordKey& key, const MasterKey& master,
                      const RandomSource& random) {
    return wrap_bytes(key.bytes(), kMasterKeyWrapAd, master.bytes(), random);
}

Result<MasterKey, UnwrapError> unwrap_master_key(const PasswordKey& key, ByteSpan wrapped) {
    return unwrap_secret<MasterKey>(key, kMasterKeyWrapAd, wrapped);
}

Bytes wrap_master_key(const RecoveryWrapKey& key, const MasterKey& master,
                      const RandomSource& random) {
    return wrap_bytes(key.bytes(), kMasterKeyWrapAd, master.bytes(), random);
}

Result<MasterKey, UnwrapError> unwrap_master_key(const RecoveryWrapKey& key, ByteSpan wrapped) {
    return unwrap_secret<MasterKey>(key, kMasterKeyWrapAd, wrapped);
}

Bytes wrap_file_secret(const MasterKey& master, const FileSecret& secret,
                       const RandomSource& random) {
    return wrap_bytes(master.bytes(), kFileSecretWrapAd, secret, random);
}

Result<FileSecret, UnwrapError> unwrap_file_secret(const MasterKey& master, ByteSpan wrapped) {
    auto plain = unwrap_bytes(master.bytes(), kFileSecretWrapAd, wrapped, kFileSecretBytes);
    if (!plain) return fail(plain.error());
    FileSecret secret{};
    std::copy_n(plain->begin(), secret.size(), secret.begin());
    secure_wipe(plain->data(), plain->size());
    return secret;
}

std::string recovery_key_to_text(const RecoveryKey& key) {
    std::array<std::uint8_t, kRecoveryPayloadBytes> payload{};
    std::copy(key.bytes().begin(), key.bytes().end(), payload.begin());
    const auto check = recovery_checksum(key.bytes());
    std::copy(check.begin(), check.end(), payload.begin() + kAccountKeyBytes);

    std::string text;
    text.reserve(kRecoveryTextChars + kRecoveryTextChars / kRecoveryTextGroupChars);
    std::uint32_t buffer = 0;
    int bits = 0;
    std::size_t chars = 0;
    for (const std::uint8_t byte : payload) {
        buffer = (buffer << 8) | byte;
        bits += 8;
        while (bits >= 5) {
            bits -= 5;
            if (chars != 0 && chars % kRecoveryTextGroupChars == 0) text += '-';
            text += kCrockford[(buffer >> bits) & 0x1f];
            ++chars;
        }
    }
    SATLOAD_ASSERT(bits == 0 && chars == kRecoveryTextChars);
    secure_wipe(payload.data(), payload.size());
    secure_wipe(buffer);
    return text;
}

std::optional<RecoveryKey> recovery_key_from_text(std::string_view text) {
    // A pasted key is at most the text with a separator between every pair of characters.
    if (text.size() > 4 * kRecoveryTextChars) return std::nullopt;
    std::array<std::uint8_t, kRecoveryPayloadBytes> payload{};
    std::uint32_t buffer = 0;
    int bits = 0;
    std::size_t chars = 0;
    std::size_t out = 0;
    for (const char c : text) {
        if (c == '-' || c == ' ') continue;
        const int v = crockford_value(c);
        if (v < 0 || chars == kRecoveryTextChars) return std::nullopt;
        ++chars;
        buffer = (buffer << 5) | static_cast<std::uint32_t>(v);
        bits += 5;
        if (bits >= 8) {
            bits -= 8;
            payload[out++] = static_cast<std::uint8_t>((buffer >> bits) & 0xff);
        }
    }
    secure_wipe(buffer);
    if (chars != kRecoveryTextChars) return std::nullopt;
    SATLOAD_ASSERT(out == kRecoveryPayloadBytes && bits == 0);
    const ByteSpan key_bytes(payload.data(), kAccountKeyBytes);
    const auto check = recovery_checksum(key_bytes);
    const bool ok = constant_time_equal(
        check, ByteSpan(payload.data() + kAccountKeyBytes, kRecoveryChecksumBytes));
    std::optional<RecoveryKey> key;
    if (ok) key = RecoveryKey::from(key_bytes);
    secure_wipe(payload.data(), payload.size());
    return key;
}

}  // namespace satload::crypto
