// Pins down the account rules: usernames, salts, login outcomes and throttling,
// sessions and API tokens, the authorization matrix over owned files, quotas,
// password change and recovery, on each account store backend.
#include "accounts/account_service.h"

#include <gtest/gtest.h>

#include "accounts_test_util.h"

namespace satload::accounts {
namespace {

using testing::AccountsBackendTest;
using testing::Client;

crypto::FileSecret secret_of(std::uint8_t b) {
    crypto::FileSecret s{};
    s.fill(b);
    return s;
}

// Usernames are 3..32 of [a-z0-9_-], lowercased, and unique whatever their
// case.
TEST_P(AccountsBackendTest, UsernameRules) {
    for (const std::string& bad :
         std::vector<std::string>{"ab", std::string(33, 'a'), "al ice", "alice!", "élan", ""}) {
        Client c = Client::make(bad, m_random);
        auto r = m_service->register_account(c.registration(m_random));
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error().code, AccountError::invalid_username) << bad;
    }
    EXPECT_TRUE(
        m_service->register_account(Client::make("a_b-9", m_random).registration(m_random)));
    EXPECT_TRUE(m_service->register_account(
        Client::make(std::string(32, 'z'), m_random).registration(m_random)));
    ASSERT_TRUE(
        m_service->register_account(Client::make("Alice", m_random).registration(m_random)));
    auto dup = m_service->register_account(Client::make("aLICE", m_random).registration(m_random));
    ASSERT_FALSE(dup);
    EXPECT_EQ(dup.error().code, AccountError::username_taken);
}

// Keys and wrapped blobs of the wrong size are refused at registration.
TEST_P(AccountsBackendTest, RegistrationChecksSizes) {
    Client c = Client::make("alice", m_random);
    Registration r = c.registration(m_random);
    r.password.auth_key.pop_back();
    EXPECT_EQ(m_service->register_account(r).error().code, AccountError::malformed);
    r = c.registration(m_random);
    r.master_by_recovery.push_back(0);
    EXPECT_EQ(m_service->register_account(r).error().code, AccountError::malformed);
}

// A registered user's salt is theirs (case-insensitively); an unknown user's is
// a fake that is stable across calls and service restarts and differs per name.
TEST_P(AccountsBackendTest, SaltIsRealOrDeterministicFake) {
    Client alice = registered("alice");
    EXPECT_EQ(*m_service->salt("alice"), alice.salt);
    EXPECT_EQ(*m_service->salt("ALICE"), alice.salt);
    const auto fake = *m_service->salt("mallory");
    EXPECT_EQ(*m_service->salt("mallory"), fake);
    EXPECT_NE(*m_service->salt("mallorz"), fake);
    open_service();
    EXPECT_EQ(*m_service->salt("mallory"), fake);
    EXPECT_EQ(*m_service->salt("alice"), alice.salt);
    EXPECT_TRUE(m_service->salt("x!"));  // invalid names get a fake too
}

// Login gives a session token and the password-wrapped master key, which the
// client unwraps.
TEST_P(AccountsBackendTest, LoginReturnsSessionAndWrappedMasterKey) {
    Client alice = registered("alice");
    LoginGrant grant = logged_in(alice);
    EXPECT_EQ(grant.principal.username, "alice");
    EXPECT_EQ(grant.expires_s, m_clock.now_s() + kDefaultSessionLifetimeS);
    auto master = crypto::unwrap_master_key(alice.password_key, grant.master_by_password);
    ASSERT_TRUE(master);
    EXPECT_TRUE(*master == alice.master_key);
    auto who = m_service->authenticate(grant.token);
    ASSERT_TRUE(who);
    EXPECT_EQ(who->account_id, grant.principal.account_id);
    EXPECT_EQ(who->kind, TokenKind::session);
}

// A wrong password and an unknown user give the same outcome, message included,
// and both count towards throttling alike.
TEST_P(AccountsBackendTest, WrongPasswordAndUnknownUserAreIndistinguishable) {
    Client alice = registered("alice");
    registered("carol");
    const Bytes wrong(32, 0x11);
    auto a = m_service->login("alice", wrong, "198.51.100.1");
    auto b = m_service->login("nobody", wrong, "198.51.100.2");
    auto c = m_service->login("carol", Bytes(31, 0),
                              "198.51.100.3");  // a key of the wrong size
    ASSERT_FALSE(a);
    ASSERT_FALSE(b);
    ASSERT_FALSE(c);
    EXPECT_EQ(a.error().code, AccountError::bad_credentials);
    EXPECT_EQ(b.error().code, AccountError::bad_credentials);
    EXPECT_EQ(c.error().code, AccountError::bad_credentials);
    EXPECT_EQ(a.error().message, b.error().message);
    EXPECT_EQ(a.error().retry_after_s, b.error().retry_after_s);
    // Same throttling for both: after the free failures, both names are
    // throttled.
    const ThrottlePolicy policy;
    for (std::uint32_t i = 1; i < policy.free_failures; ++i) {
        (void)m_service->login("alice", wrong, "198.51.100." + std::to_string(10 + i));
        (void)m_service->login("nobody", wrong, "198.51.100." + std::to_string(10 + i));
    }
    auto ta = m_service->login("alice", wrong, "203.0.113.1");
    auto tb = m_service->login("nobody", wrong, "203.0.113.2");
    EXPECT_EQ(ta.error().code,
              AccountError::bad_credentials);  // the 6th attempt is still tried
    EXPECT_EQ(tb.error().code, AccountError::bad_credentials);
    auto ta2 = m_service->login("alice", wrong, "203.0.113.1");
    auto tb2 = m_service->login("nobody", wrong, "203.0.113.2");
    EXPECT_EQ(ta2.error().code, AccountError::throttled);
    EXPECT_EQ(tb2.error().code, AccountError::throttled);
    EXPECT_EQ(ta2.error().retry_after_s, tb2.error().retry_after_s);
}

// Past the free failures even the right password is refused until the wait is
// over; the wait grows, and a quiet hour forgets it.
TEST_P(AccountsBackendTest, LoginThrottlingKicksInAndDecays) {
    Client alice = registered("alice");
    const Bytes wrong(32, 0x11);
    const ThrottlePolicy policy;
    for (std::uint32_t i = 0; i <= policy.free_failures; ++i) {
        EXPECT_EQ(m_service->login("alice", wrong, "192.0.2.7").error().code,
                  AccountError::bad_credentials);
    }
    auto refused = m_service->login("alice", alice.auth(), "192.0.2.8");
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, AccountError::throttled);
    EXPECT_EQ(refused.error().retry_after_s, policy.base_delay_s);
    m_clock.advance(policy.base_delay_s);
    EXPECT_EQ(m_service->login("alice", wrong, "192.0.2.7").error().code,
              AccountError::bad_credentials);
    EXPECT_EQ(m_service->login("alice", alice.auth(), "192.0.2.8").error().retry_after_s,
              2 * policy.base_delay_s);
    m_clock.advance(policy.forget_after_s);
    EXPECT_TRUE(m_service->login("alice", alice.auth(), "192.0.2.8"));
}

