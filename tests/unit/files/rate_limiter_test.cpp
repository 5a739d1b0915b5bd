// Pins down the rate limits, the same on both implementations (in memory, and shared through
// PostgreSQL): fixed windows per key that admit their events, refuse the next with the
// seconds left, count nothing refused and open again when they end; exact keys; the in-memory
// bound; and on PostgreSQL that two instances (two pools on one schema) share one count and a
// new instance remembers it, that concurrent events all count and never over-admit, that keys
// are stored only as their keyed hash, per scope, and that ended windows are pruned; and that a
// service falls back to its own count when the shared store fails.
#include "files/rate_limiter.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "core/encoding.h"
#include "crypto/primitives.h"
#include "files/clock.h"
#include "files/pg_rate_limiter.h"
#include "store/pg_test_util.h"

namespace satload::files {
namespace {

using store::testing::DbBackend;
using store::testing::PgTestSchema;

RatePolicy small_policy() { return RatePolicy{.events_per_window = 3, .window_s = 60, .max_keys = 100}; }

// A RateLimiter of the parameter's implementation; on PostgreSQL every call of make() is
// another instance (its own pool) on the same schema.
class RateLimiterTest : public ::testing::TestWithParam<DbBackend> {
protected:
    void SetUp() override {
        if (GetParam() == DbBackend::postgres) {
            SATLOAD_REQUIRE_PG();
            m_pg.emplace();
        }
    }
    std::unique_ptr<RateLimiter> make(RatePolicy policy = small_policy()) {
        if (GetParam() == DbBackend::sqlite) return std::make_unique<MemoryRateLimiter>(m_clock, policy);
        auto db = m_pg->open(2);
        if (!db) return nullptr;
        auto l = PgRateLimiter::open(db, m_clock, kAnonymousCreationRateScope, policy);
        EXPECT_TRUE(l) << (l ? "" : l.error().message);
        return l ? std::move(*l) : nullptr;
    }

