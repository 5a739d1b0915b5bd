// Pins down the account store the embedded server runs on (CachedAccountStore over SQLite): a
// token's owner and a file's owner are read from the database once, and every write that
// changes them (logout, an API token's revocation, a password change, recovery, a deleted
// file) is seen by the very next request; a read that raced such a write is never kept; the
// cache is bounded.
#include "accounts/cached_account_store.h"

#include <gtest/gtest.h>

#include <functional>
#include <utility>

#include "accounts_test_util.h"

namespace satload::accounts {
namespace {

using testing::Client;

// Forwards to a real store, counting the two reads the cache keeps; `during_token_read` runs
// between the real read and its answer (a write racing the read), and `invent_owners` answers
// any file id with an owner without a database (to fill the cache past its bound).
class CountingAccountStore final : public AccountStore {
public:
    explicit CountingAccountStore(AccountStore& inner) : m_inner(inner) {}

    int token_reads = 0;
    int file_owner_reads = 0;
    std::function<void()> during_token_read;
    bool invent_owners = false;

    StoreResult<std::optional<TokenOwner>> find_token_owner(
        const crypto::Sha256Digest& h) override {
        ++token_reads;
        auto r = m_inner.find_token_owner(h);
        if (during_token_read) std::exchange(during_token_read, nullptr)();
        return r;
    }
    StoreResult<std::optional<AccountId>> file_owner(const std::string& file_id) override {
        ++file_owner_reads;
        if (invent_owners) return std::optional<AccountId>(7);
        return m_inner.file_owner(file_id);
    }

    StoreResult<AccountId> create_account(const AccountRecord& a) override {
        return m_inner.create_account(a);
    }
    StoreResult<std::optional<AccountRecord>> find_account(const std::string& u) override {
        return m_inner.find_account(u);
    }
    StoreResult<std::optional<AccountRecord>> get_account(AccountId id) override {
        return m_inner.get_account(id);
    }
    StoreResult<void> replace_password(AccountId id, const PasswordRecord& r,
                                       const RevokeOnPasswordChange& revoke) override {
        return m_inner.replace_password(id, r, revoke);
    }
    StoreResult<void> set_quota_override(AccountId id, std::optional<std::uint64_t> q) override {
        return m_inner.set_quota_override(id, q);
    }
    StoreResult<TokenId> create_token(const TokenRecord& t) override {
        return m_inner.create_token(t);
    }
    StoreResult<std::optional<TokenRecord>> find_token(const crypto::Sha256Digest& h) override {
        return m_inner.find_token(h);
    }
    StoreResult<std::vector<TokenRecord>> list_tokens(AccountId id, TokenKind kind) override {
        return m_inner.list_tokens(id, kind);
    }
    StoreResult<void> revoke_token(AccountId id, TokenId t) override {
        return m_inner.revoke_token(id, t);
    }
    StoreResult<std::size_t> delete_dead_tokens(std::int64_t now_s, std::size_t limit) override {
        return m_inner.delete_dead_tokens(now_s, limit);
    }
    StoreResult<void> add_file(const OwnedFileRecord& f) override { return m_inner.add_file(f); }
    StoreResult<void> add_file_from_parts(const OwnedFileRecord& f,
                                          const std::vector<std::string>& p) override {
        return m_inner.add_file_from_parts(f, p);
    }
    StoreResult<std::optional<OwnedFileRecord>> get_file(AccountId id,
                                                         const std::string& f) override {
        return m_inner.get_file(id, f);
    }
    StoreResult<std::vector<OwnedFileRecord>> list_files(AccountId id, const std::string& after,
                                                         std::size_t limit) override {
        return m_inner.list_files(id, after, limit);
    }
    StoreResult<void> delete_file(AccountId id, const std::string& f) override {
        return m_inner.delete_file(id, f);
    }
    StoreResult<std::uint64_t> used_bytes(AccountId id, std::int64_t now_s) override {
        return m_inner.used_bytes(id, now_s);
    }
    StoreResult<void> add_part(const OwnedPartRecord& p, std::int64_t now_s) override {
        return m_inner.add_part(p, now_s);
    }
    StoreResult<void> remove_parts(const std::vector<std::string>& ids) override {
        return m_inner.remove_parts(ids);
    }
    StoreResult<std::uint64_t> parts_bytes(AccountId id, const std::vector<std::string>& ids,
                                           std::int64_t now_s) override {
        return m_inner.parts_bytes(id, ids, now_s);
    }

private:
    AccountStore& m_inner;
};

class CachedAccountStoreTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto sqlite = m_db.open();
        ASSERT_TRUE(sqlite) << sqlite.error().message;
        m_sqlite = std::move(*sqlite);
        auto counting = std::make_unique<CountingAccountStore>(*m_sqlite);
        m_counting = counting.get();
        m_cached = std::make_unique<CachedAccountStore>(std::move(counting));
        AccountServiceOptions options;
        options.fake_salt_secret = Bytes(kFakeSaltSecretBytes, 0x42);
        m_service = std::make_unique<AccountService>(*m_cached, m_clock, std::move(options),
                                                     testing::seeded_random(testing::kSeed));
    }
    void TearDown() override {
        m_service.reset();
        m_cached.reset();
        m_sqlite.reset();
    }
    Client cached_registered(const std::string& username) {
        Client c = Client::make(username, m_random);
        auto id = m_service->register_account(c.registration(m_random));
        EXPECT_TRUE(id) << (id ? "" : id.error().message);
        return c;
    }
    LoginGrant cached_login(const Client& c) {
        auto grant = m_service->login(c.username, c.auth(), "192.0.2.1");
        EXPECT_TRUE(grant);
        return grant ? *grant : LoginGrant{};
    }
    // Authenticates twice: the second answer must come from memory.
    void expect_kept(const std::string& token) {
        ASSERT_TRUE(m_service->authenticate(token));
        const int reads = m_counting->token_reads;
        ASSERT_TRUE(m_service->authenticate(token));
        EXPECT_EQ(m_counting->token_reads, reads) << "the second authentication read the store";
    }

