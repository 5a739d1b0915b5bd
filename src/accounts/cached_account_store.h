// CachedAccountStore: one server's account store with the two reads every paid download makes
// kept in memory: a token's owner (each authenticated request) and a file's owner (the paywall:
// who is paid, who downloads free).
//
// Each was a SQLite read transaction of its own on the request's path, and on the embedded
// store a read transaction is two file-lock calls in and two out: 11% of a paid flow's CPU in
// session 21's profile. Only what was found is kept (an unknown token or file is read again
// each time), and every write that can make a kept answer wrong drops it before the write
// returns: a revoked token, a password change (which revokes sessions), the removal of dead
// tokens, a deleted file. A read that raced such a write is not kept (a generation counter,
// bumped by each of them, must be unchanged from before the read to after it). Expiry is not
// cached: AccountService checks it on every request against its clock.
//
// Only for a store no other process writes while this one runs (the embedded store, whose data
// directory one server owns through the ledger's lock): another process's revocation would
// not reach this copy. The PostgreSQL store, shared by servers, is never wrapped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "accounts/account_store.h"
#include "core/kept_answers.h"

namespace satload::accounts {

// Beyond these the cache starts again from empty (a burst of distinct tokens or files costs
// reads, never memory without bound): at most about 4.6 MB of token owners (282 B each) and
// 1.6 MB of file owners (96 B each).
inline constexpr std::size_t kCachedTokenOwnersMax = 16384;
inline constexpr std::size_t kCachedFileOwnersMax = 16384;

class CachedAccountStore final : public AccountStore {
public:
    explicit CachedAccountStore(std::unique_ptr<AccountStore> inner);

    StoreResult<AccountId> create_account(const AccountRecord& account) override;
    StoreResult<std::optional<AccountRecord>> find_account(const std::string& username) override;
    StoreResult<std::optional<AccountRecord>> get_account(AccountId account_id) override;
    StoreResult<void> replace_password(AccountId account_id, const PasswordRecord& record,
                                       const RevokeOnPasswordChange& revoke) override;
    StoreResult<void> set_quota_override(AccountId account_id,
                                         std::optional<std::uint64_t> quota_bytes) override;

    StoreResult<TokenId> create_token(const TokenRecord& token) override;
    StoreResult<std::optional<TokenRecord>> find_token(
        const crypto::Sha256Digest& token_hash) override;
    StoreResult<std::optional<TokenOwner>> find_token_owner(
        const crypto::Sha256Digest& token_hash) override;
    StoreResult<std::vector<TokenRecord>> list_tokens(AccountId account_id,
                                                      TokenKind kind) override;
    StoreResult<void> revoke_token(AccountId account_id, TokenId token_id) override;
    StoreResult<std::size_t> delete_dead_tokens(std::int64_t now_s, std::size_t limit) override;

    StoreResult<void> add_file(const OwnedFileRecord& file) override;
    StoreResult<void> add_file_from_parts(const OwnedFileRecord& file,
                                          const std::vector<std::string>& part_upload_ids) override;
    StoreResult<std::optional<OwnedFileRecord>> get_file(AccountId account_id,
                                                         const std::string& file_id) override;
    StoreResult<std::vector<OwnedFileRecord>> list_files(AccountId account_id,
                                                         const std::string& after_id,
                                                         std::size_t limit) override;
    StoreResult<void> delete_file(AccountId account_id, const std::string& file_id) override;
    StoreResult<std::uint64_t> used_bytes(AccountId account_id, std::int64_t now_s) override;
    StoreResult<void> add_part(const OwnedPartRecord& part, std::int64_t now_s) override;
    StoreResult<void> remove_parts(const std::vector<std::string>& upload_ids) override;
    StoreResult<std::uint64_t> parts_bytes(AccountId account_id,
                                           const std::vector<std::string>& upload_ids,
                                           std::int64_t now_s) override;
    StoreResult<std::optional<AccountId>> file_owner(const std::string& file_id) override;

    // How many answers are kept now (for tests).
    [[nodiscard]] std::size_t cached_token_owners() const;
    [[nodiscard]] std::size_t cached_file_owners() const;

private:
    struct DigestHash {
        std::size_t operator()(const crypto::Sha256Digest& d) const noexcept;
    };

    std::unique_ptr<AccountStore> m_inner;
    KeptAnswers<crypto::Sha256Digest, TokenOwner, DigestHash> m_token_owners{kCachedTokenOwnersMax};
    KeptAnswers<std::string, AccountId> m_file_owners{kCachedFileOwnersMax};
};

}  // namespace satload::accounts
