// Pins down what only the PostgreSQL metadata store must do: several server processes share
// one schema, so each sees the others' writes at once (nothing stale kept in memory), their
// concurrent download counts and batches lose no increment and do not deadlock, and processes
// that start together migrate the schema once.
#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "meta_store_test_util.h"

namespace satload::store {
namespace {
// Named too: a unity build compiles this layer's test files as one translation unit.
namespace pg_meta_store_test {

using testing::make_file;
using testing::make_upload;
using testing::make_upload_id;
using testing::PgTestSchema;

// One server process's view: a pool of its own and a store over it.
std::unique_ptr<PgMetaStore> open_process(const PgTestSchema& schema) {
    auto db = schema.open();
    if (!db) return nullptr;
    auto store = PgMetaStore::open(db);
    EXPECT_TRUE(store) << (store ? "" : store.error().message);
    return store ? std::move(*store) : nullptr;
}

FileRecord read(MetaStore& db, const std::string& file_id) {
    auto f = db.get_file(file_id);
    EXPECT_TRUE(f && *f) << "file missing";
    return f && *f ? **f : FileRecord{};
}

// Each write through one process is seen by the other's next read, even of a record the other
// has just read (a kept copy would answer with the old downloads, revocation or name).
TEST(PgMetaStore, TwoProcessesSeeEachOthersWritesAtOnce) {
    SATLOAD_REQUIRE_PG();
    PgTestSchema schema;
    auto a = open_process(schema);
    auto b = open_process(schema);
    ASSERT_TRUE(a && b);

    const UploadRecord u = make_upload(1);
    ASSERT_TRUE(a->create_upload(u));
    auto seen = b->get_upload(u.upload_id);
    ASSERT_TRUE(seen && *seen);
    ASSERT_TRUE(b->set_upload_offset(u.upload_id, 60));
    EXPECT_EQ((*a->get_upload(u.upload_id))->offset_bytes, 60u);
    ASSERT_TRUE(a->complete_upload(u.upload_id, make_file(u)));
    EXPECT_TRUE((*b->get_upload(u.upload_id))->complete);

    EXPECT_EQ(read(*b, u.file_id).downloads, 0u);
    EXPECT_EQ(*a->count_download(u.file_id), 1u);
    EXPECT_EQ(read(*b, u.file_id).downloads, 1u);
    ASSERT_TRUE(b->add_downloads({{u.file_id, 4}}));
    EXPECT_EQ(read(*a, u.file_id).downloads, 5u);
    ASSERT_TRUE(a->uncount_download(u.file_id));
    EXPECT_EQ(read(*b, u.file_id).downloads, 4u);

    FileControlsUpdate revoke;
    revoke.revoked = true;
    ASSERT_TRUE(a->update_file_controls(u.file_id, revoke));
    EXPECT_TRUE(read(*b, u.file_id).revoked);
    FileControlsUpdate rename;
    rename.meta = "bmV3";
    ASSERT_TRUE(b->update_file_controls(u.file_id, rename));
    EXPECT_EQ(read(*a, u.file_id).meta, "bmV3");

    ASSERT_TRUE(a->delete_file(u.file_id));
    auto gone = b->get_file(u.file_id);
    ASSERT_TRUE(gone);
    EXPECT_FALSE(*gone);
    EXPECT_EQ(b->count_download(u.file_id).error().code, StoreError::not_found);
}

// Downloads finishing at the same time in two processes each add exactly one: every count
// returned is distinct and the total is exact.
TEST(PgMetaStore, ConcurrentCountsFromTwoProcessesLoseNothing) {
    SATLOAD_REQUIRE_PG();
    PgTestSchema schema;
    auto a = open_process(schema);
    auto b = open_process(schema);
    ASSERT_TRUE(a && b);
    const UploadRecord u = make_upload(2);
    ASSERT_TRUE(a->create_upload(u));
    ASSERT_TRUE(a->complete_upload(u.upload_id, make_file(u)));

    constexpr int kThreadsEach = 3;
    const int each = testing::small_tests() ? 20 : 60;
    std::vector<std::vector<std::uint64_t>> seen(2 * kThreadsEach);
    std::atomic<int> failures{0};
    {
        std::vector<std::jthread> threads;
        for (int t = 0; t < 2 * kThreadsEach; ++t) {
            PgMetaStore& db = t % 2 == 0 ? *a : *b;
            threads.emplace_back([&, t] {
                for (int i = 0; i < each; ++i) {
                    auto n = db.count_download(u.file_id);
                    if (n) {
                        seen[static_cast<std::size_t>(t)].push_back(*n);
                    } else {
                        ++failures;
                    }
                }
            });
        }
    }
    EXPECT_EQ(failures.load(), 0);
    const auto total = static_cast<std::uint64_t>(2 * kThreadsEach * each);
    EXPECT_EQ(read(*a, u.file_id).downloads, total);
    EXPECT_EQ(read(*b, u.file_id).downloads, total);
    std::vector<std::uint64_t> all;
    for (const auto& s : seen) all.insert(all.end(), s.begin(), s.end());
    std::sort(all.begin(), all.end());
    ASSERT_EQ(all.size(), total);
    for (std::size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i], i + 1);
}

// Batches of counts over the same files in opposite orders, from two processes at once, all
// commit (no deadlock reaches the caller) and add up exactly.
TEST(PgMetaStore, ConcurrentBatchesFromTwoProcessesAddUp) {
    SATLOAD_REQUIRE_PG();
    PgTestSchema schema;
    auto a = open_process(schema);
    auto b = open_process(schema);
    ASSERT_TRUE(a && b);
    constexpr std::uint32_t kFiles = 6;
    std::vector<std::pair<std::string, std::uint64_t>> forward;
    for (std::uint32_t i = 0; i < kFiles; ++i) {
        const UploadRecord u = make_upload(10 + i);
        ASSERT_TRUE(a->create_upload(u));
        ASSERT_TRUE(a->complete_upload(u.upload_id, make_file(u)));
        forward.emplace_back(u.file_id, i + 1);
    }
    auto backward = forward;
    std::reverse(backward.begin(), backward.end());

    const int rounds = testing::small_tests() ? 10 : 30;
    std::atomic<int> failures{0};
    {
        std::vector<std::jthread> threads;
        for (int t = 0; t < 4; ++t) {
            PgMetaStore& db = t % 2 == 0 ? *a : *b;
            const auto& batch = t < 2 ? forward : backward;
            threads.emplace_back([&] {
                for (int i = 0; i < rounds; ++i) {
                    if (auto r = db.add_downloads(batch); !r) {
                        ADD_FAILURE() << r.error().message;
                        ++failures;
                    }
                }
            });
        }
    }
    EXPECT_EQ(failures.load(), 0);
    for (const auto& [file_id, n] : forward) {
        EXPECT_EQ(read(*b, file_id).downloads, n * 4 * static_cast<std::uint64_t>(rounds));
    }
}

// A text PostgreSQL cannot hold (a NUL byte, which libpq would cut the value at, or bytes that
// are not UTF-8) is refused before it is written, and nothing of the record is stored.
TEST(PgMetaStore, TextsItCannotHoldAreRefusedWhole) {
    SATLOAD_REQUIRE_PG();
    PgTestSchema schema;
    auto db = open_process(schema);
    ASSERT_TRUE(db);
    UploadRecord cut = make_upload(4);
    cut.metadata = std::string("name eA==\0,meta eQ==", 20);
    EXPECT_EQ(db->create_upload(cut).error().code, StoreError::io);
    EXPECT_FALSE(*db->get_upload(cut.upload_id));
    UploadRecord part = make_upload(5);
    part.parts = {testing::make_upload_id(6), "\xc0\xaf"};  // an overlong "/"
    EXPECT_EQ(db->create_upload(part).error().code, StoreError::io);
    EXPECT_FALSE(*db->get_upload(part.upload_id));

    const UploadRecord u = make_upload(7);
    ASSERT_TRUE(db->create_upload(u));
    FileRecord f = make_file(u);
    f.meta = std::string("bWV0\0YQ", 7);
    EXPECT_EQ(db->complete_upload(u.upload_id, f).error().code, StoreError::io);
    EXPECT_FALSE((*db->get_upload(u.upload_id))->complete);
    ASSERT_TRUE(db->complete_upload(u.upload_id, make_file(u)));
    FileControlsUpdate rename;
    rename.meta = "\xed\xa0\x80";  // a UTF-16 surrogate
    EXPECT_EQ(db->update_file_controls(u.file_id, rename).error().code, StoreError::io);
    EXPECT_EQ(read(*db, u.file_id).meta, make_file(u).meta);
    rename.meta = "\xf0\x9f\x94\x91";  // well-formed four-byte UTF-8 is stored as it is
    EXPECT_EQ(db->update_file_controls(u.file_id, rename)->meta, *rename.meta);
}

// The upload lock across processes: one holder at a time, extended by the same holder, taken
// over by another only once its lease ended (at until_s, not before), and given back only by
// its holder.
TEST(PgMetaStore, UploadLockOneHolderUntilItsLeaseEnds) {
    SATLOAD_REQUIRE_PG();
    PgTestSchema schema;
    auto a = open_process(schema);
    auto b = open_process(schema);
    ASSERT_TRUE(a && b);
    using G = UploadLockGrant;
    const std::string id = make_upload_id(1);
    EXPECT_EQ(*a->lock_upload(id, "a", 100, 160), G::taken);
    EXPECT_EQ(*b->lock_upload(id, "b", 100, 160), G::refused);
    EXPECT_EQ(*b->lock_upload(id, "b", 159, 219), G::refused);
    EXPECT_EQ(*a->lock_upload(id, "a", 150, 210), G::kept);     // its own: extended to 210
    EXPECT_EQ(*b->lock_upload(id, "b", 160, 220), G::refused);  // the old lease's end no longer frees it
    EXPECT_EQ(*b->lock_upload(id, "b", 210, 270), G::taken);    // the extended lease ended
    EXPECT_EQ(*a->lock_upload(id, "a", 211, 271), G::refused);
    ASSERT_TRUE(a->unlock_upload(id, "a"));  // not its lock: nothing changes
    EXPECT_EQ(*a->lock_upload(id, "a", 212, 272), G::refused);
    ASSERT_TRUE(b->unlock_upload(id, "b"));
    EXPECT_EQ(*a->lock_upload(id, "a", 213, 273), G::taken);
    // Another upload's lock is separate.
    EXPECT_EQ(*b->lock_upload(make_upload_id(2), "b", 213, 273), G::taken);
    // An id PostgreSQL cannot hold names no upload: nothing to lock, nothing stored.
    EXPECT_EQ(*b->lock_upload(std::string("x\0y", 3), "b", 213, 273), G::taken);
}

// A released lock remembers its last holder while the upload is there: taking it again tells
// the holder whether anybody else held it since (an appender kept between PATCHes is still
// right only then), be it a process that let it go or one whose lease ran out. The row of an
// id that names no incomplete upload goes when it is released.
TEST(PgMetaStore, UploadLockTellsWhetherAnotherHeldItSince) {
    SATLOAD_REQUIRE_PG();
    PgTestSchema schema;
    auto a = open_process(schema);
    auto b = open_process(schema);
    ASSERT_TRUE(a && b);
    using G = UploadLockGrant;
    const UploadRecord upload = make_upload(1);
    ASSERT_TRUE(a->create_upload(upload));
    const std::string& id = upload.upload_id;
    EXPECT_EQ(*a->lock_upload(id, "a", 100, 160), G::taken);
    ASSERT_TRUE(a->unlock_upload(id, "a"));
    EXPECT_EQ(*a->lock_upload(id, "a", 101, 161), G::kept);
    ASSERT_TRUE(a->unlock_upload(id, "a"));
    EXPECT_EQ(*b->lock_upload(id, "b", 102, 162), G::taken);
    ASSERT_TRUE(b->unlock_upload(id, "b"));
    EXPECT_EQ(*a->lock_upload(id, "a", 103, 163), G::taken);  // b held it since
    EXPECT_EQ(*a->lock_upload(id, "a", 104, 164), G::kept);
    // a's lease runs out; b takes it and never lets go; once b's lease ended, a is told.
    EXPECT_EQ(*b->lock_upload(id, "b", 164, 224), G::taken);
    EXPECT_EQ(*a->lock_upload(id, "a", 224, 284), G::taken);
    // Renewing: the holder's own lock, even past its lease, while nobody else took it; not
    // once another did, even if that one let go again (nor does the failed renewal take it).
    EXPECT_TRUE(*a->renew_upload_lock(id, "a", 300));  // its lease ended at 284: nobody took it
    EXPECT_EQ(*b->lock_upload(id, "b", 299, 359), G::refused);
    EXPECT_EQ(*b->lock_upload(id, "b", 300, 360), G::taken);
    ASSERT_TRUE(b->unlock_upload(id, "b"));
    EXPECT_FALSE(*a->renew_upload_lock(id, "a", 400));
    EXPECT_EQ(*b->lock_upload(id, "b", 301, 361), G::kept);  // still b's as last holder
    EXPECT_FALSE(*a->renew_upload_lock(id, "a", 400));
    // Unlocked rows of ids without an incomplete upload go.
    auto lock_rows = [&] {
        return *a->db()->transact("count locks", [](pqxx::work& w) {
            return w.exec1("SELECT count(*) FROM upload_locks")[0].as<int>();
        });
    };
    const std::string stray = make_upload_id(9);
    EXPECT_EQ(*b->lock_upload(stray, "b", 300, 360), G::taken);
    EXPECT_EQ(lock_rows(), 2);
    ASSERT_TRUE(b->unlock_upload(stray, "b"));
    ASSERT_TRUE(b->unlock_upload(id, "b"));
    EXPECT_EQ(lock_rows(), 1);  // the upload's, released
}

// Completing or deleting an upload drops its lock row: the table does not grow with uploads,
// and another holder can take the id at once.
TEST(PgMetaStore, UploadLockGoesWithTheUpload) {
    SATLOAD_REQUIRE_PG();
    PgTestSchema schema;
    auto a = open_process(schema);
    auto b = open_process(schema);
    ASSERT_TRUE(a && b);
    auto lock_rows = [&] {
        return *a->db()->transact("count locks", [](pqxx::work& w) {
            return w.exec1("SELECT count(*) FROM upload_locks")[0].as<int>();
        });
    };
    const UploadRecord done = make_upload(1);
    const UploadRecord dropped = make_upload(2);
    ASSERT_TRUE(a->create_upload(done));
    ASSERT_TRUE(a->create_upload(dropped));
    ASSERT_EQ(*a->lock_upload(done.upload_id, "a", 100, 160), UploadLockGrant::taken);
    ASSERT_EQ(*a->lock_upload(dropped.upload_id, "a", 100, 160), UploadLockGrant::taken);
    EXPECT_EQ(lock_rows(), 2);
    ASSERT_TRUE(a->complete_upload(done.upload_id, make_file(done)));
    EXPECT_EQ(lock_rows(), 1);
    EXPECT_EQ(*b->lock_upload(done.upload_id, "b", 101, 161), UploadLockGrant::taken);
    ASSERT_TRUE(a->delete_upload(dropped.upload_id));
    EXPECT_EQ(*b->lock_upload(dropped.upload_id, "b", 101, 161), UploadLockGrant::taken);
    ASSERT_TRUE(b->delete_upload(done.upload_id));
    ASSERT_TRUE(b->unlock_upload(dropped.upload_id, "b"));
    EXPECT_EQ(lock_rows(), 0);
}

// Many requests of two processes race for one free lock: exactly one gets it.
TEST(PgMetaStore, UploadLockRaceHasOneWinner) {
    SATLOAD_REQUIRE_PG();
    PgTestSchema schema;
    auto a = open_process(schema);
    auto b = open_process(schema);
    ASSERT_TRUE(a && b);
    constexpr int kHolders = 8;
    const int rounds = testing::small_tests() ? 5 : 20;
    for (int round = 0; round < rounds; ++round) {
        const std::string id = make_upload_id(static_cast<std::uint32_t>(100 + round));
        std::atomic<int> winners{0};
        std::atomic<int> failures{0};
        {
            std::vector<std::jthread> threads;
            for (int h = 0; h < kHolders; ++h) {
                PgMetaStore& db = h % 2 == 0 ? *a : *b;
                threads.emplace_back([&, h] {
                    auto held = db.lock_upload(id, "holder" + std::to_string(h), 100, 160);
                    if (!held) ++failures;
                    else if (*held != UploadLockGrant::refused) ++winners;
                });
            }
        }
        EXPECT_EQ(failures.load(), 0);
        EXPECT_EQ(winners.load(), 1) << "round " << round;
    }
}

// Server processes starting together on a fresh schema all open, and the schema is migrated
// once: every table exists once and the version is recorded once.
TEST(PgMetaStore, ProcessesStartingTogetherMigrateOnce) {
    SATLOAD_REQUIRE_PG();
    PgTestSchema schema;
    constexpr int kProcesses = 4;
    std::vector<std::unique_ptr<PgMetaStore>> stores(kProcesses);
    {
        std::vector<std::jthread> threads;
        for (int i = 0; i < kProcesses; ++i) {
            threads.emplace_back(
                [&, i] { stores[static_cast<std::size_t>(i)] = open_process(schema); });
        }
    }
    for (const auto& s : stores) ASSERT_TRUE(s);
    auto version = stores[0]->db()->version(kPgMetaComponent);
    ASSERT_TRUE(version);
    EXPECT_EQ(*version, kPgMetaSchemaVersion);
    auto recorded = stores[0]->db()->transact("count migrations", [](pqxx::work& w) {
        return w.exec1("SELECT count(*) FROM satload_migrations WHERE component = 'meta'")[0]
            .as<int>();
    });
    ASSERT_TRUE(recorded);
    EXPECT_EQ(*recorded, kPgMetaSchemaVersion);
    // What one process writes, another reads: they share the one set of tables.
    const UploadRecord u = make_upload(3);
    ASSERT_TRUE(stores[1]->create_upload(u));
    EXPECT_TRUE(*stores[3]->get_upload(u.upload_id));
}

}  // namespace pg_meta_store_test
}  // namespace
}  // namespace satload::store
