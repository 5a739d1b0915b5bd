// AccountService: registration, zero-knowledge login, sessions and API tokens,
// password change, recovery, quotas and owned files, over an AccountStore.
// Takes keys already derived by the client (the server never sees a password, a
// master key, a recovery key or a file secret).
//
// Exchanges (the HTTP layer maps them 1:1):
//  - salt(username): the account's salt, or a deterministic fake one for an
//  unknown username.
//  - register: username, salt, auth key, master key wrapped by the password
//  key, recovery auth
//    key (HKDF of the recovery key), master key wrapped by the recovery wrap
//    key.
//  - login(username, auth key): a session token (shown once) and the
//  password-wrapped master
//    key. The wrapped master key is only handed out after the auth key is
//    proven: given to anyone, it would let an attacker grind the password
//    offline.
//  - recovery: the client derives the recovery auth key from the recovery key
//  and proves it
//    (begin_recovery) to receive the recovery-wrapped master key; it unwraps it
//    locally, picks a new password and sends new password material with the
//    same proof (complete_recovery). The server sees neither the recovery key
//    nor the master key; it stores SHA-256 of the recovery auth key, and proofs
//    are throttled like logins.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "accounts/account_store.h"
#include "accounts/login_throttle.h"
#include "core/result.h"
#include "crypto/account_keys.h"
#include "core/clock.h"

namespace satload::accounts {

inline constexpr std::size_t kUsernameMinChars = 3;
inline constexpr std::size_t kUsernameMaxChars = 32;
inline constexpr std::size_t kTokenBytes = 32;
inline constexpr std::string_view kSessionTokenPrefix = "sls_";
inline constexpr std::string_view kApiTokenPrefix = "sla_";
inline constexpr std::int64_t kDefaultSessionLifetimeS = 30LL * 24 * 60 * 60;
inline constexpr std::uint64_t kDefaultQuotaBytes = 100ULL * 1024 * 1024 * 1024;
inline constexpr std::size_t kMaxApiTokensPerAccount = 100;
inline constexpr std::size_t kMaxTokenNameBytes = 64;
inline constexpr std::size_t kMaxFileIdBytes = 64;
inline constexpr std::size_t kMaxFilesPerPage = 1000;
inline constexpr std::size_t kMaxAddressBytes = 64;
inline constexpr std::size_t kFakeSaltSecretBytes = 32;

enum class AccountError {
    invalid_username,  // register: not 3..32 characters of [a-z0-9_-] after
                       // lowercasing
    username_taken,    // register
    malformed,         // a key, salt or wrapped blob of the wrong size, or a bad name/id
    bad_credentials,   // login, password change, recovery: unknown user or wrong
                       // key (one outcome)
    throttled,         // too many recent failures for the username or address; see
                       // retry_after_s
    unauthenticated,   // a token that is malformed, unknown, expired or revoked
    session_required,  // an API token tried what only an interactive session may
                       // (password change, creating API tokens)
    not_found,         // a file or API token that is absent or not the caller's (one
                       // outcome)
    file_exists,       // add_file of a file id already recorded
    quota_exceeded,    // an upload that would take the account past its quota
    too_many_tokens,   // kMaxApiTokensPerAccount live API tokens already
    store_failed,      // the database failed (see message)
};

struct AccountFailure {
    AccountError code;
    std::int64_t retry_after_s = 0;  // for throttled
    std::string message;             // for logs; never contains a secret
};

template <class T>
using AccountResult = Result<T, AccountFailure>;

// Lowercases ASCII and checks the username rules; nullopt if they are not met.
[[nodiscard]] std::optional<std::string> normalize_username(std::string_view username);

struct AccountServiceOptions {
    Bytes fake_salt_secret;  // kFakeSaltSecretBytes of server secret, stable
                             // across restarts
    std::int64_t session_lifetime_s = kDefaultSessionLifetimeS;
    std::uint64_t default_quota_bytes = kDefaultQuotaBytes;
    ThrottlePolicy username_throttle{};
    // One address may try many usernames (a NAT, a shared office): more free
    // failures.
    ThrottlePolicy address_throttle{.free_failures = 20};
    // Where failures are counted: null counts in this process (LoginThrottle under the policy
    // above); several servers on one PostgreSQL database share PgLoginThrottles
    // (share_login_throttles in pg_login_throttle.h), which carry their own policies.
    std::shared_ptr<Throttle> shared_username_throttle;
    std::shared_ptr<Throttle> shared_address_throttle;
};

// What the client sends to set a password (registration, change, recovery).
struct NewPassword {
    crypto::AccountSalt salt{};
    Bytes auth_key;            // 32 bytes; the server keeps only its SHA-256
    Bytes master_by_password;  // kWrappedMasterKeyBytes
};

struct Registration {
    std::string username;
    NewPassword password;
    Bytes recovery_auth_key;   // 32 bytes; the server keeps only its SHA-256
    Bytes master_by_recovery;  // kWrappedMasterKeyBytes
};

// Who a valid token belongs to.
struct Principal {
    AccountId account_id = 0;
    std::string username;
    TokenId token_id = 0;
    TokenKind kind = TokenKind::session;
};

struct LoginGrant {
    Principal principal;
    std::string token;  // shown once: only its SHA-256 is stored
    std::int64_t expires_s = 0;
    Bytes master_by_password;
};

struct ApiTokenGrant {
    TokenId token_id = 0;
    std::string token;  // shown once
};

struct ApiTokenInfo {
    TokenId token_id = 0;
    std::string name;
    std::int64_t created_s = 0;
};

struct Quota {
    std::uint64_t limit_bytes = 0;
    std::uint64_t used_bytes = 0;
};

struct NewOwnedFile {
    std::string file_id;
    Bytes wrapped_secret;  // kWrappedFileSecretBytes
    std::uint64_t size_bytes = 0;
    // A final concatenation: the upload ids of its parts, whose records (add_part) it ends.
    std::vector<std::string> part_upload_ids;
};

class AccountService {
public:
    AccountService(AccountStore& store, const Clock& clock, AccountServiceOptions options,
                   crypto::RandomSource random = crypto::system_random());

