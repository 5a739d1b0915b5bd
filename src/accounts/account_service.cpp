// AccountService: the account rules over an AccountStore (see
// account_service.h).
#include "accounts/account_service.h"

#include <algorithm>

#include "core/check.h"

namespace satload::accounts {
namespace {

AccountFailure store_failure(const StoreFailure& f) {
    return AccountFailure{AccountError::store_failed, 0, f.message};
}

AccountFailure failure(AccountError code, std::string message = {}) {
    return AccountFailure{code, 0, std::move(message)};
}

bool well_formed(const NewPassword& p) {
    return p.auth_key.size() == crypto::kAccountKeyBytes &&
           p.master_by_password.size() == crypto::kWrappedMasterKeyBytes;
}

PasswordRecord to_record(const NewPassword& p) {
    return PasswordRecord{p.salt, crypto::auth_key_hash(p.auth_key), p.master_by_password};
}

// The throttle keys of one attempt; the username is normalized or, if invalid,
// used as given (bounded by the caller), so junk names are throttled too.
std::string username_key(std::string_view username) {
    auto n = normalize_username(username);
    return n ? *n : std::string(username.substr(0, kUsernameMaxChars + 1));
}

bool valid_name(std::string_view name) {
    if (name.empty() || name.size() > kMaxTokenNameBytes) return false;
    return std::all_of(name.begin(), name.end(),
                       [](char c) { return c >= 0x20 && c < 0x7f; });  // printable ASCII
}

bool valid_file_id(std::string_view id) {
    if (id.empty() || id.size() > kMaxFileIdBytes) return false;
    return std::all_of(id.begin(), id.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '_';
    });
}

}  // namespace

std::optional<std::string> normalize_username(std::string_view username) {
    if (username.size() < kUsernameMinChars || username.size() > kUsernameMaxChars) {
        return std::nullopt;
    }
    std::string out(username);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
        if (!ok) return std::nullopt;
    }
    return out;
}

AccountService::AccountService(AccountStore& store, const Clock& clock,
                               AccountServiceOptions options, crypto::RandomSource random)
    : m_store(store),
      m_clock(clock),
      m_options(std::move(options)),
      m_random(std::move(random)),
      m_username_throttle(m_options.shared_username_throttle
                              ? m_options.shared_username_throttle
                              : std::make_shared<LoginThrottle>(clock, m_options.username_throttle)),
      m_address_throttle(m_options.shared_address_throttle
                             ? m_options.shared_address_throttle
                             : std::make_shared<LoginThrottle>(clock, m_options.address_throttle)) {
    // A short or missing secret would make fake salts guessable, and so reveal
    // who exists.
    SATLOAD_ASSERT(m_options.fake_salt_secret.size() == kFakeSaltSecretBytes);
    SATLOAD_ASSERT(m_options.session_lifetime_s > 0);
}

AccountResult<AccountId> AccountService::register_account(const Registration& r) {
    const auto username = normalize_username(r.username);
    if (!username) return fail(failure(AccountError::invalid_username));
    if (!well_formed(r.password) || r.recovery_auth_key.size() != crypto::kAccountKeyBytes ||
        r.master_by_recovery.size() != crypto::kWrappedMasterKeyBytes) {
        return fail(failure(AccountError::malformed));
    }
    AccountRecord account;
    account.username = *username;
    account.password = to_record(r.password);
    account.recovery_auth_hash = crypto::auth_key_hash(r.recovery_auth_key);
    account.master_by_recovery = r.master_by_recovery;
    account.created_s = m_clock.now_s();
    auto id = m_store.create_account(account);
    if (!id) {
        if (id.error().code == StoreError::exists) {
            return fail(failure(AccountError::username_taken));
        }
        return fail(store_failure(id.error()));
    }
    return *id;
}

