// Pins down the account store contract on each backend (SQLite and PostgreSQL): taken usernames,
// not_found for an absent or foreign record, token expiry and revocation, quotas, file
// ownership and bytewise file order, and that two instances on one database (two server
// processes) see each other's writes at once.
#include <gtest/gtest.h>

#include <limits>
#include <thread>

#include "accounts/pg_account_store.h"
#include "accounts_test_util.h"

namespace satload::accounts {
namespace {

using store::testing::DbBackend;

AccountRecord account_named(const std::string& username, std::uint8_t fill = 1) {
    AccountRecord a;
    a.username = username;
    a.password.salt.fill(fill);
    a.password.auth_hash.fill(static_cast<std::uint8_t>(fill + 1));
    a.password.master_by_password = Bytes(crypto::kWrappedMasterKeyBytes, static_cast<std::uint8_t>(fill + 2));
    a.recovery_auth_hash.fill(static_cast<std::uint8_t>(fill + 3));
    a.master_by_recovery = Bytes(crypto::kWrappedMasterKeyBytes, static_cast<std::uint8_t>(fill + 4));
    a.created_s = 1'700'000'000 + fill;
    return a;
}

TokenRecord token_of(AccountId account, TokenKind kind, std::uint8_t hash_fill,
                     std::optional<std::int64_t> expires_s = std::nullopt) {
    TokenRecord t;
    t.account_id = account;
    t.kind = kind;
    t.name = kind == TokenKind::api ? "ci token " + std::to_string(hash_fill) : "";
    t.token_hash.fill(hash_fill);
    t.created_s = 1'700'000'100 + hash_fill;
    t.expires_s = expires_s;
    return t;
}

OwnedFileRecord file_of(AccountId account, const std::string& file_id, std::uint64_t size_bytes) {
    OwnedFileRecord f;
    f.file_id = file_id;
    f.account_id = account;
    f.wrapped_secret = Bytes(crypto::kWrappedFileSecretBytes, static_cast<std::uint8_t>(file_id[0]));
    for (std::size_t i = 0; i < f.wrapped_secret.size(); ++i) f.wrapped_secret[i] ^= static_cast<std::uint8_t>(i);
    f.size_bytes = size_bytes;
    f.created_s = 1'700'000'200;
    return f;
}

// The clock of the tests that count parts (which expire): every file and part here is
// created before it.
constexpr std::int64_t kNow = 1'700'000'500;

// A 22-character file id starting with `c`.
std::string fid(char c) { return std::string(1, c) + std::string(21, 'x'); }

class AccountStoreTest : public ::testing::TestWithParam<DbBackend> {
protected:
    void SetUp() override {
        if (GetParam() == DbBackend::postgres) SATLOAD_REQUIRE_PG();
        m_db.emplace(GetParam());
        auto s = m_db->open();
        ASSERT_TRUE(s) << s.error().message;
        m_store = std::move(*s);
    }
    void TearDown() override {
        m_store.reset();
        m_db.reset();
    }
    AccountId create(const std::string& username, std::uint8_t fill = 1) {
        auto id = m_store->create_account(account_named(username, fill));
        EXPECT_TRUE(id) << (id ? "" : id.error().message);
        return id ? *id : 0;
    }
    TokenId token(const TokenRecord& t) {
        auto id = m_store->create_token(t);
        EXPECT_TRUE(id) << (id ? "" : id.error().message);
        return id ? *id : 0;
    }
    std::vector<TokenId> live_ids(AccountId account, TokenKind kind) {
        auto list = m_store->list_tokens(account, kind);
        EXPECT_TRUE(list);
        std::vector<TokenId> ids;
        if (list) {
            for (const auto& t : *list) ids.push_back(t.token_id);
        }
        return ids;
    }

    std::optional<testing::AccountDb> m_db;
    std::unique_ptr<AccountStore> m_store;
};

// Every field of an account reads back as written, by name and by id; a taken username is
// `exists` and leaves the first account as it was; an unknown one is nothing, not an error.
TEST_P(AccountStoreTest, AccountsRoundTripAndUsernamesAreUnique) {
    const AccountId alice = create("alice", 10);
    const AccountId bob = create("bob", 20);
    EXPECT_NE(alice, bob);
    auto again = m_store->create_account(account_named("alice", 30));
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, StoreError::exists);

