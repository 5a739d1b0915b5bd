// AccountStore on PostgreSQL (`serve --db postgresql://…`): the same account_* tables as the
// SQLite store in the deployment's schema, shared by every server process, so nothing is kept
// in memory between calls; each call is one transaction.
#pragma once

#include <memory>
#include <string_view>

#include "accounts/account_store.h"
#include "store/pg_db.h"

namespace satload::accounts {

// The "accounts" component's schema version this program writes (steps in the .cpp).
inline constexpr int kPgAccountSchemaVersion = 2;
// The component name under which the migrations are recorded.
inline constexpr std::string_view kPgAccountComponent = "accounts";

class PgAccountStore final : public AccountStore {
public:
    // Applies pending migrations (once, however many processes open at the same time); a
    // database whose "accounts" schema is newer than this program's is refused.
    static StoreResult<std::unique_ptr<PgAccountStore>> open(std::shared_ptr<store::PgDb> db);
    PgAccountStore(const PgAccountStore&) = delete;
    PgAccountStore& operator=(const PgAccountStore&) = delete;

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

    // The account schema version recorded in the database.
    StoreResult<int> schema_version();

private:
    explicit PgAccountStore(std::shared_ptr<store::PgDb> db) : m_db(std::move(db)) {}
    std::shared_ptr<store::PgDb> m_db;
};

}  // namespace satload::accounts