    ManualClock m_clock{10'000};
    std::optional<PgTestSchema> m_pg;
};

std::int64_t acquire(RateLimiter& l, std::string_view key) {
    auto r = l.acquire(key);
    EXPECT_TRUE(r) << (r ? "" : r.error().message);
    return r ? *r : -1;
}

// "sqlite" stands for the embedded mode's limiter, in this process's memory.
std::string limiter_name(const ::testing::TestParamInfo<DbBackend>& param) {
    return param.param == DbBackend::sqlite ? "Memory" : "Postgres";
}
INSTANTIATE_TEST_SUITE_P(Backends, RateLimiterTest, ::testing::Values(DbBackend::sqlite, DbBackend::postgres),
                         limiter_name);

// A window admits its events, refuses the next with the seconds left in it, counts nothing it
// refused, opens again when it ends, and keeps keys apart.
TEST_P(RateLimiterTest, FixedWindowPerKey) {
    auto l = make();
    ASSERT_TRUE(l);
    for (int i = 0; i < 3; ++i) EXPECT_EQ(acquire(*l, "a"), 0) << i;
    m_clock.advance(10);
    EXPECT_EQ(acquire(*l, "a"), 50);
    EXPECT_EQ(acquire(*l, "a"), 50);
    EXPECT_EQ(acquire(*l, "b"), 0);
    m_clock.advance(49);
    EXPECT_EQ(acquire(*l, "a"), 1);
    m_clock.advance(1);
    for (int i = 0; i < 3; ++i) EXPECT_EQ(acquire(*l, "a"), 0) << i;
    EXPECT_EQ(acquire(*l, "a"), 60);
}

// A window opens with the first event after the previous one ended, not on a fixed grid: a
// key quiet for a while gets a whole window from its next event.
TEST_P(RateLimiterTest, WindowOpensAtTheFirstEvent) {
    auto l = make();
    ASSERT_TRUE(l);
    EXPECT_EQ(acquire(*l, "a"), 0);
    m_clock.advance(95);  // the window of t=0 ended at 60; nothing happened since
    for (int i = 0; i < 3; ++i) EXPECT_EQ(acquire(*l, "a"), 0) << i;
    m_clock.advance(59);
    EXPECT_EQ(acquire(*l, "a"), 1);  // this window opened at 95, so it ends at 155
    m_clock.advance(1);
    EXPECT_EQ(acquire(*l, "a"), 0);
}

// Keys are compared whole and bytewise: a prefix, a case change or an embedded NUL is
// another key.
TEST_P(RateLimiterTest, KeysAreExact) {
    auto l = make();
    ASSERT_TRUE(l);
    const std::string with_nul("10.0\0.0.1", 9);
    for (int i = 0; i < 3; ++i) EXPECT_EQ(acquire(*l, with_nul), 0);
    EXPECT_GT(acquire(*l, with_nul), 0);
    EXPECT_EQ(acquire(*l, "10.0"), 0);
    EXPECT_EQ(acquire(*l, "10.0.0.1"), 0);
    EXPECT_EQ(acquire(*l, "fe80::A"), 0);
    EXPECT_EQ(acquire(*l, "fe80::a"), 0);
}

// A service without a shared limiter counts in memory, under its policy.
TEST_P(RateLimiterTest, ServiceCountsWhereItIsTold) {
    std::shared_ptr<RateLimiter> shared = GetParam() == DbBackend::postgres ? make() : nullptr;
    ServiceRateLimit limit(m_clock, small_policy(), shared);
    EXPECT_EQ(limit.shared(), shared != nullptr);
    for (int i = 0; i < 3; ++i) EXPECT_EQ(limit.acquire("a"), 0);
    EXPECT_EQ(limit.acquire("a"), 60);
    EXPECT_EQ(limit.store_failures(), 0u);
    if (shared) {
        EXPECT_EQ(acquire(*shared, "a"), 60);  // it was counted in the shared table
    }
}

// The memory bound holds: finished windows go first, then the oldest open one.
TEST(MemoryRateLimiter, KeysAreBounded) {
    ManualClock clock(0);
    MemoryRateLimiter limiter(clock, RatePolicy{.events_per_window = 1, .window_s = 100, .max_keys = 3});
    EXPECT_EQ(acquire(limiter, "old"), 0);
    clock.advance(10);
    EXPECT_EQ(acquire(limiter, "b"), 0);
    EXPECT_EQ(acquire(limiter, "c"), 0);
    EXPECT_EQ(acquire(limiter, "d"), 0);  // "old" is dropped to make room
    EXPECT_EQ(*limiter.tracked_keys(), 3u);
    EXPECT_GT(acquire(limiter, "b"), 0);  // still limited: it was kept
    EXPECT_EQ(acquire(limiter, "old"), 0);  // forgotten, so it starts again
    EXPECT_EQ(*limiter.tracked_keys(), 3u);
}

class PgRateLimiterTest : public ::testing::Test {
protected:
    void SetUp() override { SATLOAD_REQUIRE_PG(); }
    std::unique_ptr<PgRateLimiter> make(RatePolicy policy = small_policy(),
                                        std::string_view scope = kAnonymousCreationRateScope) {
        auto db = m_pg.open(2);
        if (!db) return nullptr;
        m_dbs.push_back(db);
        auto l = PgRateLimiter::open(db, m_clock, scope, policy);
        EXPECT_TRUE(l) << (l ? "" : l.error().message);
        return l ? std::move(*l) : nullptr;
    }
    ManualClock m_clock{10'000};
    PgTestSchema m_pg;
    std::vector<std::shared_ptr<store::PgDb>> m_dbs;
};

// Two instances share one count: events on A and B add up to one window, and an instance
// opened later (a restart) still finds the window full.
TEST_F(PgRateLimiterTest, TwoInstancesShareTheCount) {
    auto a = make();
    auto b = make();
    ASSERT_TRUE(a && b);
    EXPECT_EQ(acquire(*a, "198.51.100.7"), 0);
    EXPECT_EQ(acquire(*b, "198.51.100.7"), 0);
    m_clock.advance(5);
    EXPECT_EQ(acquire(*a, "198.51.100.7"), 0);
    EXPECT_EQ(acquire(*b, "198.51.100.7"), 55);  // per process, B would have admitted it
    EXPECT_EQ(acquire(*a, "198.51.100.7"), 55);
    a.reset();
    auto restarted = make();
    ASSERT_TRUE(restarted);
    EXPECT_EQ(acquire(*restarted, "198.51.100.7"), 55);
    m_clock.advance(55);
    EXPECT_EQ(acquire(*restarted, "198.51.100.7"), 0);
    EXPECT_EQ(acquire(*b, "198.51.100.7"), 0);
}

// Events racing on two instances (two threads each) all count, and never more are admitted
// than the window holds: a window of kLimit takes exactly kLimit of 2 * kLimit attempts; a
// window as large as the attempts admits every one and then refuses.
TEST_F(PgRateLimiterTest, ConcurrentEventsAllCount) {
    constexpr int kThreads = 4;
    constexpr int kEach = 20;
    for (const std::uint32_t limit : {std::uint32_t{kThreads * kEach / 2}, std::uint32_t{kThreads * kEach}}) {
        const RatePolicy policy{.events_per_window = limit, .window_s = 600, .max_keys = 100};
        auto a = make(policy);
        auto b = make(policy);
        ASSERT_TRUE(a && b);
        const std::string key = "203.0.113." + std::to_string(limit);
        std::atomic<int> admitted{0};
        std::vector<std::thread> threads;
        for (int t = 0; t < kThreads; ++t) {
            threads.emplace_back([&, t] {
                PgRateLimiter& via = t % 2 == 0 ? *a : *b;
                for (int i = 0; i < kEach; ++i) {
                    auto r = via.acquire(key);
                    EXPECT_TRUE(r) << (r ? "" : r.error().message);
                    if (r && *r == 0) ++admitted;
                }
            });
        }
        for (auto& t : threads) t.join();
        EXPECT_EQ(admitted.load(), static_cast<int>(limit));
        EXPECT_EQ(acquire(*a, key), 600);
    }
}

// The address itself is never stored, only its HMAC under the database's secret (a plain
// SHA-256 of an IPv4 address is reversed by hashing all 2^32); scopes count apart.
TEST_F(PgRateLimiterTest, KeysStoredAsHashesPerScope) {
    auto uploads = make();
    auto reports = make(small_policy(), "abuse_report");
    ASSERT_TRUE(uploads && reports);
    for (int i = 0; i < 3; ++i) EXPECT_EQ(acquire(*uploads, "192.0.2.44"), 0);
    EXPECT_GT(acquire(*uploads, "192.0.2.44"), 0);
    EXPECT_EQ(acquire(*reports, "192.0.2.44"), 0);
    auto rows = m_dbs[0]->read("rows", [](pqxx::nontransaction& n) {
        return n.exec("SELECT scope, encode(key_hash, 'hex'), events FROM rate_limits ORDER BY scope");
    });
    ASSERT_TRUE(rows) << rows.error().message;
    ASSERT_EQ(rows->size(), 2u);
    EXPECT_EQ((*rows)[0][0].as<std::string>(), "abuse_report");
    EXPECT_EQ((*rows)[1][0].as<std::string>(), kAnonymousCreationRateScope);
    auto secret = m_dbs[0]->read("secret", [](pqxx::nontransaction& n) {
        return std::string(n.exec1("SELECT encode(secret, 'hex') FROM key_hash_secret")[0].c_str());
    });
    ASSERT_TRUE(secret) << secret.error().message;
    for (const auto& row : *rows) {
        const std::string scope = row[0].as<std::string>();
        const std::string message = std::to_string(scope.size()) + ":" + scope + "192.0.2.44";
        EXPECT_EQ(row[1].as<std::string>(), hex_encode(crypto::hmac_sha256(*hex_decode(*secret), as_bytes(message))));
        EXPECT_NE(row[1].as<std::string>(), hex_encode(crypto::sha256(as_bytes("192.0.2.44"))));
    }
    EXPECT_NE((*rows)[0][1].as<std::string>(), (*rows)[1][1].as<std::string>());
    auto found = m_dbs[0]->read("find", [](pqxx::nontransaction& n) {
        return n.exec1("SELECT count(*) FROM rate_limits WHERE position('192.0'::bytea IN key_hash) > 0")[0].as<int>();
    });
    ASSERT_TRUE(found);
    EXPECT_EQ(*found, 0);
}

// Ended windows go: the first event an instance counts (and every kPgRateLimitPruneEvery-th)
// deletes its scope's rows whose window has ended, so the table holds only recent keys; other
// scopes are left alone.
TEST_F(PgRateLimiterTest, EndedWindowsPruned) {
    auto first = make();
    auto other_scope = make(small_policy(), "abuse_report");
    ASSERT_TRUE(first && other_scope);
    for (int i = 0; i < 10; ++i) EXPECT_EQ(acquire(*first, "old" + std::to_string(i)), 0);
    EXPECT_EQ(acquire(*other_scope, "old"), 0);
    EXPECT_EQ(*first->tracked_keys(), 10u);
    m_clock.advance(small_policy().window_s);
    auto second = make();  // a new instance: its first event prunes
    ASSERT_TRUE(second);
    EXPECT_EQ(acquire(*second, "new"), 0);
    EXPECT_EQ(*second->tracked_keys(), 1u);
    EXPECT_EQ(*other_scope->tracked_keys(), 1u);
    // An instance prunes again after kPgRateLimitPruneEvery of its own events.
    m_clock.advance(small_policy().window_s);
    for (std::uint64_t i = 1; i < kPgRateLimitPruneEvery; ++i) {
        EXPECT_EQ(acquire(*second, "k" + std::to_string(i)), 0);
    }
    EXPECT_EQ(*second->tracked_keys(), kPgRateLimitPruneEvery);  // "new" ended but is not pruned yet
    EXPECT_EQ(acquire(*second, "last"), 0);
    EXPECT_EQ(*second->tracked_keys(), kPgRateLimitPruneEvery);  // "new" went, "last" came
}

// When the shared store fails, the service neither refuses everything nor admits everything:
// this process's own count decides, under the same policy, until the store is back.
TEST_F(PgRateLimiterTest, StoreFailureFallsBackToTheLocalCount) {
    std::shared_ptr<RateLimiter> shared = make();
    ASSERT_TRUE(shared);
    ServiceRateLimit limit(m_clock, small_policy(), shared);
    EXPECT_EQ(limit.acquire("a"), 0);
    EXPECT_EQ(limit.acquire("a"), 0);
    auto dropped = m_dbs[0]->transact("break", [](pqxx::work& w) { w.exec("ALTER TABLE rate_limits RENAME TO gone"); });
    ASSERT_TRUE(dropped) << dropped.error().message;
    EXPECT_FALSE(shared->acquire("a"));
    for (int i = 0; i < 3; ++i) EXPECT_EQ(limit.acquire("a"), 0) << i;  // the local count starts from zero
    EXPECT_EQ(limit.acquire("a"), 60);
    EXPECT_EQ(limit.store_failures(), 4u);
    auto restored = m_dbs[0]->transact("mend", [](pqxx::work& w) { w.exec("ALTER TABLE gone RENAME TO rate_limits"); });
    ASSERT_TRUE(restored) << restored.error().message;
    EXPECT_EQ(limit.acquire("a"), 0);  // the shared count again: two of three were used
    EXPECT_EQ(limit.acquire("a"), 60);
    EXPECT_EQ(limit.store_failures(), 4u);
}

}  // namespace
}  // namespace satload::files
