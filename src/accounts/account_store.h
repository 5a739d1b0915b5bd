// AccountStore: the persistent state of accounts — users and their wrapped
// keys, session and API tokens (hashed), and the files each account owns. Holds
// no secret in any usable form: only hashes of keys and tokens, and keys
// wrapped by keys the server never sees.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/encoding.h"
#include "crypto/account_keys.h"
#include "store/blob_store.h"

namespace satload::accounts {

using AccountId = std::int64_t;
using TokenId = std::int64_t;
using store::StoreError;
using store::StoreFailure;
using store::StoreResult;

// What a password (or a recovery) sets: replaced as a whole on password change.
struct PasswordRecord {
    crypto::AccountSalt salt{};
    crypto::Sha256Digest auth_hash{};  // SHA-256(auth key)
    Bytes master_by_password;          // wrapped master key, kWrappedMasterKeyBytes
};

struct AccountRecord {
    AccountId account_id = 0;  // assigned by create_account
    std::string username;      // normalized (see account_service.h)
    PasswordRecord password;
    crypto::Sha256Digest recovery_auth_hash{};  // SHA-256(recovery auth key)
    Bytes master_by_recovery;                   // wrapped master key, kWrappedMasterKeyBytes
    std::optional<std::uint64_t> quota_override_bytes;  // nullopt: the service default
    std::int64_t created_s = 0;
};

enum class TokenKind { session, api };

struct TokenRecord {
    TokenId token_id = 0;  // assigned by create_token
    AccountId account_id = 0;
    TokenKind kind = TokenKind::session;
    std::string name;                   // API tokens: the owner's label; sessions: empty
    crypto::Sha256Digest token_hash{};  // SHA-256 of the token's 32 random bytes
    std::int64_t created_s = 0;
    std::optional<std::int64_t> expires_s;  // sessions expire; API tokens until revoked
    bool revoked = false;
};

struct TokenOwner {
    TokenRecord token;
    std::string username;
};

struct OwnedFileRecord {
    std::string file_id;
    AccountId account_id = 0;
    Bytes wrapped_secret;  // the file secret wrapped by the master key,
                           // kWrappedFileSecretBytes
    std::uint64_t size_bytes = 0;
    std::int64_t created_s = 0;
};

// A part of a parallel upload made with a session (tus Upload-Concat: partial): its bytes
// count against the account's quota from its creation until a final upload claims it, it is
// removed (terminated, or claimed by a final upload without a session) or it expires.
struct OwnedPartRecord {
    std::string upload_id;
    AccountId account_id = 0;
    std::uint64_t size_bytes = 0;
    std::int64_t expires_s = 0;  // the upload's own expiry: not counted from then on
};

// Which tokens a password replacement revokes.
struct RevokeOnPasswordChange {
    std::optional<TokenId> keep_token_id;  // the caller's own session survives a change
    bool api_tokens = false;               // recovery revokes API tokens too
};

class AccountStore {
public:
    virtual ~AccountStore() = default;

    // StoreError::exists when the username is taken.
    virtual StoreResult<AccountId> create_account(const AccountRecord& account) = 0;
    virtual StoreResult<std::optional<AccountRecord>> find_account(const std::string& username) = 0;
    virtual StoreResult<std::optional<AccountRecord>> get_account(AccountId account_id) = 0;
    // Replaces the password record and revokes sessions as told, in one
    // transaction. StoreError::not_found for an unknown account.
    virtual StoreResult<void> replace_password(AccountId account_id, const PasswordRecord& record,
                                               const RevokeOnPasswordChange& revoke) = 0;
    virtual StoreResult<void> set_quota_override(AccountId account_id,
                                                 std::optional<std::uint64_t> quota_bytes) = 0;

    virtual StoreResult<TokenId> create_token(const TokenRecord& token) = 0;
    virtual StoreResult<std::optional<TokenRecord>> find_token(
        const crypto::Sha256Digest& token_hash) = 0;
    // The token and its account's username in one read (what every authenticated request
    // needs); nullopt when either is gone.
    virtual StoreResult<std::optional<TokenOwner>> find_token_owner(
        const crypto::Sha256Digest& token_hash) = 0;
    // Unrevoked tokens of one kind of an account, oldest first.
    virtual StoreResult<std::vector<TokenRecord>> list_tokens(AccountId account_id,
                                                              TokenKind kind) = 0;
    // StoreError::not_found unless the token exists, belongs to the account and
    // is live.
    virtual StoreResult<void> revoke_token(AccountId account_id, TokenId token_id) = 0;
    // Deletes tokens expired at `now_s` or revoked; returns how many
    // (housekeeping).
    virtual StoreResult<std::size_t> delete_dead_tokens(std::int64_t now_s, std::size_t limit) = 0;

    // StoreError::exists when the file id is already recorded (by anyone).
    virtual StoreResult<void> add_file(const OwnedFileRecord& file) = 0;
    // add_file, and the removal of the records of the parts it was made from (whoever made
    // them), in one transaction: the parts' bytes are never counted twice, nor not at all.
    virtual StoreResult<void> add_file_from_parts(
        const OwnedFileRecord& file, const std::vector<std::string>& part_upload_ids) = 0;
    // Only the account's own files: another account's file is not_found /
    // nullopt.
    virtual StoreResult<std::optional<OwnedFileRecord>> get_file(AccountId account_id,
                                                                 const std::string& file_id) = 0;
    virtual StoreResult<std::vector<OwnedFileRecord>> list_files(AccountId account_id,
                                                                 const std::string& after_id,
                                                                 std::size_t limit) = 0;
    virtual StoreResult<void> delete_file(AccountId account_id, const std::string& file_id) = 0;
    // The account's files and its parts not expired at `now_s`.
    virtual StoreResult<std::uint64_t> used_bytes(AccountId account_id, std::int64_t now_s) = 0;

    // StoreError::exists when the upload id is already recorded. Also forgets the account's
    // parts expired at `now_s` (their uploads are gone, or about to be).
    virtual StoreResult<void> add_part(const OwnedPartRecord& part, std::int64_t now_s) = 0;
    // Ids with no record are skipped.
    virtual StoreResult<void> remove_parts(const std::vector<std::string>& upload_ids) = 0;
    // The bytes of the account's own parts among `upload_ids` not expired at `now_s`.
    virtual StoreResult<std::uint64_t> parts_bytes(AccountId account_id,
                                                   const std::vector<std::string>& upload_ids,
                                                   std::int64_t now_s) = 0;
    // The account that owns a file, for the paywall (who is paid, who downloads free).
    virtual StoreResult<std::optional<AccountId>> file_owner(const std::string& file_id) = 0;
};

}  // namespace satload::accounts
