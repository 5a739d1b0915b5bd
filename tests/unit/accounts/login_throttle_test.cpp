// Pins down login throttling, the same on both implementations (in memory, and shared through
// PostgreSQL): free failures, doubling delays with a cap, forgetting after a quiet period,
// success resets, independent keys and scopes; the in-memory bound; and on PostgreSQL that
// two instances (two pools on one schema) share one count, that keys are stored only as their
// keyed hash, and that quiet rows are pruned.
#include "accounts/login_throttle.h"

#include <gtest/gtest.h>

#include <thread>

#include "accounts/pg_login_throttle.h"
#include "accounts_test_util.h"
#include "crypto/primitives.h"
#include "store/pg_test_util.h"

namespace satload::accounts {
namespace {

using store::testing::DbBackend;
using store::testing::PgTestSchema;

ThrottlePolicy small_policy() {
    return ThrottlePolicy{.free_failures = 2,
                          .base_delay_s = 1,
                          .max_delay_s = 8,
                          .forget_after_s = 100,
                          .max_keys = 3};
}

// A Throttle of the parameter's implementation; on PostgreSQL every call of make() is another
// instance (its own pool) on the same schema.
class ThrottleTest : public ::testing::TestWithParam<DbBackend> {
protected:
    void SetUp() override {
        if (GetParam() == DbBackend::postgres) {
            SATLOAD_REQUIRE_PG();
            m_pg.emplace();
        }
    }
    std::unique_ptr<Throttle> make(ThrottlePolicy policy = small_policy(),
                                   std::string_view scope = kUsernameThrottleScope) {
        if (GetParam() == DbBackend::sqlite) return std::make_unique<LoginThrottle>(m_clock, policy);
        auto db = m_pg->open(2);
        if (!db) return nullptr;
        m_dbs.push_back(db);
        auto t = PgLoginThrottle::open(db, m_clock, scope, policy);
        EXPECT_TRUE(t) << (t ? "" : t.error().message);
        return t ? std::move(*t) : nullptr;
    }
    std::int64_t wait(Throttle& t, std::string_view key) {
        auto r = t.retry_after_s(key);
        EXPECT_TRUE(r) << (r ? "" : r.error().message);
        return r ? *r : -1;
    }
    void fail_once(Throttle& t, std::string_view key) {
        auto r = t.record_failure(key);
        EXPECT_TRUE(r) << (r ? "" : r.error().message);
    }