// One address guessing across many usernames is throttled by its address
// counter.
TEST_P(AccountsBackendTest, AddressThrottleSpansUsernames) {
    registered("alice");
    const ThrottlePolicy address = AccountServiceOptions{}.address_throttle;
    for (std::uint32_t i = 0; i <= address.free_failures; ++i) {
        EXPECT_EQ(
            m_service->login("user" + std::to_string(i), Bytes(32, 1), "192.0.2.66").error().code,
            AccountError::bad_credentials);
    }
    EXPECT_EQ(m_service->login("someone", Bytes(32, 1), "192.0.2.66").error().code,
              AccountError::throttled);
    EXPECT_EQ(m_service->login("someone", Bytes(32, 1), "192.0.2.67").error().code,
              AccountError::bad_credentials);
}

// Sessions expire after their lifetime; logout revokes; junk and swapped
// prefixes are refused.
TEST_P(AccountsBackendTest, ExpiredRevokedAndMalformedTokensAreRefused) {
    Client alice = registered("alice");
    LoginGrant first = logged_in(alice);
    m_clock.advance(kDefaultSessionLifetimeS - 1);
    EXPECT_TRUE(m_service->authenticate(first.token));
    m_clock.advance(1);
    EXPECT_EQ(m_service->authenticate(first.token).error().code, AccountError::unauthenticated);

    LoginGrant second = logged_in(alice);
    auto who = m_service->authenticate(second.token);
    ASSERT_TRUE(who);
    ASSERT_TRUE(m_service->logout(*who));
    EXPECT_EQ(m_service->authenticate(second.token).error().code, AccountError::unauthenticated);
    EXPECT_EQ(m_service->logout(*who).error().code, AccountError::unauthenticated);

    LoginGrant third = logged_in(alice);
    std::string swapped = third.token;
    swapped.replace(0, kApiTokenPrefix.size(), kApiTokenPrefix);
    EXPECT_EQ(m_service->authenticate(swapped).error().code, AccountError::unauthenticated);
    std::string flipped = third.token;
    flipped.back() = flipped.back() == 'A' ? 'Q' : 'A';
    EXPECT_FALSE(m_service->authenticate(flipped));
    EXPECT_FALSE(m_service->authenticate(""));
    EXPECT_FALSE(m_service->authenticate("sls_"));
    EXPECT_FALSE(m_service->authenticate(third.token + "A"));
    EXPECT_TRUE(m_service->authenticate(third.token));
}

