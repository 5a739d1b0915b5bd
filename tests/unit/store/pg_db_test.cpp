// PgDb: the --db URL's own `schema` parameter, the bounded pool, transactions that roll back
// on a failed StoreResult, and migrations applied once however many instances race.
#include "store/pg_db.h"

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <limits>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
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

// Texts PostgreSQL can hold: NUL (libpq cuts the parameter there) and anything that is not
// well-formed UTF-8 (overlong, surrogate, beyond U+10FFFF, cut short, stray continuation) are
// not; every well-formed text up to U+10FFFF is.
TEST(PgValues, StorableRefusesNulAndInvalidUtf8) {
    using namespace std::string_literals;
    for (const std::string& good :
         {""s, "abc"s, "caf\xC3\xA9"s, "\xE2\x82\xAC"s, "\xF0\x9F\x98\x80"s, "\xF4\x8F\xBF\xBF"s,
          "\xED\x9F\xBF"s, "\x7F"s}) {
        EXPECT_TRUE(pg_storable(good)) << ::testing::PrintToString(good);
    }
    for (const std::string& bad :
         {"a\0b"s, "\0"s, "abc\0"s, "\x80"s, "a\xC3"s, "\xE2\x82"s, "\xC0\xAF"s, "\xC1\xBF"s,
          "\xE0\x80\xAF"s, "\xF0\x80\x80\xAF"s, "\xED\xA0\x80"s, "\xED\xBF\xBF"s,
          "\xF4\x90\x80\x80"s, "\xF8\x88\x80\x80\x80"s, "\xFF"s, "\xC3("s, "ok\xE2\x28\xA1"s}) {
        EXPECT_FALSE(pg_storable(bad)) << ::testing::PrintToString(bad);
    }
    EXPECT_TRUE(pg_storable_all("a"s, "b"s, "caf\xC3\xA9"s));
    EXPECT_FALSE(pg_storable_all("a"s, "b\0"s, "c"s));
    EXPECT_FALSE(pg_storable_all("a"s, "\xFF"s));
    const auto refused = pg_unstorable("the name");
    EXPECT_EQ(refused.code, StoreError::io);
    EXPECT_NE(refused.message.find("the name"), std::string::npos);
}

// Unsigned sizes become BIGINT up to INT64_MAX and are refused (io) beyond it, never stored
// negative; a LIMIT beyond BIGINT is clamped (it means "all").
TEST(PgValues, BigintAndLimitRanges) {
    constexpr auto max = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    EXPECT_EQ(*pg_bigint(std::uint64_t{0}), 0);
    EXPECT_EQ(*pg_bigint(max), std::numeric_limits<std::int64_t>::max());
    for (const std::uint64_t too_big : {max + 1, std::numeric_limits<std::uint64_t>::max()}) {
        auto r = pg_bigint(too_big);
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().code, StoreError::io);
    }
    EXPECT_EQ(*pg_bigint(std::optional<std::uint64_t>()), std::nullopt);
    EXPECT_EQ(*pg_bigint(std::optional<std::uint64_t>(max)), std::optional<std::int64_t>(max));
    EXPECT_FALSE(pg_bigint(std::optional<std::uint64_t>(max + 1)));
    EXPECT_EQ(pg_limit(0), 0);
    EXPECT_EQ(pg_limit(25), 25);
    EXPECT_EQ(pg_limit(std::numeric_limits<std::size_t>::max()),
              std::numeric_limits<std::int64_t>::max());
}

// pg_storable says what the server does: every text it accepts comes back byte for byte, every
// invalid UTF-8 one the server refuses, and a NUL one libpq would cut short (the reason lookups
// by such a text must find nothing).
TEST(PgValues, StorableAgreesWithTheServer) {
    SATLOAD_REQUIRE_PG();
    using namespace std::string_literals;
    PgTestSchema place;
    auto db = place.open();
    ASSERT_TRUE(db);
    auto echo = [&](const std::string& text) {
        return db->transact("echo", [&](pqxx::work& w) {
            return pg_text(w.exec_params1("SELECT $1::text", text)[0]);
        });
    };
    for (const std::string& good :
         {"caf\xC3\xA9"s, "\xF0\x9F\x98\x80"s, "\xF4\x8F\xBF\xBF"s, "plain"s}) {
        ASSERT_TRUE(pg_storable(good));
        auto back = echo(good);
        ASSERT_TRUE(back) << back.error().message;
        EXPECT_EQ(*back, good);
    }
    for (const std::string& bad :
         {"\xFF"s, "\xC0\xAF"s, "\xED\xA0\x80"s, "\xF4\x90\x80\x80"s, "a\xC3"s}) {
        ASSERT_FALSE(pg_storable(bad));
        auto back = echo(bad);
        ASSERT_FALSE(back) << ::testing::PrintToString(bad);
        EXPECT_EQ(back.error().code, StoreError::io);
    }
    const std::string with_nul = "id\0x"s;
    ASSERT_FALSE(pg_storable(with_nul));
    auto cut = echo(with_nul);
    ASSERT_TRUE(cut);
    EXPECT_EQ(*cut, "id");
}