AccountResult<crypto::AccountSalt> AccountService::salt(std::string_view username) {
    const std::string key = username_key(username);
    if (normalize_username(username)) {
        auto account = m_store.find_account(key);
        if (!account) return fail(store_failure(account.error()));
        if (*account) return (*account)->password.salt;
    }
    return crypto::fake_salt(m_options.fake_salt_secret, key);
}

AccountResult<AccountRecord> AccountService::find_by_name(const std::string& username) {
    auto account = m_store.find_account(username);
    if (!account) return fail(store_failure(account.error()));
    if (!*account) return fail(failure(AccountError::bad_credentials));
    return std::move(**account);
}

AccountResult<void> AccountService::check_throttle(const std::string& username,
                                                   std::string_view address) {
    const auto by_username = m_username_throttle->retry_after_s(username);
    if (!by_username) return fail(store_failure(by_username.error()));
    const auto by_address = m_address_throttle->retry_after_s(address);
    if (!by_address) return fail(store_failure(by_address.error()));
    const std::int64_t wait_s = std::max(*by_username, *by_address);
    if (wait_s > 0) return fail(AccountFailure{AccountError::throttled, wait_s, {}});
    return {};
}

void AccountService::record_failure(const std::string& username, std::string_view address) {
    // The attempt fails as bad credentials either way; a shared count that could not be
    // written (the database failing) loses this one failure, not the earlier ones.
    (void)m_username_throttle->record_failure(username);
    (void)m_address_throttle->record_failure(address);
}

AccountResult<LoginGrant> AccountService::login(std::string_view username, ByteSpan auth_key,
                                                std::string_view address) {
    const std::string key = username_key(username);
    const std::string_view addr = address.substr(0, kMaxAddressBytes);
    if (auto t = check_throttle(key, addr); !t) return fail(t.error());

    std::optional<AccountRecord> account;
    if (normalize_username(username)) {
        auto found = m_store.find_account(key);
        if (!found) return fail(store_failure(found.error()));
        account = std::move(*found);
    }
    // An unknown user costs the same hash and comparison as a wrong key, against
    // a digest no key can match in practice, so the two are indistinguishable in
    // outcome and timing.
    const crypto::Sha256Digest unmatched{};
    const bool ok =
        crypto::verify_auth_key(auth_key, account ? account->password.auth_hash : unmatched) &&
        account.has_value();
    if (!ok) {
        record_failure(key, addr);
        return fail(failure(AccountError::bad_credentials));
    }
    // A success forgets the username's failures but not the address's: otherwise
    // an attacker could reset their address counter by logging into an account of
    // their own.
    (void)m_username_throttle->record_success(key);
    auto issued = issue_token(account->account_id, TokenKind::session, {});
    if (!issued) return fail(issued.error());
    LoginGrant grant;
    grant.principal =
        Principal{account->account_id, account->username, issued->token_id, TokenKind::session};
    grant.token = std::move(issued->token);
    grant.expires_s = issued->expires_s;
    grant.master_by_password = account->password.master_by_password;
    return grant;
}

AccountResult<AccountService::Issued> AccountService::issue_token(AccountId account_id,
                                                                  TokenKind kind,
                                                                  std::string name) {
    std::array<std::uint8_t, kTokenBytes> raw{};
    m_random(raw);
    Issued issued;
    issued.token = std::string(kind == TokenKind::api ? kApiTokenPrefix : kSessionTokenPrefix) +
                   base64url_encode(raw);
    TokenRecord record;
    record.account_id = account_id;
    record.kind = kind;
    record.name = std::move(name);
    record.token_hash = crypto::sha256(raw);
    record.created_s = m_clock.now_s();
    if (kind == TokenKind::session) {
        issued.expires_s = record.created_s + m_options.session_lifetime_s;
        record.expires_s = issued.expires_s;
    }
    crypto::secure_wipe(raw.data(), raw.size());
    auto id = m_store.create_token(record);
    if (!id) return fail(store_failure(id.error()));
    issued.token_id = *id;
    return issued;
}

