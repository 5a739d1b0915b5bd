// The wallet seed shared through PostgreSQL (serve --db postgresql://…): two instances with
// different data directories get one seed and so the same first deposit address, a data
// directory's older seed file is moved in (and kept), a differing file is refused, a wrong
// passphrase is refused, and creators racing on an empty schema end with one seed.
#include <gtest/gtest.h>

#include <filesystem>
#include <latch>
#include <random>
#include <thread>

#include "chain/address.h"
#include "chain/bip32.h"
#include "onchain/pg_seed_store.h"
#include "store/pg_test_util.h"

namespace satload::onchain {
namespace {

namespace fs = std::filesystem;
using store::testing::PgTestSchema;

constexpr SeedKdfParams kFast = kMinSeedKdf;  // the cheapest cost a seed may name

fs::path temp_dir() {
    const char* base = std::getenv("SATLOAD_TEST_TMP");
    fs::path dir = fs::path(base ? base : "/tmp") /
                   ("pgseed_" + std::to_string(::getpid()) + "_" + std::to_string(std::random_device{}()));
    fs::create_directories(dir);
    return dir;
}

// The first receive address (m/84'/1'/0'/0/0 on regtest): the first deposit address handed out.
std::string first_address(const SeedEntropy& e) {
    const auto& net = chain::network_params(chain::Network::regtest);
    auto key = chain::derive_path(account_key(e, net), {0, 0});
    EXPECT_TRUE(key);
    return key ? chain::p2wpkh_address(net, key->public_key) : std::string();
}

std::int64_t stored_rows(store::PgDb& db) {
    auto n = db.read("count", [](pqxx::nontransaction& t) { return t.exec1("SELECT count(*) FROM wallet_seed")[0].as<std::int64_t>(); });
    EXPECT_TRUE(n) << n.error().message;
    return n ? *n : -1;
}

class PgSeedStoreTest : public ::testing::Test {
protected:
    void SetUp() override { SATLOAD_REQUIRE_PG(); }
    void TearDown() override {
        for (const auto& d : m_dirs) fs::remove_all(d);
    }
    fs::path seed_file() {
        m_dirs.push_back(temp_dir());
        return m_dirs.back() / kSeedFileName;
    }
    PgTestSchema m_schema;
    std::vector<fs::path> m_dirs;
};

// Two instances (two pools on one schema, two empty data directories): the first creates the
// seed in the database, the second uses it, so both hand out the same first deposit address;
// neither writes a seed file (the database holds it).
TEST_F(PgSeedStoreTest, TwoInstancesShareOneSeed) {
    auto db_a = m_schema.open();
    auto db_b = m_schema.open();
    ASSERT_TRUE(db_a && db_b);
    const fs::path file_a = seed_file();
    const fs::path file_b = seed_file();
    auto a = load_or_create_shared_seed(*db_a, file_a, "pw", kFast);
    ASSERT_TRUE(a) << a.error().message;
    EXPECT_TRUE(a->created);
    EXPECT_FALSE(a->moved_in);
    auto b = load_or_create_shared_seed(*db_b, file_b, "pw", kFast);
    ASSERT_TRUE(b) << b.error().message;
    EXPECT_FALSE(b->created);
    EXPECT_FALSE(b->moved_in);
    EXPECT_EQ(a->entropy.bytes, b->entropy.bytes);
    EXPECT_EQ(first_address(a->entropy), first_address(b->entropy));
    EXPECT_FALSE(fs::exists(file_a));
    EXPECT_FALSE(fs::exists(file_b));
    EXPECT_EQ(stored_rows(*db_a), 1);
    // A restart of A reads the same seed again without creating one.
    auto again = load_or_create_shared_seed(*db_a, file_a, "pw", kFast);
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_FALSE(again->created);
    EXPECT_EQ(again->entropy.bytes, a->entropy.bytes);
}

// A data directory that already has wallet.seed, on a database without one: the file's bytes
// become the database's seed (moved_in once), the file is kept unchanged, and another instance
// with no file gets that seed.
TEST_F(PgSeedStoreTest, ExistingFileMovedIn) {
    auto db = m_schema.open();
    ASSERT_TRUE(db);
    const fs::path file = seed_file();
    auto original = load_or_create_seed(file, "pw", kFast);
    ASSERT_TRUE(original) << original.error().message;
    const auto bytes_before = read_seed_file(file);
    ASSERT_TRUE(bytes_before && *bytes_before);

    auto moved = load_or_create_shared_seed(*db, file, "pw", kFast);
    ASSERT_TRUE(moved) << moved.error().message;
    EXPECT_TRUE(moved->moved_in);
    EXPECT_FALSE(moved->created);
    EXPECT_EQ(moved->entropy.bytes, original->entropy.bytes);
    const auto bytes_after = read_seed_file(file);
    ASSERT_TRUE(bytes_after && *bytes_after);
    EXPECT_EQ(**bytes_after, **bytes_before);

    auto other = load_or_create_shared_seed(*db, seed_file(), "pw", kFast);
    ASSERT_TRUE(other) << other.error().message;
    EXPECT_FALSE(other->created);
    EXPECT_EQ(first_address(other->entropy), first_address(original->entropy));

    // The next start of the first directory finds its seed already there: nothing moves.
    auto restart = load_or_create_shared_seed(*db, file, "pw", kFast);
    ASSERT_TRUE(restart) << restart.error().message;
    EXPECT_FALSE(restart->moved_in);
    EXPECT_EQ(restart->entropy.bytes, original->entropy.bytes);
}

// A file holding a different seed than the database's is refused (conflict), whatever its
// passphrase, and the database's seed stays; a file of the SAME seed sealed anew (other salt and
// nonce, so other bytes) is no conflict.
TEST_F(PgSeedStoreTest, DifferingFileRefused) {
    auto db = m_schema.open();
    ASSERT_TRUE(db);
    auto shared = load_or_create_shared_seed(*db, seed_file(), "pw", kFast);
    ASSERT_TRUE(shared) << shared.error().message;

    const fs::path other = seed_file();
    auto foreign = load_or_create_seed(other, "pw", kFast);
    ASSERT_TRUE(foreign) << foreign.error().message;
    ASSERT_NE(foreign->entropy.bytes, shared->entropy.bytes);
    auto refused = load_or_create_shared_seed(*db, other, "pw", kFast);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, SeedError::conflict);
    EXPECT_NE(refused.error().message.find(other.string()), std::string::npos);

