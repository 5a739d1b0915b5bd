// PgDb: the --db URL's own `schema` parameter, the bounded pool, transactions that roll back
// on a failed StoreResult, and migrations applied once however many instances race.
#include "store/pg_db.h"

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "store/pg_test_util.h"

namespace satload::store {
namespace {

using testing::PgTestSchema;

// The schema parameter is ours: it leaves the URL libpq sees, and defaults to "satload".
TEST(PgUrl, SchemaParameterIsTakenOut) {
    auto a = parse_pg_url("postgresql://u@127.0.0.1:5432/db?schema=tenant_1&sslmode=disable");
    ASSERT_TRUE(a) << a.error().message;
    EXPECT_EQ(a->schema, "tenant_1");
    EXPECT_EQ(a->conninfo, "postgresql://u@127.0.0.1:5432/db?sslmode=disable");
    auto b = parse_pg_url("postgres://u@h/db?schema=x");
    ASSERT_TRUE(b);
    EXPECT_EQ(b->conninfo, "postgres://u@h/db");
    auto c = parse_pg_url("postgresql://u@h/db");
    ASSERT_TRUE(c);
    EXPECT_EQ(c->schema, "satload");
    EXPECT_EQ(c->conninfo, "postgresql://u@h/db");
}

// Schema names become SQL identifiers: anything but [a-z_][a-z0-9_]{0,62} is refused, and so
// is a URL of another scheme.
TEST(PgUrl, RefusesBadSchemasAndSchemes) {
    for (const char* bad : {"postgresql://h/db?schema=", "postgresql://h/db?schema=Upper",
                            "postgresql://h/db?schema=1abc", "postgresql://h/db?schema=a;drop",
                            "postgresql://h/db?schema=a%20b", "mysql://h/db", "sqlite:///x"}) {
        EXPECT_FALSE(parse_pg_url(bad)) << bad;
    }
    EXPECT_FALSE(parse_pg_url("postgresql://h/db?schema=" + std::string(64, 'a')));
    EXPECT_TRUE(parse_pg_url("postgresql://h/db?schema=" + std::string(63, 'a')));
    EXPECT_FALSE(PgDb::open("postgresql://h/db", 0));
    EXPECT_FALSE(PgDb::open("postgresql://h/db", kPgPoolConnectionsMax + 1));
}

constexpr std::array<std::string_view, 2> kSteps{
    "CREATE TABLE things (id BIGINT PRIMARY KEY, name TEXT NOT NULL)",
    "ALTER TABLE things ADD COLUMN size BIGINT NOT NULL DEFAULT 0",
};

// Migrations run in order, once: the version found before is returned, a second run does
// nothing, and a database newer than the program is refused.
TEST(PgDb, MigratesInOrderOnce) {
    SATLOAD_REQUIRE_PG();
    PgTestSchema place;
    auto db = place.open();
    ASSERT_TRUE(db);
    EXPECT_EQ(*db->version("things"), 0);
    auto first = db->migrate("things", std::span(kSteps).first(1));
    ASSERT_TRUE(first) << first.error().message;
    EXPECT_EQ(*first, 0);
    EXPECT_EQ(*db->version("things"), 1);
    auto second = db->migrate("things", kSteps);
    ASSERT_TRUE(second) << second.error().message;
    EXPECT_EQ(*second, 1);
    EXPECT_EQ(*db->version("things"), 2);
    EXPECT_EQ(*db->migrate("things", kSteps), 2);
    // Another component's versions are its own.
    EXPECT_EQ(*db->version("other"), 0);
    auto older = db->migrate("things", std::span(kSteps).first(1));
    ASSERT_FALSE(older);
    EXPECT_NE(older.error().message.find("newer than this program"), std::string::npos);
    auto cols = db->transact("count columns", [](pqxx::work& w) {
        return w.exec1("SELECT count(*) FROM information_schema.columns WHERE table_name = 'things' "
                       "AND table_schema = current_schema()")[0]
            .as<int>();
    });
    ASSERT_TRUE(cols);
    EXPECT_EQ(*cols, 3);
}

// Instances starting together (threads with their own PgDb, as processes would) apply each
// step exactly once: a second CREATE TABLE would fail one of them.
TEST(PgDb, ConcurrentMigrationsApplyOnce) {
    SATLOAD_REQUIRE_PG();
    PgTestSchema place;
    constexpr int kInstances = 6;
    std::atomic<int> ok{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < kInstances; ++i) {
        threads.emplace_back([&] {
            auto db = PgDb::open(place.url(), 1);
            if (db && (*db)->migrate("things", kSteps)) ++ok;
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(ok.load(), kInstances);
    auto db = place.open();
    auto rows = db->transact("count migrations", [](pqxx::work& w) {
        return w.exec1("SELECT count(*) FROM satload_migrations WHERE component = 'things'")[0].as<int>();
    });
    ASSERT_TRUE(rows);
    EXPECT_EQ(*rows, 2);
}

// A transaction whose function returns a failed StoreResult is rolled back; a unique
// violation is `exists`; a committed one is visible to another pool on the same schema.
TEST(PgDb, TransactCommitsRollsBackAndMapsErrors) {
    SATLOAD_REQUIRE_PG();
    PgTestSchema place;
    auto db = place.open();
    ASSERT_TRUE(db->migrate("things", kSteps));
    auto refused = db->transact("insert then refuse", [](pqxx::work& w) -> StoreResult<int> {
        w.exec("INSERT INTO things (id, name) VALUES (1, 'a')");
        return fail(StoreFailure{StoreError::not_found, "changed my mind"});
    });
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, StoreError::not_found);
    auto count = [&](const std::shared_ptr<PgDb>& d) {
        return *d->transact("count", [](pqxx::work& w) { return w.exec1("SELECT count(*) FROM things")[0].as<int>(); });
    };
    EXPECT_EQ(count(db), 0);
    ASSERT_TRUE(db->transact("insert", [](pqxx::work& w) { w.exec("INSERT INTO things (id, name) VALUES (1, 'a')"); }));
    auto dup = db->transact("insert again", [](pqxx::work& w) { w.exec("INSERT INTO things (id, name) VALUES (1, 'b')"); });
    ASSERT_FALSE(dup);
    EXPECT_EQ(dup.error().code, StoreError::exists);
    auto other = place.open();
    EXPECT_EQ(count(other), 1);
    auto bad = db->transact("bad sql", [](pqxx::work& w) { w.exec("SELECT * FROM no_such_table"); });
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, StoreError::io);
    EXPECT_NE(bad.error().message.find("bad sql"), std::string::npos);
}

// The pool never opens more connections than its size: more borrowers than connections wait
// for a return instead, so eight concurrent transactions run on at most two server backends.
TEST(PgDb, PoolIsBounded) {
    SATLOAD_REQUIRE_PG();
    PgTestSchema place;
    auto db = place.open(2);
    ASSERT_TRUE(db->migrate("things", kSteps));
    std::mutex mutex;
    std::set<int> backends;
    std::vector<std::thread> threads;
    std::atomic<int> ok{0};
    for (int i = 0; i < 8; ++i) {
        threads.emplace_back([&, i] {
            auto pid = db->transact("insert", [i](pqxx::work& w) {
                w.exec_params("INSERT INTO things (id, name) VALUES ($1, 'x')", i);
                w.exec("SELECT pg_sleep(0.02)");
                return w.exec1("SELECT pg_backend_pid()")[0].as<int>();
            });
            if (!pid) return;
            ++ok;
            std::lock_guard lock(mutex);
            backends.insert(*pid);
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(ok.load(), 8);
    EXPECT_GE(backends.size(), 1u);
    EXPECT_LE(backends.size(), 2u);
}

}  // namespace
}  // namespace satload::store