AccountResult<Principal> AccountService::authenticate(std::string_view token) {
    TokenKind kind;
    if (token.starts_with(kSessionTokenPrefix)) {
        kind = TokenKind::session;
    } else if (token.starts_with(kApiTokenPrefix)) {
        kind = TokenKind::api;
    } else {
        return fail(failure(AccountError::unauthenticated));
    }
    static_assert(kSessionTokenPrefix.size() == kApiTokenPrefix.size());
    auto raw = base64url_decode(token.substr(kSessionTokenPrefix.size()));
    if (!raw || raw->size() != kTokenBytes) return fail(failure(AccountError::unauthenticated));
    const crypto::Sha256Digest hash = crypto::sha256(*raw);
    crypto::secure_wipe(raw->data(), raw->size());
    // The lookup is by hash: timing reveals at most a prefix of a hash, never of
    // the token.
    // One read for the token and its account (a gone account is no principal).
    auto record = m_store.find_token_owner(hash);
    if (!record) return fail(store_failure(record.error()));
    if (!*record) return fail(failure(AccountError::unauthenticated));
    const TokenRecord& t = (*record)->token;
    if (t.revoked || t.kind != kind || (t.expires_s && *t.expires_s <= m_clock.now_s())) {
        return fail(failure(AccountError::unauthenticated));
    }
    return Principal{t.account_id, std::move((*record)->username), t.token_id, t.kind};
}

AccountResult<void> AccountService::logout(const Principal& principal) {
    auto r = m_store.revoke_token(principal.account_id, principal.token_id);
    if (!r) {
        if (r.error().code == StoreError::not_found) {
            return fail(failure(AccountError::unauthenticated));
        }
        return fail(store_failure(r.error()));
    }
    return {};
}

AccountResult<void> AccountService::change_password(const Principal& principal,
                                                    ByteSpan current_auth_key,
                                                    const NewPassword& password,
                                                    std::string_view address) {
    if (principal.kind != TokenKind::session) return fail(failure(AccountError::session_required));
    if (!well_formed(password)) return fail(failure(AccountError::malformed));
    const std::string_view addr = address.substr(0, kMaxAddressBytes);
    if (auto t = check_throttle(principal.username, addr); !t) return fail(t.error());
    auto account = m_store.get_account(principal.account_id);
    if (!account) return fail(store_failure(account.error()));
    if (!*account) return fail(failure(AccountError::unauthenticated));
    if (!crypto::verify_auth_key(current_auth_key, (*account)->password.auth_hash)) {
        record_failure(principal.username, addr);
        return fail(failure(AccountError::bad_credentials));
    }
    auto r = m_store.replace_password(principal.account_id, to_record(password),
                                      RevokeOnPasswordChange{principal.token_id, false});
    if (!r) return fail(store_failure(r.error()));
    return {};
}

AccountResult<AccountRecord> AccountService::verify_recovery(std::string_view username,
                                                             ByteSpan recovery_auth_key,
                                                             std::string_view address) {
    const std::string key = username_key(username);
    const std::string_view addr = address.substr(0, kMaxAddressBytes);
    if (auto t = check_throttle(key, addr); !t) return fail(t.error());
    std::optional<AccountRecord> account;
    if (normalize_username(username)) {
        auto found = m_store.find_account(key);
        if (!found) return fail(store_failure(found.error()));
        account = std::move(*found);
    }
    const crypto::Sha256Digest unmatched{};
    const bool ok = crypto::verify_auth_key(recovery_auth_key,
                                            account ? account->recovery_auth_hash : unmatched) &&
                    account.has_value();
    if (!ok) {
        record_failure(key, addr);
        return fail(failure(AccountError::bad_credentials));
    }
    return std::move(*account);
}

AccountResult<Bytes> AccountService::begin_recovery(std::string_view username,
                                                    ByteSpan recovery_auth_key,
                                                    std::string_view address) {
    auto account = verify_recovery(username, recovery_auth_key, address);
    if (!account) return fail(account.error());
    return account->master_by_recovery;
}

