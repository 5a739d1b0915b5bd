// CachedAccountStore: see cached_account_store.h.
#include "accounts/cached_account_store.h"

#include <cstring>

#include "core/check.h"

namespace satload::accounts {

CachedAccountStore::CachedAccountStore(std::unique_ptr<AccountStore> inner)
    : m_inner(std::move(inner)) {
    SATLOAD_ASSERT(m_inner != nullptr);
}

std::size_t CachedAccountStore::DigestHash::operator()(
    const crypto::Sha256Digest& d) const noexcept {
    // The digest is already uniform: its first bytes are a hash.
    std::size_t h = 0;
    std::memcpy(&h, d.data(), sizeof h);
    return h;
}

// ---- Reads kept in memory ----

StoreResult<std::optional<TokenOwner>> CachedAccountStore::find_token_owner(
    const crypto::Sha256Digest& token_hash) {
    auto kept = m_token_owners.find(token_hash);
    if (kept.value) return std::optional<TokenOwner>(std::move(*kept.value));
    auto found = m_inner->find_token_owner(token_hash);
    // A revoked token is an answer too, but one no write changes back: keeping it would only
    // fill the cache.
    if (found && *found && !(*found)->token.revoked)
        m_token_owners.keep(token_hash, **found, kept.generation);
    return found;
}

StoreResult<std::optional<AccountId>> CachedAccountStore::file_owner(const std::string& file_id) {
    auto kept = m_file_owners.find(file_id);
    if (kept.value) return std::optional<AccountId>(*kept.value);
    auto found = m_inner->file_owner(file_id);
    if (found && *found) m_file_owners.keep(file_id, **found, kept.generation);
    return found;
}

std::size_t CachedAccountStore::cached_token_owners() const { return m_token_owners.size(); }

std::size_t CachedAccountStore::cached_file_owners() const { return m_file_owners.size(); }

// ---- Writes that can change a kept answer: forgotten once the write is done ----
// Whatever the write's outcome: a failed write may still have been applied.

StoreResult<void> CachedAccountStore::replace_password(AccountId account_id,
                                                       const PasswordRecord& record,
                                                       const RevokeOnPasswordChange& revoke) {
    auto r = m_inner->replace_password(account_id, record, revoke);
    m_token_owners.forget_if(
        [&](const auto&, const TokenOwner& o) { return o.token.account_id == account_id; });
    return r;
}

StoreResult<void> CachedAccountStore::revoke_token(AccountId account_id, TokenId token_id) {
    auto r = m_inner->revoke_token(account_id, token_id);
    m_token_owners.forget_if(
        [&](const auto&, const TokenOwner& o) { return o.token.token_id == token_id; });
    return r;
}

StoreResult<std::size_t> CachedAccountStore::delete_dead_tokens(std::int64_t now_s,
                                                                std::size_t limit) {
    auto r = m_inner->delete_dead_tokens(now_s, limit);
    // Only dead tokens go, and none is kept alive here (revocations are forgotten as they
    // happen, expiry is checked by the service), but a deleted row is no answer to keep.
    m_token_owners.forget_if([](const auto&, const auto&) { return true; });
    return r;
}

StoreResult<void> CachedAccountStore::delete_file(AccountId account_id,
                                                  const std::string& file_id) {
    auto r = m_inner->delete_file(account_id, file_id);
    m_file_owners.forget(file_id);
    return r;
}

// ---- Passed through: nothing kept here depends on them ----
// A new token or file had no answer kept (only what was found is), and accounts, quotas and
// parts are not kept.

StoreResult<AccountId> CachedAccountStore::create_account(const AccountRecord& account) {
    return m_inner->create_account(account);
}

StoreResult<std::optional<AccountRecord>> CachedAccountStore::find_account(
    const std::string& username) {
    return m_inner->find_account(username);
}

StoreResult<std::optional<AccountRecord>> CachedAccountStore::get_account(AccountId account_id) {
    return m_inner->get_account(account_id);
}

StoreResult<void> CachedAccountStore::set_quota_override(AccountId account_id,
                                                         std::optional<std::uint64_t> quota_bytes) {
    return m_inner->set_quota_override(account_id, quota_bytes);
}

StoreResult<TokenId> CachedAccountStore::create_token(const TokenRecord& token) {
    return m_inner->create_token(token);
}

StoreResult<std::optional<TokenRecord>> CachedAccountStore::find_token(
    const crypto::Sha256Digest& token_hash) {
    return m_inner->find_token(token_hash);
}

StoreResult<std::vector<TokenRecord>> CachedAccountStore::list_tokens(AccountId account_id,
                                                                      TokenKind kind) {
    return m_inner->list_tokens(account_id, kind);
}

StoreResult<void> CachedAccountStore::add_file(const OwnedFileRecord& file) {
    return m_inner->add_file(file);
}

StoreResult<void> CachedAccountStore::add_file_from_parts(
    const OwnedFileRecord& file, const std::vector<std::string>& part_upload_ids) {
    return m_inner->add_file_from_parts(file, part_upload_ids);
}

StoreResult<std::optional<OwnedFileRecord>> CachedAccountStore::get_file(
    AccountId account_id, const std::string& file_id) {
    return m_inner->get_file(account_id, file_id);
}

StoreResult<std::vector<OwnedFileRecord>> CachedAccountStore::list_files(
    AccountId account_id, const std::string& after_id, std::size_t limit) {
    return m_inner->list_files(account_id, after_id, limit);
}

StoreResult<std::uint64_t> CachedAccountStore::used_bytes(AccountId account_id,
                                                          std::int64_t now_s) {
    return m_inner->used_bytes(account_id, now_s);
}

StoreResult<void> CachedAccountStore::add_part(const OwnedPartRecord& part, std::int64_t now_s) {
    return m_inner->add_part(part, now_s);
}

StoreResult<void> CachedAccountStore::remove_parts(const std::vector<std::string>& upload_ids) {
    return m_inner->remove_parts(upload_ids);
}

StoreResult<std::uint64_t> CachedAccountStore::parts_bytes(
    AccountId account_id, const std::vector<std::string>& upload_ids, std::int64_t now_s) {
    return m_inner->parts_bytes(account_id, upload_ids, now_s);
}

}  // namespace satload::accounts
