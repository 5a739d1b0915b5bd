// Account key crypto (docs/DESIGN.md "login"): Argon2id password keys, the master key and its
// AES-256-GCM wrapping, the recovery key and its text form, auth-key hashes and fake salts.
//
// Wrapped blob layout (what WebCrypto's AES-GCM repeats with iv = the first 12 bytes,
// additionalData = the purpose string in ASCII, tagLength = 128):
//
//     nonce (12 bytes, random) || ciphertext (same length as the plaintext) || tag (16 bytes)
//
// The associated data names what is wrapped ("satload/v1 master-key", "satload/v1 file-secret"),
// so a wrapped file secret never unwraps as a master key even under the same key.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/encoding.h"
#include "core/result.h"
#include "crypto/keys.h"
#include "crypto/primitives.h"

namespace satload::crypto {

// Argon2id parameters, fixed by DESIGN.md: the browser derives the very same bytes.
inline constexpr unsigned long long kArgon2OpsLimit = 3;                 // t
inline constexpr std::size_t kArgon2MemLimitBytes = 64u * 1024 * 1024;   // m = 65536 KiB
inline constexpr std::size_t kArgon2Parallelism = 1;                     // p (libsodium's only)
inline constexpr std::size_t kAccountSaltBytes = 16;
inline constexpr std::size_t kArgon2OutputBytes = 64;  // 0..31 password key, 32..63 auth key
// Longer passwords are refused before hashing so a request cannot make Argon2 read megabytes.
inline constexpr std::size_t kMaxPasswordBytes = 1024;

inline constexpr std::size_t kAccountKeyBytes = 32;  // every account key is 256 bits
inline constexpr std::size_t kWrapNonceBytes = 12;
inline constexpr std::size_t kWrapTagBytes = 16;
inline constexpr std::size_t kWrapOverheadBytes = kWrapNonceBytes + kWrapTagBytes;
inline constexpr std::size_t kWrappedMasterKeyBytes = kWrapOverheadBytes + kAccountKeyBytes;  // 60
inline constexpr std::size_t kWrappedFileSecretBytes = kWrapOverheadBytes + kFileSecretBytes;  // 44

// Associated data of each wrap purpose (ASCII, no terminator).
inline constexpr std::string_view kMasterKeyWrapAd = "satload/v1 master-key";
inline constexpr std::string_view kFileSecretWrapAd = "satload/v1 file-secret";
// HKDF-SHA256 infos (salt empty) deriving the two keys of a recovery key.
inline constexpr std::string_view kRecoveryWrapInfo = "satload/v1 recovery-wrap";
inline constexpr std::string_view kRecoveryAuthInfo = "satload/v1 recovery-auth";
// HMAC-SHA256(server secret, kFakeSaltLabel || username), first 16 bytes.
inline constexpr std::string_view kFakeSaltLabel = "satload/v1 fake-salt";
// SHA-256(kRecoveryChecksumLabel || recovery key), first 3 bytes, end the recovery text.
inline constexpr std::string_view kRecoveryChecksumLabel = "satload/v1 recovery-check";
inline constexpr std::size_t kRecoveryChecksumBytes = 3;

using AccountSalt = std::array<std::uint8_t, kAccountSaltBytes>;

// Fills a buffer with random bytes; injected so tests can make key generation reproducible.
using RandomSource = std::function<void(std::span<std::uint8_t>)>;
[[nodiscard]] RandomSource system_random();

// Fixed-size secret bytes, wiped when destroyed. The tag keeps kinds of keys apart in the type
// system: a password key cannot be passed where a master key is expected.
template <std::size_t N, class Tag>
class Secret {
public:
    static constexpr std::size_t kSize = N;
    Secret() = default;
    explicit Secret(std::span<const std::uint8_t, N> bytes) {
        std::copy(bytes.begin(), bytes.end(), m_bytes.begin());
    }
    Secret(const Secret&) = default;
    Secret& operator=(const Secret&) = default;
    ~Secret() { secure_wipe(m_bytes.data(), m_bytes.size()); }