// API tokens are named, listed, never expire, revocable by their owner only,
// and limited.
TEST_P(AccountsBackendTest, ApiTokens) {
    Client alice = registered("alice");
    Client bob = registered("bob");
    const Principal a = logged_in(alice).principal;
    const Principal b = logged_in(bob).principal;
    auto token = m_service->create_api_token(a, "backup script");
    ASSERT_TRUE(token);
    EXPECT_TRUE(token->token.starts_with(kApiTokenPrefix));
    m_clock.advance(10 * kDefaultSessionLifetimeS);
    auto who = m_service->authenticate(token->token);
    ASSERT_TRUE(who);
    EXPECT_EQ(who->kind, TokenKind::api);
    EXPECT_EQ(who->account_id, a.account_id);
    // An API token cannot mint another (it would survive its own revocation), but may list.
    EXPECT_EQ(m_service->create_api_token(*who, "child").error().code,
              AccountError::session_required);
    auto listed = m_service->list_api_tokens(a);
    ASSERT_EQ(listed->size(), 1u);
    EXPECT_EQ((*listed)[0].name, "backup script");
    EXPECT_TRUE(m_service->list_api_tokens(b)->empty());

    EXPECT_EQ(m_service->revoke_api_token(b, token->token_id).error().code,
              AccountError::not_found);
    EXPECT_TRUE(m_service->authenticate(token->token));
    // A session's token id is not revocable through the API-token route either.
    EXPECT_EQ(m_service->revoke_api_token(a, a.token_id).error().code, AccountError::not_found);
    ASSERT_TRUE(m_service->revoke_api_token(a, token->token_id));
    EXPECT_EQ(m_service->authenticate(token->token).error().code, AccountError::unauthenticated);

    EXPECT_EQ(m_service->create_api_token(a, "").error().code, AccountError::malformed);
    EXPECT_EQ(m_service->create_api_token(a, std::string(kMaxTokenNameBytes + 1, 'x')).error().code,
              AccountError::malformed);
    for (std::size_t i = 0; i < kMaxApiTokensPerAccount; ++i) {
        ASSERT_TRUE(m_service->create_api_token(a, "t" + std::to_string(i)));
    }
    EXPECT_EQ(m_service->create_api_token(a, "one more").error().code,
              AccountError::too_many_tokens);
}

