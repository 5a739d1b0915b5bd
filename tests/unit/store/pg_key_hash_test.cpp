// PgKeyHasher: the keyed hash of shared counters' keys. Every instance on one database gets the
// same secret (also when they start together), so their hashes of a key meet; another database
// has another secret; a key hashes differently per scope and never as its plain SHA-256.
#include "store/pg_key_hash.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>
#include <vector>

#include "core/encoding.h"
#include "crypto/primitives.h"
#include "store/pg_test_util.h"

namespace satload::store {
namespace {

using testing::PgTestSchema;

// Two instances (two pools on one schema), one after the other: the same hash; another schema:
// another secret, so another hash.
TEST(PgKeyHasher, OneSecretPerDatabase) {
    SATLOAD_REQUIRE_PG();
    PgTestSchema place;
    PgTestSchema other_place;
    auto first = PgKeyHasher::open(*place.open());
    auto second = PgKeyHasher::open(*place.open());
    auto other = PgKeyHasher::open(*other_place.open());
    ASSERT_TRUE(first && second && other);
    const std::string h = (*first)->hash_hex("login", "192.0.2.1");
    EXPECT_EQ(h.size(), 64u);
    EXPECT_EQ((*second)->hash_hex("login", "192.0.2.1"), h);
    EXPECT_NE((*other)->hash_hex("login", "192.0.2.1"), h);
    EXPECT_NE((*first)->hash_hex("upload", "192.0.2.1"), h);
    EXPECT_NE((*first)->hash_hex("login", "192.0.2.2"), h);
    EXPECT_NE(h, hex_encode(crypto::sha256(as_bytes("192.0.2.1"))));
    // The scope and the key stay apart: ("a", "b\0c") is not ("a\0b", "c").
    EXPECT_NE((*first)->hash_hex("a", std::string("b\0c", 3)), (*first)->hash_hex(std::string("a\0b", 3), "c"));
}

// Six instances starting at once on a fresh schema: one secret is stored, and all hash alike.
TEST(PgKeyHasher, RacingCreatorsShareOneSecret) {
    SATLOAD_REQUIRE_PG();
    PgTestSchema place;
    constexpr int kInstances = 6;
    std::vector<std::shared_ptr<PgDb>> dbs;
    for (int i = 0; i < kInstances; ++i) dbs.push_back(place.open(1));
    std::vector<std::string> hashes(kInstances);
    std::vector<std::thread> threads;
    for (int i = 0; i < kInstances; ++i) {
        threads.emplace_back([&, i] {
            auto hasher = PgKeyHasher::open(*dbs[i]);
            if (hasher) hashes[i] = (*hasher)->hash_hex("login", "alice");
        });
    }
    for (auto& t : threads) t.join();
    const std::set<std::string> distinct(hashes.begin(), hashes.end());
    ASSERT_EQ(distinct.size(), 1u);
    EXPECT_FALSE(distinct.begin()->empty());
    auto rows = dbs[0]->read("count", [](pqxx::nontransaction& n) {
        return n.exec1("SELECT count(*) FROM key_hash_secret")[0].as<int>();
    });
    ASSERT_TRUE(rows);
    EXPECT_EQ(*rows, 1);
}

}  // namespace
}  // namespace satload::store