    ManualClock m_clock{1000};
    std::optional<PgTestSchema> m_pg;
    std::vector<std::shared_ptr<store::PgDb>> m_dbs;
};

// "sqlite" stands for the embedded mode's throttle, in this process's memory.
std::string throttle_name(const ::testing::TestParamInfo<DbBackend>& param) {
    return param.param == DbBackend::sqlite ? "Memory" : "Postgres";
}
INSTANTIATE_TEST_SUITE_P(Backends, ThrottleTest, ::testing::Values(DbBackend::sqlite, DbBackend::postgres),
                         throttle_name);

// After the free failures each failure doubles the wait (1, 2, 4, 8, 8: capped).
TEST_P(ThrottleTest, DelayDoublesAndIsCapped) {
    auto t = make();
    ASSERT_TRUE(t);
    EXPECT_EQ(wait(*t, "alice"), 0);
    fail_once(*t, "alice");
    fail_once(*t, "alice");
    EXPECT_EQ(wait(*t, "alice"), 0);  // two free failures
    const std::int64_t expected[] = {1, 2, 4, 8, 8};
    for (const std::int64_t delay : expected) {
        fail_once(*t, "alice");
        EXPECT_EQ(wait(*t, "alice"), delay);
        m_clock.advance(delay - 1);
        EXPECT_EQ(wait(*t, "alice"), 1);
        m_clock.advance(1);
        EXPECT_EQ(wait(*t, "alice"), 0);
    }
    EXPECT_EQ(wait(*t, "bob"), 0);  // keys are independent
}

// A key quiet for forget_after_s starts again from zero; a success forgets at once.
TEST_P(ThrottleTest, FailuresDecayAndSuccessResets) {
    auto t = make();
    ASSERT_TRUE(t);
    for (int i = 0; i < 5; ++i) fail_once(*t, "alice");
    EXPECT_GT(wait(*t, "alice"), 0);
    m_clock.advance(100);
    EXPECT_EQ(wait(*t, "alice"), 0);
    fail_once(*t, "alice");
    fail_once(*t, "alice");
    EXPECT_EQ(wait(*t, "alice"), 0);  // counting restarted: these were free again
    fail_once(*t, "alice");
    EXPECT_EQ(wait(*t, "alice"), 1);  // and the first one past them waits the base delay

    for (int i = 0; i < 5; ++i) fail_once(*t, "bob");
    EXPECT_GT(wait(*t, "bob"), 0);
    ASSERT_TRUE(t->record_success("bob"));
    EXPECT_EQ(wait(*t, "bob"), 0);
    EXPECT_GT(wait(*t, "alice"), 0);  // another key's success forgets nothing here
}

// Keys are compared whole and bytewise: a prefix, a case change or an embedded NUL is
// another key.
TEST_P(ThrottleTest, KeysAreExact) {
    auto t = make();
    ASSERT_TRUE(t);
    const std::string with_nul("al\0ice", 6);
    for (int i = 0; i < 3; ++i) fail_once(*t, with_nul);
    EXPECT_EQ(wait(*t, with_nul), 1);
    EXPECT_EQ(wait(*t, "al"), 0);
    EXPECT_EQ(wait(*t, "Al"), 0);
    EXPECT_EQ(wait(*t, "alice"), 0);
}

// The table never holds more than max_keys; the key quiet longest is dropped first.
TEST(LoginThrottle, MemoryIsBounded) {
    ManualClock clock(1000);
    LoginThrottle t(clock, small_policy());
    for (int i = 0; i < 3; ++i) {
        ASSERT_TRUE(t.record_failure("k" + std::to_string(i)));
        clock.advance(1);
    }
    EXPECT_EQ(*t.tracked_keys(), 3u);
    ASSERT_TRUE(t.record_failure("k3"));
    EXPECT_EQ(*t.tracked_keys(), 3u);
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(t.record_failure("k3"));
    EXPECT_GT(*t.retry_after_s("k3"), 0);
    ASSERT_TRUE(t.record_failure("k4"));  // evicts k1 (k0 went first), never the newest
    EXPECT_EQ(*t.tracked_keys(), 3u);
    EXPECT_GT(*t.retry_after_s("k3"), 0);
}

class PgThrottleTest : public ::testing::Test {
protected:
    void SetUp() override { SATLOAD_REQUIRE_PG(); }
    std::unique_ptr<PgLoginThrottle> make(std::string_view scope = kUsernameThrottleScope,
                                          ThrottlePolicy policy = small_policy()) {
        auto db = m_pg.open(2);
        if (!db) return nullptr;
        m_dbs.push_back(db);
        auto t = PgLoginThrottle::open(db, m_clock, scope, policy);
        EXPECT_TRUE(t) << (t ? "" : t.error().message);
        return t ? std::move(*t) : nullptr;
    }
    ManualClock m_clock{1000};
    PgTestSchema m_pg;
    std::vector<std::shared_ptr<store::PgDb>> m_dbs;
};

// Two instances share one count: failures on A and B add up, a success on B forgets for A,
// and failures racing on both at once all count.
TEST_F(PgThrottleTest, TwoInstancesShareTheCount) {
    auto a = make();
    auto b = make();
    ASSERT_TRUE(a && b);
    ASSERT_TRUE(a->record_failure("alice"));
    ASSERT_TRUE(b->record_failure("alice"));
    EXPECT_EQ(*a->retry_after_s("alice"), 0);  // two free failures, one on each
    ASSERT_TRUE(a->record_failure("alice"));
    EXPECT_EQ(*b->retry_after_s("alice"), 1);
    ASSERT_TRUE(b->record_failure("alice"));
    EXPECT_EQ(*a->retry_after_s("alice"), 2);
    ASSERT_TRUE(b->record_success("alice"));
    EXPECT_EQ(*a->retry_after_s("alice"), 0);

    constexpr int kEach = 20;
    std::thread ta([&] { for (int i = 0; i < kEach; ++i) EXPECT_TRUE(a->record_failure("bob")); });
    std::thread tb([&] { for (int i = 0; i < kEach; ++i) EXPECT_TRUE(b->record_failure("bob")); });
    ta.join();
    tb.join();
    // 2 * kEach failures: read under a policy whose cap is out of reach, the wait shows the
    // exact count (base_delay_s doubled once per failure past the first non-free one).
    ThrottlePolicy wide = small_policy();
    wide.max_delay_s = std::int64_t{1} << 50;
    auto reader = make(kUsernameThrottleScope, wide);
    ASSERT_TRUE(reader);
    EXPECT_EQ(*reader->retry_after_s("bob"), std::int64_t{1} << (2 * kEach - 2 - 1));
}

// Two AccountService instances on one schema with shared throttles: failed logins through
// either count together, so an attacker gets the free failures once, not once per server,
// and the right password is then refused on both until the wait is over.
TEST_F(PgThrottleTest, TwoServicesShareTheCount) {
    struct Instance {
        std::unique_ptr<PgAccountStore> store;
        std::unique_ptr<AccountService> service;
    };
    auto open_instance = [&](std::uint64_t seed) {
        Instance in;
        auto db = m_pg.open(2);
        auto store = PgAccountStore::open(db);
        EXPECT_TRUE(store) << (store ? "" : store.error().message);
        if (!store) return in;
        in.store = std::move(*store);
        AccountServiceOptions options;
        options.fake_salt_secret = Bytes(kFakeSaltSecretBytes, 0x42);
        auto shared = share_login_throttles(db, m_clock, options);
        EXPECT_TRUE(shared) << (shared ? "" : shared.error().message);
        in.service = std::make_unique<AccountService>(*in.store, m_clock, std::move(options),
                                                      testing::seeded_random(seed));
        return in;
    };
    Instance a = open_instance(testing::kSeed);
    Instance b = open_instance(testing::kSeed + 7);
    ASSERT_TRUE(a.service && b.service);
    auto random = testing::seeded_random(testing::kSeed + 1);
    const testing::Client alice = testing::Client::make("alice", random);
    ASSERT_TRUE(a.service->register_account(alice.registration(random)));
    const ThrottlePolicy policy = AccountServiceOptions{}.username_throttle;
    const Bytes wrong(32, 0x11);
    // free_failures + 1 failures, alternating between the servers (each saw about half).
    for (std::uint32_t i = 0; i <= policy.free_failures; ++i) {
        AccountService& via = i % 2 == 0 ? *a.service : *b.service;
        auto r = via.login("alice", wrong, "192.0.2." + std::to_string(i + 1));
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().code, AccountError::bad_credentials) << i;
    }
    for (AccountService* via : {a.service.get(), b.service.get()}) {
        auto refused = via->login("alice", alice.auth(), "198.51.100.1");
        ASSERT_FALSE(refused);
        EXPECT_EQ(refused.error().code, AccountError::throttled);
        EXPECT_EQ(refused.error().retry_after_s, policy.base_delay_s);
    }
    m_clock.advance(policy.base_delay_s);
    EXPECT_TRUE(b.service->login("alice", alice.auth(), "198.51.100.1"));
}

// The username or address itself is never stored, only its HMAC under the database's secret
// (not a plain SHA-256, which a list of candidates reverses); scopes count apart.
TEST_F(PgThrottleTest, KeysStoredAsHashesPerScope) {
    auto names = make(kUsernameThrottleScope);
    auto addresses = make(kAddressThrottleScope);
    ASSERT_TRUE(names && addresses);
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(names->record_failure("alice@example"));
    EXPECT_EQ(*names->retry_after_s("alice@example"), 1);
    EXPECT_EQ(*addresses->retry_after_s("alice@example"), 0);
    auto rows = m_dbs[0]->read("rows", [](pqxx::nontransaction& n) {
        return n.exec("SELECT scope, encode(key_hash, 'hex') FROM login_throttle");
    });
    ASSERT_TRUE(rows) << rows.error().message;
    ASSERT_EQ(rows->size(), 1u);
    EXPECT_EQ((*rows)[0][0].as<std::string>(), kUsernameThrottleScope);
    auto secret = m_dbs[0]->read("secret", [](pqxx::nontransaction& n) {
        return std::string(n.exec1("SELECT encode(secret, 'hex') FROM key_hash_secret")[0].c_str());
    });
    ASSERT_TRUE(secret) << secret.error().message;
    const std::string scope(kUsernameThrottleScope);
    const std::string message = std::to_string(scope.size()) + ":" + scope + "alice@example";
    EXPECT_EQ((*rows)[0][1].as<std::string>(), hex_encode(crypto::hmac_sha256(*hex_decode(*secret), as_bytes(message))));
    EXPECT_NE((*rows)[0][1].as<std::string>(), hex_encode(crypto::sha256(as_bytes("alice@example"))));
    auto found = m_dbs[0]->read("find", [](pqxx::nontransaction& n) {
        return n.exec1("SELECT count(*) FROM login_throttle WHERE position('alice'::bytea IN key_hash) > 0")[0].as<int>();
    });
    ASSERT_TRUE(found);
    EXPECT_EQ(*found, 0);
}

// Quiet rows go: the first failure an instance records (and every kPgThrottlePruneEvery-th)
// deletes its scope's rows quiet for forget_after_s, so the table holds only recent keys.
TEST_F(PgThrottleTest, QuietRowsPruned) {
    auto first = make();
    ASSERT_TRUE(first);
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(first->record_failure("old" + std::to_string(i)));
    EXPECT_EQ(*first->tracked_keys(), 10u);
    m_clock.advance(small_policy().forget_after_s);
    auto second = make();  // a new instance: its first failure prunes
    ASSERT_TRUE(second);
    ASSERT_TRUE(second->record_failure("new"));
    EXPECT_EQ(*second->tracked_keys(), 1u);
    EXPECT_EQ(*first->retry_after_s("new"), 0);
    // An instance prunes again after kPgThrottlePruneEvery of its own failures.
    m_clock.advance(small_policy().forget_after_s);
    for (std::uint64_t i = 1; i < kPgThrottlePruneEvery; ++i) ASSERT_TRUE(second->record_failure("k" + std::to_string(i)));
    EXPECT_EQ(*second->tracked_keys(), kPgThrottlePruneEvery);  // "new" is quiet but not pruned yet
    ASSERT_TRUE(second->record_failure("last"));
    EXPECT_EQ(*second->tracked_keys(), kPgThrottlePruneEvery);  // "new" went, "last" came
}

}  // namespace
}  // namespace satload::accounts