    // The same refusal for a file under another passphrase (it cannot be the database's seed).
    const fs::path other_pass = seed_file();
    ASSERT_TRUE(load_or_create_seed(other_pass, "another", kFast));
    auto refused_pass = load_or_create_shared_seed(*db, other_pass, "another", kFast);
    ASSERT_FALSE(refused_pass);
    EXPECT_EQ(refused_pass.error().code, SeedError::conflict);

    auto still = load_or_create_shared_seed(*db, seed_file(), "pw", kFast);
    ASSERT_TRUE(still) << still.error().message;
    EXPECT_EQ(still->entropy.bytes, shared->entropy.bytes);

    const fs::path resealed = seed_file();
    {
        const Bytes sealed = encrypt_seed(shared->entropy, "pw", kFast);
        std::FILE* f = std::fopen(resealed.c_str(), "wb");
        ASSERT_NE(f, nullptr);
        ASSERT_EQ(std::fwrite(sealed.data(), 1, sealed.size(), f), sealed.size());
        std::fclose(f);
    }
    auto same = load_or_create_shared_seed(*db, resealed, "pw", kFast);
    ASSERT_TRUE(same) << same.error().message;
    EXPECT_FALSE(same->moved_in);
    EXPECT_EQ(same->entropy.bytes, shared->entropy.bytes);
}

// A passphrase that does not open the database's seed is refused as wrong_passphrase (never a
// new seed), and the stored seed still opens with the right one.
TEST_F(PgSeedStoreTest, WrongPassphraseRefused) {
    auto db = m_schema.open();
    ASSERT_TRUE(db);
    auto shared = load_or_create_shared_seed(*db, seed_file(), "pw", kFast);
    ASSERT_TRUE(shared) << shared.error().message;
    auto wrong = load_or_create_shared_seed(*db, seed_file(), "pW", kFast);
    ASSERT_FALSE(wrong);
    EXPECT_EQ(wrong.error().code, SeedError::wrong_passphrase);
    EXPECT_EQ(stored_rows(*db), 1);
    auto right = load_or_create_shared_seed(*db, seed_file(), "pw", kFast);
    ASSERT_TRUE(right) << right.error().message;
    EXPECT_EQ(right->entropy.bytes, shared->entropy.bytes);
}

// Instances starting together on an empty schema, each with its own pool and empty data
// directory: exactly one creates the seed, every one ends with it.
TEST_F(PgSeedStoreTest, RacingCreatorsEndWithOneSeed) {
    constexpr int kInstances = 6;
    std::vector<std::shared_ptr<store::PgDb>> dbs;
    std::vector<fs::path> files;
    for (int i = 0; i < kInstances; ++i) {
        dbs.push_back(m_schema.open(2));
        ASSERT_TRUE(dbs.back());
        files.push_back(seed_file());
    }
    std::vector<std::optional<Result<LoadedSeed, SeedFailure>>> results(kInstances);
    std::latch start(kInstances);
    std::vector<std::thread> threads;
    for (int i = 0; i < kInstances; ++i) {
        threads.emplace_back([&, i] {
            start.arrive_and_wait();
            results[static_cast<std::size_t>(i)] =
                load_or_create_shared_seed(*dbs[static_cast<std::size_t>(i)], files[static_cast<std::size_t>(i)], "pw", kFast);
        });
    }
    for (auto& t : threads) t.join();
    int created = 0;
    for (const auto& r : results) {
        ASSERT_TRUE(r && *r) << (r && !*r ? (*r).error().message : "no result");
        created += (**r).created ? 1 : 0;
        EXPECT_EQ((**r).entropy.bytes, (*results[0])->entropy.bytes);
    }
    EXPECT_EQ(created, 1);
    EXPECT_EQ(stored_rows(*dbs[0]), 1);
}

}  // namespace
}  // namespace satload::onchain