AccountResult<LoginGrant> AccountService::complete_recovery(std::string_view username,
                                                            ByteSpan recovery_auth_key,
                                                            const NewPassword& password,
                                                            std::string_view address) {
    if (!well_formed(password)) return fail(failure(AccountError::malformed));
    auto account = verify_recovery(username, recovery_auth_key, address);
    if (!account) return fail(account.error());
    // Whoever forgot the password may also have lost a device: every session and
    // API token goes, and the recovering client starts with a fresh session.
    auto r = m_store.replace_password(account->account_id, to_record(password),
                                      RevokeOnPasswordChange{std::nullopt, true});
    if (!r) return fail(store_failure(r.error()));
    (void)m_username_throttle->record_success(account->username);
    auto issued = issue_token(account->account_id, TokenKind::session, {});
    if (!issued) return fail(issued.error());
    LoginGrant grant;
    grant.principal =
        Principal{account->account_id, account->username, issued->token_id, TokenKind::session};
    grant.token = std::move(issued->token);
    grant.expires_s = issued->expires_s;
    grant.master_by_password = password.master_by_password;
    return grant;
}

AccountResult<ApiTokenGrant> AccountService::create_api_token(const Principal& principal,
                                                              std::string_view name) {
    // An API token that could mint API tokens would outlive its own revocation.
    if (principal.kind != TokenKind::session) return fail(failure(AccountError::session_required));
    if (!valid_name(name)) return fail(failure(AccountError::malformed));
    auto live = m_store.list_tokens(principal.account_id, TokenKind::api);
    if (!live) return fail(store_failure(live.error()));
    if (live->size() >= kMaxApiTokensPerAccount)
        return fail(failure(AccountError::too_many_tokens));
    auto issued = issue_token(principal.account_id, TokenKind::api, std::string(name));
    if (!issued) return fail(issued.error());
    return ApiTokenGrant{issued->token_id, std::move(issued->token)};
}

AccountResult<std::vector<ApiTokenInfo>> AccountService::list_api_tokens(
    const Principal& principal) {
    auto live = m_store.list_tokens(principal.account_id, TokenKind::api);
    if (!live) return fail(store_failure(live.error()));
    std::vector<ApiTokenInfo> out;
    for (const auto& t : *live) out.push_back(ApiTokenInfo{t.token_id, t.name, t.created_s});
    return out;
}

AccountResult<void> AccountService::revoke_api_token(const Principal& principal, TokenId token_id) {
    // Only API tokens by this route: looking one up by id among the caller's own
    // keeps another account's token ids (and sessions) out of reach.
    auto live = m_store.list_tokens(principal.account_id, TokenKind::api);
    if (!live) return fail(store_failure(live.error()));
    const bool mine = std::any_of(live->begin(), live->end(),
                                  [&](const TokenRecord& t) { return t.token_id == token_id; });
    if (!mine) return fail(failure(AccountError::not_found));
    auto r = m_store.revoke_token(principal.account_id, token_id);
    if (!r) {
        if (r.error().code == StoreError::not_found) return fail(failure(AccountError::not_found));
        return fail(store_failure(r.error()));
    }
    return {};
}

AccountResult<Quota> AccountService::quota(const Principal& principal) {
    auto account = m_store.get_account(principal.account_id);
    if (!account) return fail(store_failure(account.error()));
    if (!*account) return fail(failure(AccountError::unauthenticated));
    auto used = m_store.used_bytes(principal.account_id, m_clock.now_s());
    if (!used) return fail(store_failure(used.error()));
    return Quota{(*account)->quota_override_bytes.value_or(m_options.default_quota_bytes), *used};
}