// The authorization matrix over owned files: B cannot see, get or delete A's
// files with A's file ids; A can; the outcome for B is the same as for an id
// that does not exist.
TEST_P(AccountsBackendTest, FilesAreVisibleToTheirOwnerOnly) {
    Client alice = registered("alice");
    Client bob = registered("bob");
    const Principal a = logged_in(alice).principal;
    const Principal b = logged_in(bob).principal;
    const Bytes wrapped = crypto::wrap_file_secret(alice.master_key, secret_of(7), m_random);
    ASSERT_TRUE(m_service->add_file(a, NewOwnedFile{"fileA1", wrapped, 1000, {}}));
    ASSERT_TRUE(m_service->add_file(a, NewOwnedFile{"fileA2", wrapped, 2000, {}}));

    EXPECT_EQ(m_service->list_files(a, "", 100)->size(), 2u);
    EXPECT_TRUE(m_service->list_files(b, "", 100)->empty());
    EXPECT_EQ(m_service->get_file(b, "fileA1").error().code, AccountError::not_found);
    EXPECT_EQ(m_service->get_file(b, "nosuch").error().code, AccountError::not_found);
    EXPECT_EQ(m_service->delete_file(b, "fileA1").error().code, AccountError::not_found);
    // B cannot take over A's id by recording it as their own either.
    EXPECT_EQ(m_service->add_file(b, NewOwnedFile{"fileA1", wrapped, 1, {}}).error().code,
              AccountError::file_exists);
    EXPECT_EQ(m_service->list_files(a, "", 100)->size(), 2u);

    auto got = m_service->get_file(a, "fileA1");
    ASSERT_TRUE(got);
    auto secret = crypto::unwrap_file_secret(alice.master_key, got->wrapped_secret);
    ASSERT_TRUE(secret);
    EXPECT_EQ(*secret, secret_of(7));
    auto deleted = m_service->delete_file(a, "fileA1");
    ASSERT_TRUE(deleted);
    EXPECT_EQ(deleted->size_bytes, 1000u);
    EXPECT_EQ(m_service->list_files(a, "", 100)->size(), 1u);
    EXPECT_EQ(m_service->delete_file(a, "fileA1").error().code, AccountError::not_found);

    // Paging: after_id and the limit.
    auto page = m_service->list_files(a, "fileA1", 1);
    ASSERT_EQ(page->size(), 1u);
    EXPECT_EQ((*page)[0].file_id, "fileA2");
    EXPECT_EQ(m_service->add_file(a, NewOwnedFile{"bad id", wrapped, 1, {}}).error().code,
              AccountError::malformed);
    EXPECT_EQ(m_service->add_file(a, NewOwnedFile{"x", Bytes(43, 0), 1, {}}).error().code,
              AccountError::malformed);
}

// Quota: 100 GiB by default, an upload is refused when it would pass the limit
// (exactly the limit fits), an operator override applies, and deleting files
// frees quota.
TEST_P(AccountsBackendTest, QuotaIsEnforcedAndFreedByDeletion) {
    Client alice = registered("alice");
    const Principal a = logged_in(alice).principal;
    auto q = m_service->quota(a);
    ASSERT_TRUE(q);
    EXPECT_EQ(q->limit_bytes, 100ULL << 30);
    EXPECT_EQ(q->used_bytes, 0u);

    ASSERT_TRUE(m_service->set_quota("alice", 1000));
    EXPECT_TRUE(m_service->check_upload(a, 1000));
    EXPECT_EQ(m_service->check_upload(a, 1001).error().code, AccountError::quota_exceeded);
    const Bytes wrapped = crypto::wrap_file_secret(alice.master_key, secret_of(1), m_random);
    ASSERT_TRUE(m_service->add_file(a, NewOwnedFile{"f1", wrapped, 600, {}}));
    EXPECT_EQ(m_service->quota(a)->used_bytes, 600u);
    EXPECT_TRUE(m_service->check_upload(a, 400));
    EXPECT_EQ(m_service->check_upload(a, 401).error().code, AccountError::quota_exceeded);
    EXPECT_EQ(m_service->check_upload(a, UINT64_MAX).error().code, AccountError::quota_exceeded);
    ASSERT_TRUE(m_service->delete_file(a, "f1"));
    EXPECT_TRUE(m_service->check_upload(a, 1000));
    ASSERT_TRUE(m_service->set_quota("alice", std::nullopt));
    EXPECT_EQ(m_service->quota(a)->limit_bytes, kDefaultQuotaBytes);
    EXPECT_EQ(m_service->set_quota("nobody", 5).error().code, AccountError::not_found);
}