// Row helpers: pg_rows keeps every row in order, pg_first the first or nothing,
// pg_optional_bigint maps NULL to nullopt; pg_u64 refuses a negative value (the call fails
// with io instead of wrapping it to a huge size).
TEST(PgValues, RowHelpers) {
    SATLOAD_REQUIRE_PG();
    PgTestSchema place;
    auto db = place.open();
    ASSERT_TRUE(db);
    auto all = db->transact("rows", [](pqxx::work& w) {
        return pg_rows(w.exec("SELECT g FROM generate_series(3, 1, -1) AS g"),
                       [](const pqxx::row& r) { return pg_u64(r[0]); });
    });
    ASSERT_TRUE(all);
    EXPECT_EQ(*all, (std::vector<std::uint64_t>{3, 2, 1}));
    auto first = db->read("first", [](pqxx::nontransaction& n) {
        return pg_first(n.exec("SELECT 'x' || g FROM generate_series(7, 9) AS g"),
                        [](const pqxx::row& r) { return pg_text(r[0]); });
    });
    ASSERT_TRUE(first);
    EXPECT_EQ(*first, std::optional<std::string>("x7"));
    auto none = db->read("none", [](pqxx::nontransaction& n) {
        return pg_first(n.exec("SELECT 1 WHERE false"),
                        [](const pqxx::row& r) { return pg_u64(r[0]); });
    });
    ASSERT_TRUE(none);
    EXPECT_EQ(*none, std::nullopt);
    auto nullable = db->read("nullable", [](pqxx::nontransaction& n) {
        const auto r = n.exec1("SELECT NULL::bigint, 42::bigint");
        return std::pair(pg_optional_bigint(r[0]), pg_optional_bigint(r[1]));
    });
    ASSERT_TRUE(nullable);
    EXPECT_EQ(nullable->first, std::nullopt);
    EXPECT_EQ(nullable->second, std::optional<std::int64_t>(42));
    auto negative = db->read("negative", [](pqxx::nontransaction& n) {
        return pg_u64(n.exec1("SELECT -1::bigint")[0]);
    });
    ASSERT_FALSE(negative);
    EXPECT_EQ(negative.error().code, StoreError::io);
    EXPECT_NE(negative.error().message.find("negative"), std::string::npos);
}

// read runs outside a transaction block (each statement commits on its own, which is why it is
// for single-statement reads only): two statements get two transaction ids where transact's
// share one. Its results, failed StoreResults and errors are those of transact.
TEST(PgDb, ReadRunsWithoutATransactionBlock) {
    SATLOAD_REQUIRE_PG();
    PgTestSchema place;
    auto db = place.open();
    ASSERT_TRUE(db->migrate("things", kSteps));
    auto two_ids = [](auto& tx) {
        const auto a = tx.exec1("SELECT txid_current()")[0].template as<std::int64_t>();
        const auto b = tx.exec1("SELECT txid_current()")[0].template as<std::int64_t>();
        return a != b;
    };
    auto in_read = db->read("ids", [&](pqxx::nontransaction& n) { return two_ids(n); });
    ASSERT_TRUE(in_read);
    EXPECT_TRUE(*in_read);
    auto in_transact = db->transact("ids", [&](pqxx::work& w) { return two_ids(w); });
    ASSERT_TRUE(in_transact);
    EXPECT_FALSE(*in_transact);
    ASSERT_TRUE(db->transact(
        "insert", [](pqxx::work& w) { w.exec("INSERT INTO things (id, name) VALUES (1, 'a')"); }));
    auto name = db->read("name", [](pqxx::nontransaction& n) -> StoreResult<std::string> {
        const auto r = n.exec("SELECT name FROM things WHERE id = 1");
        if (r.empty()) return fail(StoreFailure{StoreError::not_found, "no thing"});
        return pg_text(r[0][0]);
    });
    ASSERT_TRUE(name);
    EXPECT_EQ(*name, "a");
    auto missing = db->read("missing", [](pqxx::nontransaction& n) -> StoreResult<std::string> {
        if (n.exec("SELECT name FROM things WHERE id = 2").empty()) {
            return fail(StoreFailure{StoreError::not_found, "no thing"});
        }
        return std::string();
    });
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, StoreError::not_found);
    auto bad = db->read("bad read",
                        [](pqxx::nontransaction& n) { n.exec("SELECT * FROM no_such_table"); });
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, StoreError::io);
    EXPECT_NE(bad.error().message.find("bad read"), std::string::npos);
}

}  // namespace
}  // namespace satload::store