    testing::AccountDb m_db{testing::DbBackend::sqlite};
    files::ManualClock m_clock{1'700'000'000};
    crypto::RandomSource m_random = testing::seeded_random(testing::kSeed + 1);
    std::unique_ptr<AccountStore> m_sqlite;
    CountingAccountStore* m_counting = nullptr;
    std::unique_ptr<CachedAccountStore> m_cached;
    std::unique_ptr<AccountService> m_service;
};

// A found token is read once; an unknown one is read every time (nothing is kept of it), and
// a session still expires on time though its owner is kept.
TEST_F(CachedAccountStoreTest, KeepsFoundTokensAndStillExpiresThem) {
    Client alice = cached_registered("alice");
    const LoginGrant grant = cached_login(alice);
    expect_kept(grant.token);
    EXPECT_EQ(m_cached->cached_token_owners(), 1u);

    std::string unknown = grant.token;
    unknown.back() = unknown.back() == 'A' ? 'Q' : 'A';
    const int reads = m_counting->token_reads;
    EXPECT_FALSE(m_service->authenticate(unknown));
    EXPECT_FALSE(m_service->authenticate(unknown));
    EXPECT_EQ(m_counting->token_reads, reads + 2);

    m_clock.advance(kDefaultSessionLifetimeS);
    EXPECT_EQ(m_service->authenticate(grant.token).error().code, AccountError::unauthenticated);
}

// Each way a token dies is seen by the next request, though its owner was kept: logout, an API
// token's revocation, a password change (other sessions), recovery (every token).
TEST_F(CachedAccountStoreTest, EveryRevocationIsSeenAtOnce) {
    Client alice = cached_registered("alice");
    const LoginGrant out = cached_login(alice);
    expect_kept(out.token);
    ASSERT_TRUE(m_service->logout(out.principal));
    EXPECT_EQ(m_service->authenticate(out.token).error().code, AccountError::unauthenticated);

    const LoginGrant current = cached_login(alice);
    const LoginGrant other = cached_login(alice);
    auto api = m_service->create_api_token(current.principal, "script");
    ASSERT_TRUE(api);
    expect_kept(current.token);
    expect_kept(other.token);
    expect_kept(api->token);
    ASSERT_TRUE(m_service->revoke_api_token(current.principal, api->token_id));
    EXPECT_EQ(m_service->authenticate(api->token).error().code, AccountError::unauthenticated);
    EXPECT_TRUE(m_service->authenticate(other.token));

    Client changed = alice;
    changed.set_password(m_random, std::nullopt);
    ASSERT_TRUE(m_service->change_password(current.principal, alice.auth(),
                                           changed.new_password(m_random), "x"));
    EXPECT_TRUE(m_service->authenticate(current.token));  // the caller's own session survives
    EXPECT_EQ(m_service->authenticate(other.token).error().code, AccountError::unauthenticated);

    auto api2 = m_service->create_api_token(current.principal, "script 2");
    ASSERT_TRUE(api2);
    expect_kept(api2->token);
    expect_kept(current.token);
    Client renewed = changed;
    renewed.set_password(m_random, std::nullopt);
    const Bytes proof = alice.recovery_auth();
    ASSERT_TRUE(m_service->begin_recovery("alice", proof, "x"));
    auto grant = m_service->complete_recovery("alice", proof, renewed.new_password(m_random), "x");
    ASSERT_TRUE(grant);
    EXPECT_EQ(m_service->authenticate(current.token).error().code, AccountError::unauthenticated);
    EXPECT_EQ(m_service->authenticate(api2->token).error().code, AccountError::unauthenticated);
    EXPECT_TRUE(m_service->authenticate(grant->token));
}

// A revocation that lands while a token is being read (after the database answered, before
// the answer is kept) leaves nothing kept: the next request reads again and is refused.
TEST_F(CachedAccountStoreTest, AReadThatRacedARevocationIsNotKept) {
    Client alice = cached_registered("alice");
    const LoginGrant grant = cached_login(alice);
    m_counting->during_token_read = [&] {
        ASSERT_TRUE(m_cached->revoke_token(grant.principal.account_id, grant.principal.token_id));
    };
    // This request read the token before the revocation: it passes (they were concurrent).
    EXPECT_TRUE(m_service->authenticate(grant.token));
    EXPECT_EQ(m_cached->cached_token_owners(), 0u);
    EXPECT_EQ(m_service->authenticate(grant.token).error().code, AccountError::unauthenticated);
}

// A file's owner is read once and forgotten when the file is deleted; the service's ownership
// question answers from it.
TEST_F(CachedAccountStoreTest, FileOwnersAreKeptUntilTheFileIsDeleted) {
    Client alice = cached_registered("alice");
    Client bob = cached_registered("bob");
    const Principal a = cached_login(alice).principal;
    const Principal b = cached_login(bob).principal;
    const Bytes wrapped =
        crypto::wrap_file_secret(alice.master_key, crypto::FileSecret{}, m_random);
    ASSERT_TRUE(m_service->add_file(a, NewOwnedFile{"f1", wrapped, 10, {}}));
    EXPECT_TRUE(*m_service->owns_file(a, "f1"));
    const int reads = m_counting->file_owner_reads;
    EXPECT_FALSE(*m_service->owns_file(b, "f1"));
    EXPECT_EQ(*m_cached->file_owner("f1"), std::optional<AccountId>(a.account_id));
    EXPECT_EQ(m_counting->file_owner_reads, reads);

    ASSERT_TRUE(m_service->delete_file(a, "f1"));
    EXPECT_FALSE(*m_service->owns_file(a, "f1"));
    EXPECT_EQ(*m_cached->file_owner("f1"), std::optional<AccountId>());
    EXPECT_EQ(m_cached->cached_file_owners(), 0u);
}

// The cache never holds more than its bound: one more distinct file starts it again.
TEST_F(CachedAccountStoreTest, TheCacheIsBounded) {
    m_counting->invent_owners = true;
    for (std::size_t i = 0; i < kCachedFileOwnersMax; ++i)
        ASSERT_TRUE(m_cached->file_owner("f" + std::to_string(i)));
    EXPECT_EQ(m_cached->cached_file_owners(), kCachedFileOwnersMax);
    ASSERT_TRUE(m_cached->file_owner("one more"));
    EXPECT_EQ(m_cached->cached_file_owners(), 1u);
    const int reads = m_counting->file_owner_reads;
    ASSERT_TRUE(m_cached->file_owner("one more"));
    EXPECT_EQ(m_counting->file_owner_reads, reads);
}

}  // namespace
}  // namespace satload::accounts