    // Copies `bytes` if it has exactly N bytes.
    [[nodiscard]] static std::optional<Secret> from(ByteSpan bytes) {
        if (bytes.size() != N) return std::nullopt;
        return Secret(std::span<const std::uint8_t, N>(bytes.data(), N));
    }
    [[nodiscard]] ByteSpan bytes() const { return m_bytes; }
    [[nodiscard]] std::span<std::uint8_t, N> mutable_bytes() { return m_bytes; }
    [[nodiscard]] bool operator==(const Secret& other) const {
        return constant_time_equal(bytes(), other.bytes());
    }

private:
    std::array<std::uint8_t, N> m_bytes{};
};

struct PasswordKeyTag;
struct AuthKeyTag;
struct MasterKeyTag;
struct RecoveryKeyTag;
struct RecoveryWrapKeyTag;
struct RecoveryAuthKeyTag;
using PasswordKey = Secret<kAccountKeyBytes, PasswordKeyTag>;  // wraps the master key
using AuthKey = Secret<kAccountKeyBytes, AuthKeyTag>;          // proves the password
using MasterKey = Secret<kAccountKeyBytes, MasterKeyTag>;      // wraps file secrets
using RecoveryKey = Secret<kAccountKeyBytes, RecoveryKeyTag>;  // shown once at registration
using RecoveryWrapKey = Secret<kAccountKeyBytes, RecoveryWrapKeyTag>;
using RecoveryAuthKey = Secret<kAccountKeyBytes, RecoveryAuthKeyTag>;

// Bytes 0..31 and 32..63 of Argon2id(password, salt).
struct PasswordKeys {
    PasswordKey password_key;
    AuthKey auth_key;
};

enum class KdfError {
    password_too_long,  // more than kMaxPasswordBytes
    out_of_memory,      // libsodium could not allocate the 64 MiB
};

// Argon2id with DESIGN.md's parameters (libsodium crypto_pwhash, ALG_ARGON2ID13).
[[nodiscard]] Result<PasswordKeys, KdfError> derive_password_keys(std::string_view password,
                                                                  const AccountSalt& salt);

[[nodiscard]] AccountSalt random_account_salt(const RandomSource& random);
[[nodiscard]] MasterKey random_master_key(const RandomSource& random);
[[nodiscard]] RecoveryKey random_recovery_key(const RandomSource& random);

// The two keys of a recovery key: one wraps the master key, the other proves knowledge of the
// recovery key to the server (which stores only its SHA-256), so the server never sees it.
[[nodiscard]] RecoveryWrapKey derive_recovery_wrap_key(const RecoveryKey& recovery);
[[nodiscard]] RecoveryAuthKey derive_recovery_auth_key(const RecoveryKey& recovery);

// What the server stores for an auth key (or a recovery auth key, or a token): SHA-256 of it.
// The key is 256 random-looking bits, so a fast hash suffices: nothing to grind.
[[nodiscard]] Sha256Digest auth_key_hash(ByteSpan auth_key);
// Constant-time: SHA-256(presented) == stored.
[[nodiscard]] bool verify_auth_key(ByteSpan presented, const Sha256Digest& stored);

// The deterministic salt answered for an unknown username.
[[nodiscard]] AccountSalt fake_salt(ByteSpan server_secret, std::string_view username);

enum class UnwrapError {
    malformed,              // not nonce || ciphertext || tag of the expected size
    authentication_failed,  // wrong key, wrong purpose, or a flipped bit
};

// AES-256-GCM of `plaintext` under `key` with AD `ad`; layout in the file comment. The nonce
// comes from `random`.
[[nodiscard]] Bytes wrap_bytes(ByteSpan key, std::string_view ad, ByteSpan plaintext,
                               const RandomSource& random);
// Authenticates and decrypts; `expected_plaintext_bytes` is checked before decrypting. The
// returned bytes are secret: the typed wrappers below copy them into wiped types.
[[nodiscard]] Result<Bytes, UnwrapError> unwrap_bytes(ByteSpan key, std::string_view ad,
                                                      ByteSpan wrapped,
                                                      std::size_t expected_plaintext_bytes);

[[nodiscard]] Bytes wrap_master_key(const PasswordKey& key, const MasterKey& master,
                                    const RandomSource& random);
[[nodiscard]] Result<MasterKey, UnwrapError> unwrap_master_key(const PasswordKey& key,
                                                               ByteSpan wrapped);
[[nodiscard]] Bytes wrap_master_key(const RecoveryWrapKey& key, const MasterKey& master,
                                    const RandomSource& random);
[[nodiscard]] Result<MasterKey, UnwrapError> unwrap_master_key(const RecoveryWrapKey& key,
                                                               ByteSpan wrapped);
[[nodiscard]] Bytes wrap_file_secret(const MasterKey& master, const FileSecret& secret,
                                     const RandomSource& random);
// FileSecret is a plain array (it also lives in links); the caller wipes it after use.
[[nodiscard]] Result<FileSecret, UnwrapError> unwrap_file_secret(const MasterKey& master,
                                                                 ByteSpan wrapped);

// Recovery key text: Crockford base32 (alphabet 0-9 A-Z without I L O U) of
// key (32 bytes) || checksum (3 bytes) = 280 bits = 56 characters, written as 7 groups of 8
// joined by '-'. Parsing ignores case, spaces and '-', reads I and L as 1 and O as 0, and
// rejects a wrong length or checksum (a typo is caught with probability 1 - 2^-24).
inline constexpr std::size_t kRecoveryTextChars = 56;
inline constexpr std::size_t kRecoveryTextGroupChars = 8;
[[nodiscard]] std::string recovery_key_to_text(const RecoveryKey& key);
[[nodiscard]] std::optional<RecoveryKey> recovery_key_from_text(std::string_view text);

}  // namespace satload::crypto