// A part made with a session counts against the quota until it expires or is removed; a
// final upload's check counts the caller's own parts among its parts once (the file takes
// their place), another account's parts in full; the file then ends the parts' records.
TEST_P(AccountsBackendTest, PartsCountUntilTheFileTakesTheirPlace) {
    Client alice = registered("alice");
    Client bob = registered("bob");
    const Principal a = logged_in(alice).principal;
    const Principal b = logged_in(bob).principal;
    ASSERT_TRUE(m_service->set_quota("alice", 1000));
    ASSERT_TRUE(m_service->set_quota("bob", 1000));
    const std::string p1(27, '1');
    const std::string p2(27, '2');
    const std::string pb(27, 'b');
    const std::int64_t expires = m_clock.now_s() + 3600;
    ASSERT_TRUE(m_service->add_part(a, p1, 400, expires));
    ASSERT_TRUE(m_service->add_part(a, p2, 400, expires));
    ASSERT_TRUE(m_service->add_part(b, pb, 150, expires));
    EXPECT_EQ(m_service->quota(a)->used_bytes, 800u);
    EXPECT_EQ(m_service->check_upload(a, 201).error().code, AccountError::quota_exceeded);
    EXPECT_TRUE(m_service->check_upload(a, 200));
    // A final of p1 and p2 (800): fits, as they are counted already; with bob's part too (950):
    // only the 150 are new.
    EXPECT_TRUE(m_service->check_upload(a, 800, {p1, p2}));
    EXPECT_TRUE(m_service->check_upload(a, 950, {p1, p2, pb}));
    EXPECT_EQ(m_service->check_upload(a, 1001, {p1, p2, pb}).error().code,
              AccountError::quota_exceeded);
    // Bob's own part among them counts once; alice's do not count for him (his other part does).
    ASSERT_TRUE(m_service->add_part(b, std::string(27, 'c'), 100, expires));
    EXPECT_TRUE(m_service->check_upload(b, 900, {p1, p2, pb}));
    EXPECT_EQ(m_service->check_upload(b, 901, {p1, p2, pb}).error().code,
              AccountError::quota_exceeded);
    ASSERT_TRUE(m_service->remove_parts({std::string(27, 'c')}));

    const Bytes wrapped = crypto::wrap_file_secret(alice.master_key, secret_of(1), m_random);
    ASSERT_TRUE(m_service->add_file(a, NewOwnedFile{"f1", wrapped, 950, {p1, p2, pb}}));
    EXPECT_EQ(m_service->quota(a)->used_bytes, 950u);
    EXPECT_EQ(m_service->quota(b)->used_bytes, 0u);

    ASSERT_TRUE(m_service->add_part(b, p1, 300, m_clock.now_s() + 10));
    EXPECT_EQ(m_service->quota(b)->used_bytes, 300u);
    m_clock.advance(10);
    EXPECT_EQ(m_service->quota(b)->used_bytes, 0u);
    ASSERT_TRUE(m_service->add_part(b, p2, 700, m_clock.now_s() + 10));
    EXPECT_EQ(m_service->quota(b)->used_bytes, 700u);
    ASSERT_TRUE(m_service->remove_parts({p2}));
    EXPECT_EQ(m_service->quota(b)->used_bytes, 0u);
}

// Password change: the current auth key is proven again; afterwards the old
// password fails, the new one works, the master key is unchanged (files still
// unwrap), other sessions are revoked, the current one and API tokens stay; an
// API token cannot change the password.
TEST_P(AccountsBackendTest, PasswordChangeKeepsMasterKey) {
    Client alice = registered("alice");
    const LoginGrant current = logged_in(alice);
    const LoginGrant other = logged_in(alice);
    const Principal a = current.principal;
    const Bytes wrapped = crypto::wrap_file_secret(alice.master_key, secret_of(9), m_random);
    ASSERT_TRUE(m_service->add_file(a, NewOwnedFile{"f1", wrapped, 10, {}}));
    auto api = m_service->create_api_token(a, "script");
    ASSERT_TRUE(api);

    const Bytes old_auth = alice.auth();
    Client changed = alice;
    changed.set_password(m_random, std::nullopt);
    EXPECT_EQ(m_service->change_password(a, Bytes(32, 0), changed.new_password(m_random), "x")
                  .error()
                  .code,
              AccountError::bad_credentials);
    const Principal api_principal = *m_service->authenticate(api->token);
    EXPECT_EQ(
        m_service->change_password(api_principal, old_auth, changed.new_password(m_random), "x")
            .error()
            .code,
        AccountError::session_required);
    ASSERT_TRUE(m_service->change_password(a, old_auth, changed.new_password(m_random), "x"));

    EXPECT_EQ(m_service->login("alice", old_auth, "x").error().code, AccountError::bad_credentials);
    EXPECT_EQ(*m_service->salt("alice"), changed.salt);
    const LoginGrant fresh = logged_in(changed);
    auto master = crypto::unwrap_master_key(changed.password_key, fresh.master_by_password);
    ASSERT_TRUE(master);
    EXPECT_TRUE(*master == alice.master_key);
    auto file = m_service->get_file(fresh.principal, "f1");
    ASSERT_TRUE(file);
    EXPECT_EQ(*crypto::unwrap_file_secret(*master, file->wrapped_secret), secret_of(9));

    EXPECT_TRUE(m_service->authenticate(current.token));
    EXPECT_EQ(m_service->authenticate(other.token).error().code, AccountError::unauthenticated);
    EXPECT_TRUE(m_service->authenticate(api->token));
}

