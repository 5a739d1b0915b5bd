// Group commit of the embedded stores: writers that arrive while a group runs share the next
// commit; each write still succeeds or fails alone, and is stored once its call returns.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "store/sqlite_db.h"
#include "store/sqlite_group_commit.h"
#include "store_test_util.h"

namespace satload::store::sqlite {
namespace {

class GroupCommitTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto db = open_database(m_dir.path() / "g.sqlite", 5000);
        ASSERT_TRUE(db) << db.error().message;
        m_db.emplace(std::move(*db));
        ASSERT_TRUE(exec(db_handle(), "CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL)", "create"));
        m_group = std::make_unique<GroupCommit>(db_handle(), m_mutex);
    }
    sqlite3* db_handle() { return m_db->get(); }

    static GroupCommit::Write insert(std::string key, std::int64_t value) {
        return [key = std::move(key), value](sqlite3* db) -> StoreResult<void> {
            Query q(db, "INSERT INTO t (k, v) VALUES (?1, ?2)");
            q.text(1, key).i64(2, value);
            if (auto r = run(db, q, "insert"); !r) return fail(r.error());
            return {};
        };
    }

    // Rows of t as seen by a second connection: what is committed.
    std::int64_t committed_rows() {
        auto other = open_database(m_dir.path() / "g.sqlite", 5000);
        EXPECT_TRUE(other);
        Query q(other->get(), "SELECT count(*) FROM t");
        EXPECT_EQ(q.step(), SQLITE_ROW);
        return sqlite3_column_int64(q.get(), 0);
    }

    testing::TempDir m_dir;
    std::optional<Database> m_db;
    std::mutex m_mutex;
    std::unique_ptr<GroupCommit> m_group;
};

// While one group runs, every write that arrives waits and then goes in the next group: 1 + 1
// commits for 1 + 15 writes, all stored.
TEST_F(GroupCommitTest, WritesArrivingDuringACommitShareTheNext) {
    constexpr int kFollowers = 15;
    std::atomic<bool> entered{false};
    std::atomic<bool> release{false};
    std::thread first([&] {
        const GroupCommit::Write blocking = [&](sqlite3* db) -> StoreResult<void> {
            entered = true;
            while (!release.load()) std::this_thread::yield();
            return insert("first", 0)(db);
        };
        EXPECT_TRUE(m_group->run(blocking));
    });
    while (!entered.load()) std::this_thread::yield();  // the first group is running
    std::vector<std::thread> followers;
    for (int i = 0; i < kFollowers; ++i) {
        followers.emplace_back([&, i] { EXPECT_TRUE(m_group->run(insert("k" + std::to_string(i), i))); });
    }
    // The first group holds only the first write; the others queue behind it.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (m_group->queued() < static_cast<std::size_t>(kFollowers) && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::yield();
    }
    ASSERT_EQ(m_group->queued(), static_cast<std::size_t>(kFollowers));
    release = true;
    first.join();
    for (auto& t : followers) t.join();
    EXPECT_EQ(m_group->commits(), 2u);
    EXPECT_EQ(committed_rows(), 1 + kFollowers);
}

// A failing write rolls back alone: the others of its group are stored, and it reports why.
TEST_F(GroupCommitTest, AFailedWriteRollsBackAlone) {
    ASSERT_TRUE(m_group->run(insert("dup", 1)));
    std::atomic<bool> entered{false};
    std::atomic<bool> release{false};
    std::thread first([&] {
        const GroupCommit::Write blocking = [&](sqlite3* db) -> StoreResult<void> {
            entered = true;
            while (!release.load()) std::this_thread::yield();
            return insert("a", 1)(db);
        };
        EXPECT_TRUE(m_group->run(blocking));
    });
    while (!entered.load()) std::this_thread::yield();
    StoreResult<void> dup_result = {};
    std::thread dup([&] { dup_result = m_group->run(insert("dup", 2)); });
    std::thread good([&] { EXPECT_TRUE(m_group->run(insert("b", 3))); });
    while (m_group->queued() < 2) std::this_thread::yield();
    release = true;
    first.join();
    dup.join();
    good.join();
    ASSERT_FALSE(dup_result);
    EXPECT_EQ(dup_result.error().code, StoreError::exists);
    EXPECT_EQ(committed_rows(), 3);  // dup (the first), a, b
    Query q(db_handle(), "SELECT v FROM t WHERE k = 'dup'");
    ASSERT_EQ(q.step(), SQLITE_ROW);
    EXPECT_EQ(sqlite3_column_int64(q.get(), 0), 1);  // the failed write changed nothing
}

// An unsynced write is committed at once (another connection sees it), a failed one changes
// nothing, and the connection syncs every later commit again (synchronous=FULL).
TEST_F(GroupCommitTest, UnsyncedWritesCommitAndLeaveTheConnectionSynced) {
    ASSERT_TRUE(m_group->run_unsynced(insert("a", 1)));
    EXPECT_EQ(committed_rows(), 1);
    const auto dup = m_group->run_unsynced(insert("a", 2));
    ASSERT_FALSE(dup);
    EXPECT_EQ(dup.error().code, StoreError::exists);
    EXPECT_EQ(committed_rows(), 1);
    Query q(db_handle(), "PRAGMA synchronous");
    ASSERT_EQ(q.step(), SQLITE_ROW);
    EXPECT_EQ(sqlite3_column_int64(q.get(), 0), 2);  // FULL
}

// Many writers at once: every write is stored exactly once.
TEST_F(GroupCommitTest, ConcurrentWritersAreAllStored) {
    constexpr int kThreads = 8;
    constexpr int kEach = 40;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < kEach; ++i) {
                EXPECT_TRUE(m_group->run(insert(std::to_string(t) + "/" + std::to_string(i), i)));
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(committed_rows(), kThreads * kEach);
}

}  // namespace
}  // namespace satload::store::sqlite