AccountResult<void> AccountService::check_upload(const Principal& principal,
                                                 std::uint64_t length_bytes,
                                                 const std::vector<std::string>& part_upload_ids) {
    auto q = quota(principal);
    if (!q) return fail(q.error());
    if (!part_upload_ids.empty()) {
        auto counted = m_store.parts_bytes(principal.account_id, part_upload_ids, m_clock.now_s());
        if (!counted) return fail(store_failure(counted.error()));
        q->used_bytes -= std::min(*counted, q->used_bytes);
    }
    // Written so that no sum can overflow.
    if (q->used_bytes > q->limit_bytes || length_bytes > q->limit_bytes - q->used_bytes) {
        return fail(failure(AccountError::quota_exceeded));
    }
    return {};
}

AccountResult<void> AccountService::set_quota(std::string_view username,
                                              std::optional<std::uint64_t> bytes) {
    const auto name = normalize_username(username);
    if (!name) return fail(failure(AccountError::invalid_username));
    auto account = m_store.find_account(*name);
    if (!account) return fail(store_failure(account.error()));
    if (!*account) return fail(failure(AccountError::not_found));
    auto r = m_store.set_quota_override((*account)->account_id, bytes);
    if (!r) return fail(store_failure(r.error()));
    return {};
}

AccountResult<void> AccountService::add_file(const Principal& principal, const NewOwnedFile& file) {
    if (!valid_file_id(file.file_id) ||
        file.wrapped_secret.size() != crypto::kWrappedFileSecretBytes) {
        return fail(failure(AccountError::malformed));
    }
    OwnedFileRecord record{file.file_id, principal.account_id, file.wrapped_secret, file.size_bytes,
                           m_clock.now_s()};
    auto r = m_store.add_file_from_parts(record, file.part_upload_ids);
    if (!r) {
        if (r.error().code == StoreError::exists) return fail(failure(AccountError::file_exists));
        return fail(store_failure(r.error()));
    }
    return {};
}

AccountResult<void> AccountService::add_part(const Principal& principal,
                                             const std::string& upload_id, std::uint64_t size_bytes,
                                             std::int64_t expires_s) {
    auto r = m_store.add_part(
        OwnedPartRecord{upload_id, principal.account_id, size_bytes, expires_s}, m_clock.now_s());
    if (!r) return fail(store_failure(r.error()));
    return {};
}

AccountResult<void> AccountService::remove_parts(const std::vector<std::string>& upload_ids) {
    if (upload_ids.empty()) return {};
    auto r = m_store.remove_parts(upload_ids);
    if (!r) return fail(store_failure(r.error()));
    return {};
}

AccountResult<std::vector<OwnedFileRecord>> AccountService::list_files(const Principal& principal,
                                                                       const std::string& after_id,
                                                                       std::size_t limit) {
    auto files =
        m_store.list_files(principal.account_id, after_id, std::min(limit, kMaxFilesPerPage));
    if (!files) return fail(store_failure(files.error()));
    return std::move(*files);
}

AccountResult<OwnedFileRecord> AccountService::get_file(const Principal& principal,
                                                        const std::string& file_id) {
    auto file = m_store.get_file(principal.account_id, file_id);
    if (!file) return fail(store_failure(file.error()));
    if (!*file) return fail(failure(AccountError::not_found));
    return std::move(**file);
}

AccountResult<bool> AccountService::owns_file(const Principal& principal,
                                              const std::string& file_id) {
    auto owner = m_store.file_owner(file_id);
    if (!owner) return fail(store_failure(owner.error()));
    return *owner == std::optional<AccountId>(principal.account_id);
}

AccountResult<OwnedFileRecord> AccountService::delete_file(const Principal& principal,
                                                           const std::string& file_id) {
    auto file = get_file(principal, file_id);
    if (!file) return fail(file.error());
    auto r = m_store.delete_file(principal.account_id, file_id);
    if (!r) {
        if (r.error().code == StoreError::not_found) return fail(failure(AccountError::not_found));
        return fail(store_failure(r.error()));
    }
    return std::move(*file);
}

}  // namespace satload::accounts