    const AccountRecord want = account_named("alice", 10);
    for (auto found : {m_store->find_account("alice"), m_store->get_account(alice)}) {
        ASSERT_TRUE(found) << found.error().message;
        ASSERT_TRUE(found->has_value());
        const AccountRecord& a = **found;
        EXPECT_EQ(a.account_id, alice);
        EXPECT_EQ(a.username, "alice");
        EXPECT_EQ(a.password.salt, want.password.salt);
        EXPECT_EQ(a.password.auth_hash, want.password.auth_hash);
        EXPECT_EQ(a.password.master_by_password, want.password.master_by_password);
        EXPECT_EQ(a.recovery_auth_hash, want.recovery_auth_hash);
        EXPECT_EQ(a.master_by_recovery, want.master_by_recovery);
        EXPECT_FALSE(a.quota_override_bytes);
        EXPECT_EQ(a.created_s, want.created_s);
    }
    auto none = m_store->find_account("carol");
    ASSERT_TRUE(none);
    EXPECT_FALSE(none->has_value());
    auto no_id = m_store->get_account(alice + bob + 100);
    ASSERT_TRUE(no_id);
    EXPECT_FALSE(no_id->has_value());
}

// A wrapped key of the wrong size is refused by the database itself, not stored.
TEST_P(AccountStoreTest, WrongSizedKeysAreRefused) {
    AccountRecord a = account_named("alice");
    a.master_by_recovery.pop_back();
    EXPECT_FALSE(m_store->create_account(a));
    auto found = m_store->find_account("alice");
    ASSERT_TRUE(found);
    EXPECT_FALSE(found->has_value());
}

// A quota override is set, read back, cleared; a value past the database's range and an
// unknown account are refused and change nothing.
TEST_P(AccountStoreTest, QuotaOverride) {
    const AccountId alice = create("alice");
    const std::uint64_t five_gib = 5ULL << 30;
    ASSERT_TRUE(m_store->set_quota_override(alice, five_gib));
    EXPECT_EQ((*m_store->get_account(alice))->quota_override_bytes, std::optional(five_gib));

    auto too_big = m_store->set_quota_override(alice, std::numeric_limits<std::uint64_t>::max());
    ASSERT_FALSE(too_big);
    EXPECT_EQ(too_big.error().code, StoreError::io);
    EXPECT_EQ((*m_store->get_account(alice))->quota_override_bytes, std::optional(five_gib));

    auto unknown = m_store->set_quota_override(alice + 1, 1);
    ASSERT_FALSE(unknown);
    EXPECT_EQ(unknown.error().code, StoreError::not_found);

    ASSERT_TRUE(m_store->set_quota_override(alice, std::nullopt));
    EXPECT_FALSE((*m_store->get_account(alice))->quota_override_bytes);
}

// A token reads back whole by its hash; a second token with the same hash is `exists`; only
// live tokens of the asked kind are listed, oldest first; revoking needs the owner and a live
// token.
TEST_P(AccountStoreTest, TokensRoundTripListAndRevoke) {
    const AccountId alice = create("alice");
    const AccountId bob = create("bob", 2);
    const TokenId s1 = token(token_of(alice, TokenKind::session, 1, 1'700'003'600));
    const TokenId a1 = token(token_of(alice, TokenKind::api, 2));
    const TokenId s2 = token(token_of(alice, TokenKind::session, 3, 1'700'007'200));
    const TokenId b1 = token(token_of(bob, TokenKind::session, 4, 1'700'003'600));

    auto dup = m_store->create_token(token_of(bob, TokenKind::api, 2));
    ASSERT_FALSE(dup);
    EXPECT_EQ(dup.error().code, StoreError::exists);

    crypto::Sha256Digest hash{};
    hash.fill(2);
    auto found = m_store->find_token(hash);
    ASSERT_TRUE(found && found->has_value());
    EXPECT_EQ((*found)->token_id, a1);
    EXPECT_EQ((*found)->account_id, alice);
    EXPECT_EQ((*found)->kind, TokenKind::api);
    EXPECT_EQ((*found)->name, "ci token 2");
    EXPECT_EQ((*found)->created_s, 1'700'000'102);
    EXPECT_FALSE((*found)->expires_s);
    EXPECT_FALSE((*found)->revoked);
    hash.fill(1);
    EXPECT_EQ((*m_store->find_token(hash))->expires_s, std::optional<std::int64_t>(1'700'003'600));
    hash.fill(9);
    EXPECT_FALSE(m_store->find_token(hash)->has_value());

    EXPECT_EQ(live_ids(alice, TokenKind::session), (std::vector<TokenId>{s1, s2}));
    EXPECT_EQ(live_ids(alice, TokenKind::api), (std::vector<TokenId>{a1}));
    EXPECT_EQ(live_ids(bob, TokenKind::session), (std::vector<TokenId>{b1}));

    // Bob cannot revoke Alice's session.
    auto foreign = m_store->revoke_token(bob, s1);
    ASSERT_FALSE(foreign);
    EXPECT_EQ(foreign.error().code, StoreError::not_found);
    ASSERT_TRUE(m_store->revoke_token(alice, s1));
    auto twice = m_store->revoke_token(alice, s1);
    ASSERT_FALSE(twice);
    EXPECT_EQ(twice.error().code, StoreError::not_found);
    EXPECT_EQ(m_store->revoke_token(alice, b1 + 100).error().code, StoreError::not_found);

    EXPECT_EQ(live_ids(alice, TokenKind::session), (std::vector<TokenId>{s2}));
    hash.fill(1);
    EXPECT_TRUE((*m_store->find_token(hash))->revoked);  // kept, marked, until housekeeping

    // The same records with their owners' names, in one read.
    auto owned = m_store->find_token_owner(hash);
    ASSERT_TRUE(owned && owned->has_value());
    EXPECT_EQ((*owned)->token.token_id, s1);
    EXPECT_TRUE((*owned)->token.revoked);
    EXPECT_EQ((*owned)->username, "alice");
    hash.fill(4);
    owned = m_store->find_token_owner(hash);
    ASSERT_TRUE(owned && owned->has_value());
    EXPECT_EQ((*owned)->token.token_id, b1);
    EXPECT_EQ((*owned)->token.account_id, bob);
    EXPECT_EQ((*owned)->token.kind, TokenKind::session);
    EXPECT_EQ((*owned)->token.expires_s, std::optional<std::int64_t>(1'700'003'600));
    EXPECT_EQ((*owned)->username, "bob");
    hash.fill(9);
    owned = m_store->find_token_owner(hash);
    ASSERT_TRUE(owned);
    EXPECT_FALSE(owned->has_value());
}

// A password replacement rewrites the password record and revokes every session but the kept
// one, and API tokens only when asked (recovery); an unknown account is not_found.
TEST_P(AccountStoreTest, ReplacePasswordRevokesAsTold) {
    const AccountId alice = create("alice");
    const AccountId bob = create("bob", 2);
    const TokenId s1 = token(token_of(alice, TokenKind::session, 1, 1'700'003'600));
    const TokenId s2 = token(token_of(alice, TokenKind::session, 2, 1'700'003'600));
    const TokenId a1 = token(token_of(alice, TokenKind::api, 3));
    const TokenId b1 = token(token_of(bob, TokenKind::session, 4, 1'700'003'600));

    PasswordRecord changed;
    changed.salt.fill(0x77);
    changed.auth_hash.fill(0x78);
    changed.master_by_password = Bytes(crypto::kWrappedMasterKeyBytes, 0x79);
    ASSERT_TRUE(m_store->replace_password(alice, changed, RevokeOnPasswordChange{s1, false}));
    const auto a = *m_store->get_account(alice);
    EXPECT_EQ(a->password.salt, changed.salt);
    EXPECT_EQ(a->password.auth_hash, changed.auth_hash);
    EXPECT_EQ(a->password.master_by_password, changed.master_by_password);
    EXPECT_EQ(a->recovery_auth_hash, account_named("alice").recovery_auth_hash);
    EXPECT_EQ(live_ids(alice, TokenKind::session), (std::vector<TokenId>{s1}));
    EXPECT_EQ(live_ids(alice, TokenKind::api), (std::vector<TokenId>{a1}));
    (void)s2;

    ASSERT_TRUE(m_store->replace_password(alice, changed, RevokeOnPasswordChange{std::nullopt, true}));
    EXPECT_TRUE(live_ids(alice, TokenKind::session).empty());
    EXPECT_TRUE(live_ids(alice, TokenKind::api).empty());
    EXPECT_EQ(live_ids(bob, TokenKind::session), (std::vector<TokenId>{b1}));  // only Alice's

    auto unknown = m_store->replace_password(alice + bob + 100, changed, {});
    ASSERT_FALSE(unknown);
    EXPECT_EQ(unknown.error().code, StoreError::not_found);
}

// Housekeeping deletes revoked tokens and those expired at `now` (not one expiring later, not
// an API token without expiry), at most `limit` at a time.
TEST_P(AccountStoreTest, DeleteDeadTokens) {
    const AccountId alice = create("alice");
    const std::int64_t now_s = 1'700'010'000;
    token(token_of(alice, TokenKind::session, 1, now_s - 1));
    token(token_of(alice, TokenKind::session, 2, now_s));  // expires at now: dead
    const TokenId live = token(token_of(alice, TokenKind::session, 3, now_s + 1));
    const TokenId revoked = token(token_of(alice, TokenKind::api, 4));
    const TokenId api = token(token_of(alice, TokenKind::api, 5));
    ASSERT_TRUE(m_store->revoke_token(alice, revoked));

    auto first = m_store->delete_dead_tokens(now_s, 2);
    ASSERT_TRUE(first) << first.error().message;
    EXPECT_EQ(*first, 2u);
    EXPECT_EQ(*m_store->delete_dead_tokens(now_s, 10), 1u);
    EXPECT_EQ(*m_store->delete_dead_tokens(now_s, 10), 0u);
    for (std::uint8_t h = 1; h <= 5; ++h) {
        crypto::Sha256Digest hash{};
        hash.fill(h);
        const bool kept = h == 3 || h == 5;
        EXPECT_EQ(m_store->find_token(hash)->has_value(), kept) << int(h);
    }
    EXPECT_EQ(live_ids(alice, TokenKind::session), (std::vector<TokenId>{live}));
    EXPECT_EQ(live_ids(alice, TokenKind::api), (std::vector<TokenId>{api}));
}

// Files are their owner's: another account sees nothing and cannot delete; a file id is
// recorded once whoever asks; pages follow the ids' byte order; used bytes follow adds and
// deletes.
TEST_P(AccountStoreTest, FilesBelongToTheirOwner) {
    const AccountId alice = create("alice");
    const AccountId bob = create("bob", 2);
    // Byte order: '-' < '0' < 'A' < '_' < 'a' (a locale's collation would order these otherwise).
    const std::vector<std::string> ids = {fid('-'), fid('0'), fid('A'), fid('_'), fid('a')};
    for (std::size_t i = ids.size(); i-- > 0;) {
        ASSERT_TRUE(m_store->add_file(file_of(alice, ids[i], 1000 * (i + 1))));
    }
    auto taken = m_store->add_file(file_of(bob, ids[2], 1));
    ASSERT_FALSE(taken);
    EXPECT_EQ(taken.error().code, StoreError::exists);
    ASSERT_TRUE(m_store->add_file(file_of(bob, fid('B'), 7)));

    auto got = m_store->get_file(alice, ids[2]);
    ASSERT_TRUE(got && got->has_value());
    const OwnedFileRecord want = file_of(alice, ids[2], 3000);
    EXPECT_EQ((*got)->file_id, want.file_id);
    EXPECT_EQ((*got)->account_id, alice);
    EXPECT_EQ((*got)->wrapped_secret, want.wrapped_secret);
    EXPECT_EQ((*got)->size_bytes, 3000u);
    EXPECT_EQ((*got)->created_s, want.created_s);
    EXPECT_FALSE(m_store->get_file(bob, ids[2])->has_value());

    std::vector<std::string> paged;
    std::string after;
    for (;;) {
        auto page = m_store->list_files(alice, after, 2);
        ASSERT_TRUE(page) << page.error().message;
        if (page->empty()) break;
        EXPECT_LE(page->size(), 2u);
        for (const auto& f : *page) paged.push_back(f.file_id);
        after = page->back().file_id;
    }
    EXPECT_EQ(paged, ids);
    EXPECT_EQ(m_store->list_files(bob, "", 10)->size(), 1u);

    EXPECT_EQ(*m_store->used_bytes(alice, kNow), 15'000u);
    EXPECT_EQ(*m_store->used_bytes(bob, kNow), 7u);
    EXPECT_EQ(*m_store->used_bytes(bob + alice + 100, kNow), 0u);

    auto foreign = m_store->delete_file(bob, ids[0]);
    ASSERT_FALSE(foreign);
    EXPECT_EQ(foreign.error().code, StoreError::not_found);
    ASSERT_TRUE(m_store->delete_file(alice, ids[0]));
    EXPECT_EQ(m_store->delete_file(alice, ids[0]).error().code, StoreError::not_found);
    EXPECT_EQ(*m_store->used_bytes(alice, kNow), 14'000u);
}

// A part made with a session counts from its record until a file made from it takes its place
// (one transaction: never twice, never not at all), it is removed, or it expires; parts_bytes
// counts only the asking account's live parts; a new part forgets the account's expired ones.
TEST_P(AccountStoreTest, PartsCountUntilClaimedRemovedOrExpired) {
    const AccountId alice = create("alice");
    const AccountId bob = create("bob", 2);
    const std::string p1(27, '1');
    const std::string p2(27, '2');
    const std::string p3(27, '3');
    const std::string gone(27, '9');
    ASSERT_TRUE(m_store->add_file(file_of(alice, fid('A'), 100)));
    ASSERT_TRUE(m_store->add_part(OwnedPartRecord{p1, alice, 1000, kNow + 60}, kNow));
    ASSERT_TRUE(m_store->add_part(OwnedPartRecord{p2, alice, 2000, kNow + 60}, kNow));
    ASSERT_TRUE(m_store->add_part(OwnedPartRecord{p3, bob, 4000, kNow + 60}, kNow));
    auto again = m_store->add_part(OwnedPartRecord{p1, bob, 1, kNow + 60}, kNow);
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, StoreError::exists);
    EXPECT_EQ(*m_store->used_bytes(alice, kNow), 3100u);
    EXPECT_EQ(*m_store->used_bytes(bob, kNow), 4000u);

    EXPECT_EQ(*m_store->parts_bytes(alice, {p1, p2, p3, gone}, kNow), 3000u);
    EXPECT_EQ(*m_store->parts_bytes(bob, {p1, p3}, kNow), 4000u);
    EXPECT_EQ(*m_store->parts_bytes(alice, {}, kNow), 0u);

    // Alice's file made of her p1 and bob's p3: both records end with the file's.
    ASSERT_TRUE(m_store->add_file_from_parts(file_of(alice, fid('B'), 5000), {p1, p3, gone}));
    EXPECT_EQ(*m_store->used_bytes(alice, kNow), 100u + 2000u + 5000u);
    EXPECT_EQ(*m_store->used_bytes(bob, kNow), 0u);
    EXPECT_EQ(*m_store->parts_bytes(alice, {p1}, kNow), 0u);
    // A refused file (its id is taken) ends no part.
    EXPECT_FALSE(m_store->add_file_from_parts(file_of(alice, fid('B'), 1), {p2}));
    EXPECT_EQ(*m_store->parts_bytes(alice, {p2}, kNow), 2000u);

    // Expired: no longer counted, and forgotten by the account's next part.
    EXPECT_EQ(*m_store->used_bytes(alice, kNow + 60), 100u + 5000u);
    EXPECT_EQ(*m_store->parts_bytes(alice, {p2}, kNow + 60), 0u);
    ASSERT_TRUE(m_store->add_part(OwnedPartRecord{p3, alice, 10, kNow + 120}, kNow + 60));
    ASSERT_TRUE(
        m_store->add_part(OwnedPartRecord{p2, bob, 20, kNow + 120}, kNow + 60));  // p2's id is free
    EXPECT_EQ(*m_store->used_bytes(alice, kNow + 60), 100u + 5000u + 10u);

    ASSERT_TRUE(m_store->remove_parts({p3, gone}));
    ASSERT_TRUE(m_store->remove_parts({}));
    EXPECT_EQ(*m_store->used_bytes(alice, kNow + 60), 5100u);
    EXPECT_EQ(*m_store->used_bytes(bob, kNow + 60), 20u);
    auto huge = m_store->add_part(
        OwnedPartRecord{p1, alice, std::numeric_limits<std::uint64_t>::max(), kNow + 60}, kNow);
    ASSERT_FALSE(huge);
    EXPECT_EQ(huge.error().code, StoreError::io);
    EXPECT_FALSE(m_store->add_part(OwnedPartRecord{p1, alice + bob + 100, 1, kNow + 60}, kNow));
}

// A size past the database's range is refused; a file of an account that does not exist is
// refused (the account must exist first).
TEST_P(AccountStoreTest, FileRecordsAreChecked) {
    const AccountId alice = create("alice");
    auto huge = m_store->add_file(file_of(alice, fid('A'), std::numeric_limits<std::uint64_t>::max()));
    ASSERT_FALSE(huge);
    EXPECT_EQ(huge.error().code, StoreError::io);
    EXPECT_FALSE(m_store->add_file(file_of(alice + 100, fid('B'), 1)));
    EXPECT_FALSE(m_store->file_owner(fid('B'))->has_value());
}

// A text is never cut short at a NUL byte: a lookup by a known name or id with a NUL and more
// after it finds nothing and changes nothing, and a value holding one is either stored whole
// (SQLite) or refused (PostgreSQL, whose client library would cut it there).
TEST_P(AccountStoreTest, TextsWithANulAreNeverCutShort) {
    const std::string tail("\0x", 2);
    const AccountId alice = create("alice");
    ASSERT_TRUE(m_store->add_file(file_of(alice, fid('A'), 10)));

    EXPECT_FALSE(m_store->find_account("alice" + tail)->has_value());
    EXPECT_FALSE(m_store->get_file(alice, fid('A') + tail)->has_value());
    EXPECT_FALSE(m_store->file_owner(fid('A') + tail)->has_value());
    EXPECT_EQ(m_store->delete_file(alice, fid('A') + tail).error().code, StoreError::not_found);
    EXPECT_TRUE(m_store->get_file(alice, fid('A'))->has_value());

    if (m_store->create_account(account_named("bob" + tail, 2))) {
        EXPECT_TRUE(m_store->find_account("bob" + tail)->has_value());
    }
    EXPECT_FALSE(m_store->find_account("bob")->has_value());
    if (m_store->add_file(file_of(alice, fid('B') + tail, 1))) {
        EXPECT_EQ(*m_store->file_owner(fid('B') + tail), std::optional<AccountId>(alice));
    }
    EXPECT_FALSE(m_store->file_owner(fid('B'))->has_value());
    TokenRecord t = token_of(alice, TokenKind::api, 1);
    t.name = "ci" + tail;
    if (m_store->create_token(t)) {
        EXPECT_EQ((*m_store->list_tokens(alice, TokenKind::api))[0].name, t.name);
    } else {
        EXPECT_TRUE(m_store->list_tokens(alice, TokenKind::api)->empty());
    }
}

// The paywall asks who owns a file: the owner's id, and nothing for an unrecorded file.
TEST_P(AccountStoreTest, FileOwner) {
    const AccountId id = create("owner");
    ASSERT_TRUE(m_store->add_file(file_of(id, "AAAAAAAAAAAAAAAAAAAAAA", 0)));
    auto owner = m_store->file_owner("AAAAAAAAAAAAAAAAAAAAAA");
    ASSERT_TRUE(owner);
    EXPECT_EQ(*owner, std::optional<AccountId>(id));
    auto none = m_store->file_owner("BBBBBBBBBBBBBBBBBBBBBB");
    ASSERT_TRUE(none);
    EXPECT_FALSE(none->has_value());
}

// Two store instances on one database, as two server processes: each sees the other's writes
// as soon as the call returns (no copy kept in memory), and a username taken through one is
// taken for the other.
TEST_P(AccountStoreTest, TwoInstancesSeeEachOthersWritesAtOnce) {
    auto second = m_db->open();
    ASSERT_TRUE(second) << second.error().message;
    AccountStore& a = *m_store;
    AccountStore& b = **second;

    auto alice = a.create_account(account_named("alice"));
    ASSERT_TRUE(alice);
    auto seen = b.find_account("alice");
    ASSERT_TRUE(seen && seen->has_value());
    EXPECT_EQ((*seen)->account_id, *alice);
    EXPECT_EQ(b.create_account(account_named("alice", 9)).error().code, StoreError::exists);

    ASSERT_TRUE(b.set_quota_override(*alice, 123));
    EXPECT_EQ((*a.get_account(*alice))->quota_override_bytes, std::optional<std::uint64_t>(123));

    auto session = a.create_token(token_of(*alice, TokenKind::session, 1, 1'700'003'600));
    ASSERT_TRUE(session);
    ASSERT_TRUE(b.revoke_token(*alice, *session));
    crypto::Sha256Digest hash{};
    hash.fill(1);
    EXPECT_TRUE((*a.find_token(hash))->revoked);
    EXPECT_EQ(a.revoke_token(*alice, *session).error().code, StoreError::not_found);

    ASSERT_TRUE(a.add_file(file_of(*alice, fid('A'), 500)));
    EXPECT_EQ(*b.file_owner(fid('A')), std::optional<AccountId>(*alice));
    EXPECT_EQ(*b.used_bytes(*alice, kNow), 500u);
    ASSERT_TRUE(b.delete_file(*alice, fid('A')));
    EXPECT_FALSE(a.get_file(*alice, fid('A'))->has_value());
    second->reset();
}

// Two instances registering the same names at the same moment: each name gets exactly one
// account, and the other attempt is told `exists` (not a database error).
TEST_P(AccountStoreTest, RacingRegistrationsOfOneNameCreateOneAccount) {
    constexpr int kNames = 20;
    auto second = m_db->open();
    ASSERT_TRUE(second) << second.error().message;
    int created[2] = {0, 0};
    int refused[2] = {0, 0};
    const auto register_all = [&](AccountStore& s, int who) {
        for (int i = 0; i < kNames; ++i) {
            auto id = s.create_account(account_named("user" + std::to_string(i)));
            if (id) {
                ++created[who];
            } else if (id.error().code == StoreError::exists) {
                ++refused[who];
            }
        }
    };
    std::thread t0(register_all, std::ref(*m_store), 0);
    std::thread t1(register_all, std::ref(**second), 1);
    t0.join();
    t1.join();
    EXPECT_EQ(created[0] + created[1], kNames);
    EXPECT_EQ(refused[0] + refused[1], kNames);
    for (int i = 0; i < kNames; ++i) EXPECT_TRUE(m_store->find_account("user" + std::to_string(i))->has_value());
    second->reset();
}

INSTANTIATE_TEST_SUITE_P(Backends, AccountStoreTest, ::testing::Values(DbBackend::sqlite, DbBackend::postgres),
                         store::testing::db_backend_name);

// Opening twice applies the PostgreSQL migrations once and records the version under the
// "accounts" component.
TEST(PgAccountStore, MigratesOnceAndRecordsVersion) {
    SATLOAD_REQUIRE_PG();
    store::testing::PgTestSchema schema;
    for (int round = 0; round < 2; ++round) {
        auto db = schema.open(2);
        ASSERT_TRUE(db);
        auto s = PgAccountStore::open(db);
        ASSERT_TRUE(s) << s.error().message;
        auto version = (*s)->schema_version();
        ASSERT_TRUE(version) << version.error().message;
        EXPECT_EQ(*version, kPgAccountSchemaVersion);
    }
}

}  // namespace
}  // namespace satload::accounts
