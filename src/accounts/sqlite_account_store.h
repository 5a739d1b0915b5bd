// AccountStore on SQLite: WAL, synchronous=FULL, versioned migrations recorded
// in its own account_schema_version table, so it can share the meta database
// file (one file to back up) or live in a file of its own; its tables are all
// named account_*.
#pragma once

#include <filesystem>
#include <memory>
#include <mutex>

#include "accounts/account_store.h"

struct sqlite3;

namespace satload::accounts {

inline constexpr int kSqliteAccountSchemaVersion = 2;
inline constexpr int kSqliteAccountBusyTimeoutMs = 5000;

class SqliteAccountStore final : public AccountStore {
public:
    // Opens or creates the database (mode 0600) and applies pending account
    // migrations in one transaction; a database whose account schema is newer
    // than this program's is refused.
    static StoreResult<std::unique_ptr<SqliteAccountStore>> open(std::filesystem::path db_file);
    ~SqliteAccountStore() override;
    SqliteAccountStore(const SqliteAccountStore&) = delete;
    SqliteAccountStore& operator=(const SqliteAccountStore&) = delete;

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
    explicit SqliteAccountStore(sqlite3* db);

    // One connection serves every thread; this mutex keeps each call's
    // transaction whole.
    std::mutex m_mutex;
    sqlite3* m_db;
};

}  // namespace satload::accounts
