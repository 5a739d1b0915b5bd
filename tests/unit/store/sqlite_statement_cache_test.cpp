// Prepared statements kept per connection (store/sqlite_db.h): a statement is reused for the
// same SQL on the same connection, comes back with no bindings and no open read, and goes
// with its connection.
#include <gtest/gtest.h>

#include <string>

#include "store/sqlite_db.h"
#include "store_test_util.h"

namespace satload::store::sqlite {
namespace {

class StatementCacheTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto db = open_database(m_dir.path() / "c.sqlite", 5000);
        ASSERT_TRUE(db) << db.error().message;
        m_db.emplace(std::move(*db));
        ASSERT_TRUE(exec(handle(), "CREATE TABLE t (k INTEGER PRIMARY KEY)", "create"));
        ASSERT_TRUE(exec(handle(), "INSERT INTO t VALUES (1), (2), (3)", "fill"));
    }
    sqlite3* handle() { return m_db->get(); }

    testing::TempDir m_dir;
    std::optional<Database> m_db;
};

// One statement per SQL text: running it again borrows the kept one instead of preparing.
TEST_F(StatementCacheTest, TheSameSqlReusesOneStatement) {
    const std::size_t before = kept_statements(handle());
    for (int i = 0; i < 3; ++i) {
        Query q(handle(), "SELECT count(*) FROM t");
        ASSERT_TRUE(q.prepared());
        ASSERT_EQ(q.step(), SQLITE_ROW);
        EXPECT_EQ(sqlite3_column_int64(q.get(), 0), 3);
    }
    EXPECT_EQ(kept_statements(handle()), before + 1);
    {
        Query a(handle(), "SELECT k FROM t WHERE k = ?1");
        Query b(handle(), "SELECT k FROM t WHERE k = ?1");  // in use at once: two statements
        EXPECT_NE(a.get(), b.get());
    }
    EXPECT_EQ(kept_statements(handle()), before + 3);
}

// A kept statement comes back with its bindings cleared: a parameter not bound again is NULL.
TEST_F(StatementCacheTest, BindingsDoNotCarryOver) {
    {
        Query q(handle(), "SELECT ?1 IS NULL");
        q.i64(1, 5);
        ASSERT_EQ(q.step(), SQLITE_ROW);
        EXPECT_EQ(sqlite3_column_int64(q.get(), 0), 0);
    }
    Query q(handle(), "SELECT ?1 IS NULL");
    ASSERT_EQ(q.step(), SQLITE_ROW);
    EXPECT_EQ(sqlite3_column_int64(q.get(), 0), 1);
}

// A statement dropped in the middle of its rows is reset: it holds no read transaction, so a
// checkpoint that must wait for every reader (TRUNCATE) completes.
TEST_F(StatementCacheTest, AStatementLeftMidwayHoldsNoRead) {
    {
        Query q(handle(), "SELECT k FROM t ORDER BY k");
        ASSERT_EQ(q.step(), SQLITE_ROW);  // two rows left unread
    }
    auto other = open_database(m_dir.path() / "c.sqlite", 5000);
    ASSERT_TRUE(other);
    ASSERT_TRUE(exec(other->get(), "INSERT INTO t VALUES (4)", "write"));
    int log_frames = -1;
    int checkpointed = -1;
    ASSERT_EQ(sqlite3_wal_checkpoint_v2(other->get(), nullptr, SQLITE_CHECKPOINT_TRUNCATE, &log_frames,
                                        &checkpointed),
              SQLITE_OK)
        << sqlite3_errmsg(other->get());
    EXPECT_EQ(log_frames, 0);  // truncated: no reader pinned the log
}

// Closing the connection finalizes what it kept (a later connection at the same address
// starts empty).
TEST_F(StatementCacheTest, ClosingForgetsTheKeptStatements) {
    auto db = open_database(m_dir.path() / "other.sqlite", 5000);
    ASSERT_TRUE(db);
    sqlite3* raw = db->get();
    {
        Query q(raw, "SELECT 1");
        ASSERT_EQ(q.step(), SQLITE_ROW);
    }
    ASSERT_GE(kept_statements(raw), 1u);
    db->reset();  // close_database
    EXPECT_EQ(kept_statements(raw), 0u);
}

}  // namespace
}  // namespace satload::store::sqlite