// Recovery: a wrong recovery proof fails like a wrong password; the right one
// hands out the recovery-wrapped master key, which the client unwraps;
// completing sets a new password, revokes every session and API token, and
// every file still unwraps.
TEST_P(AccountsBackendTest, RecoveryKeepsMasterKeyAndRevokesEverything) {
    Client alice = registered("alice");
    const LoginGrant old_session = logged_in(alice);
    const Principal a = old_session.principal;
    const Bytes wrapped = crypto::wrap_file_secret(alice.master_key, secret_of(3), m_random);
    ASSERT_TRUE(m_service->add_file(a, NewOwnedFile{"f1", wrapped, 10, {}}));
    auto api = m_service->create_api_token(a, "script");
    ASSERT_TRUE(api);

    EXPECT_EQ(m_service->begin_recovery("alice", Bytes(32, 5), "x").error().code,
              AccountError::bad_credentials);
    EXPECT_EQ(m_service->begin_recovery("nobody", alice.recovery_auth(), "x").error().code,
              AccountError::bad_credentials);
    // The password's auth key is no recovery proof.
    EXPECT_FALSE(m_service->begin_recovery("alice", alice.auth(), "x"));

    // The client has only the recovery key text (the password is forgotten).
    const auto recovery =
        crypto::recovery_key_from_text(crypto::recovery_key_to_text(alice.recovery_key));
    ASSERT_TRUE(recovery);
    const auto recovery_auth = crypto::derive_recovery_auth_key(*recovery);
    const Bytes proof(recovery_auth.bytes().begin(), recovery_auth.bytes().end());
    auto blob = m_service->begin_recovery("alice", proof, "x");
    ASSERT_TRUE(blob);
    auto master = crypto::unwrap_master_key(crypto::derive_recovery_wrap_key(*recovery), *blob);
    ASSERT_TRUE(master);
    EXPECT_TRUE(*master == alice.master_key);

    Client renewed = alice;
    renewed.set_password(m_random, std::nullopt);
    auto grant = m_service->complete_recovery("alice", proof, renewed.new_password(m_random), "x");
    ASSERT_TRUE(grant);
    EXPECT_TRUE(m_service->authenticate(grant->token));
    EXPECT_EQ(m_service->authenticate(old_session.token).error().code,
              AccountError::unauthenticated);
    EXPECT_EQ(m_service->authenticate(api->token).error().code, AccountError::unauthenticated);
    EXPECT_EQ(m_service->login("alice", alice.auth(), "x").error().code,
              AccountError::bad_credentials);
    const LoginGrant fresh = logged_in(renewed);
    auto again = crypto::unwrap_master_key(renewed.password_key, fresh.master_by_password);
    ASSERT_TRUE(again);
    EXPECT_TRUE(*again == alice.master_key);
    auto file = m_service->get_file(fresh.principal, "f1");
    ASSERT_TRUE(file);
    EXPECT_EQ(*crypto::unwrap_file_secret(*again, file->wrapped_secret), secret_of(3));
}

// Recovery proofs are throttled like logins, so the recovery auth hash cannot
// be probed fast.
TEST_P(AccountsBackendTest, RecoveryIsThrottled) {
    Client alice = registered("alice");
    const ThrottlePolicy policy;
    for (std::uint32_t i = 0; i <= policy.free_failures; ++i) {
        (void)m_service->begin_recovery("alice", Bytes(32, static_cast<std::uint8_t>(i)), "x");
    }
    EXPECT_EQ(m_service->begin_recovery("alice", alice.recovery_auth(), "y").error().code,
              AccountError::throttled);
}

INSTANTIATE_TEST_SUITE_P(Backends, AccountsBackendTest,
                         ::testing::Values(store::testing::DbBackend::sqlite,
                                           store::testing::DbBackend::postgres),
                         store::testing::db_backend_name);

}  // namespace
}  // namespace satload::accounts