    AccountResult<AccountId> register_account(const Registration& registration);
    // Never fails for a well-formed or malformed username: unknown ones get the
    // fake salt.
    AccountResult<crypto::AccountSalt> salt(std::string_view username);
    // `address` is the client's network address, for throttling.
    AccountResult<LoginGrant> login(std::string_view username, ByteSpan auth_key,
                                    std::string_view address);
    // A session or API token; unauthenticated if malformed, unknown, expired or
    // revoked.
    AccountResult<Principal> authenticate(std::string_view token);
    AccountResult<void> logout(const Principal& principal);

    // Proves the current auth key again, replaces the password record and revokes
    // every other session (API tokens stay). Sessions only.
    AccountResult<void> change_password(const Principal& principal, ByteSpan current_auth_key,
                                        const NewPassword& password, std::string_view address);
    AccountResult<Bytes> begin_recovery(std::string_view username, ByteSpan recovery_auth_key,
                                        std::string_view address);
    // Sets the new password, revokes every session and API token, and logs in.
    AccountResult<LoginGrant> complete_recovery(std::string_view username,
                                                ByteSpan recovery_auth_key,
                                                const NewPassword& password,
                                                std::string_view address);

    // Sessions only (session_required for an API token).
    AccountResult<ApiTokenGrant> create_api_token(const Principal& principal,
                                                  std::string_view name);
    AccountResult<std::vector<ApiTokenInfo>> list_api_tokens(const Principal& principal);
    AccountResult<void> revoke_api_token(const Principal& principal, TokenId token_id);

    AccountResult<Quota> quota(const Principal& principal);
    // Whether an upload of `length_bytes` fits (checked at upload creation). For a final
    // concatenation, the caller's own parts among `part_upload_ids` are counted already: the
    // file takes their place.
    AccountResult<void> check_upload(const Principal& principal, std::uint64_t length_bytes,
                                     const std::vector<std::string>& part_upload_ids = {});
    // Operator: a per-account quota, or nullopt for the default.
    AccountResult<void> set_quota(std::string_view username, std::optional<std::uint64_t> bytes);

    AccountResult<void> add_file(const Principal& principal, const NewOwnedFile& file);
    // A part of a parallel upload made with the caller's session: counted against its quota
    // until a final upload claims it (add_file), remove_parts, or `expires_s`.
    AccountResult<void> add_part(const Principal& principal, const std::string& upload_id,
                                 std::uint64_t size_bytes, std::int64_t expires_s);
    // The parts' uploads are gone (terminated, or claimed by an upload without a session).
    AccountResult<void> remove_parts(const std::vector<std::string>& upload_ids);
    AccountResult<std::vector<OwnedFileRecord>> list_files(const Principal& principal,
                                                           const std::string& after_id,
                                                           std::size_t limit);
    AccountResult<OwnedFileRecord> get_file(const Principal& principal, const std::string& file_id);
    // Whether the file is the principal's own (the paywall's question: owners download free),
    // from the file's owner alone, which the embedded store keeps in memory.
    AccountResult<bool> owns_file(const Principal& principal, const std::string& file_id);
    // Removes the record; the caller then deletes the file's blob and metadata.
    AccountResult<OwnedFileRecord> delete_file(const Principal& principal,
                                               const std::string& file_id);

private:
    struct Issued {
        std::string token;
        TokenId token_id = 0;
        std::int64_t expires_s = 0;
    };
    AccountResult<Issued> issue_token(AccountId account_id, TokenKind kind, std::string name);
    // Checks both throttles; a failure names the longer wait.
    AccountResult<void> check_throttle(const std::string& username, std::string_view address);
    void record_failure(const std::string& username, std::string_view address);
    // Verifies a recovery proof for `username`, throttled; the account on
    // success.
    AccountResult<AccountRecord> verify_recovery(std::string_view username,
                                                 ByteSpan recovery_auth_key,
                                                 std::string_view address);
    AccountResult<AccountRecord> find_by_name(const std::string& username);

    AccountStore& m_store;
    const Clock& m_clock;
    AccountServiceOptions m_options;
    crypto::RandomSource m_random;
    std::shared_ptr<Throttle> m_username_throttle;
    std::shared_ptr<Throttle> m_address_throttle;
};

}  // namespace satload::accounts
