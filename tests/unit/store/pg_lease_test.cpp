// PgLease: one holder at a time; a holder whose session ends (a killed process, a lost
// connection) loses the lease and another process takes it on its next try.
#include "store/pg_lease.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "store/pg_test_util.h"

namespace satload::store {
namespace {

using testing::PgTestSchema;

// Two processes' leases of one name: the first takes it, the second cannot until the first
// gives it up; another name and another schema are separate leases.
TEST(PgLease, OneHolderAtATime) {
    SATLOAD_REQUIRE_PG();
    PgTestSchema place;
    auto db = place.open();
    ASSERT_TRUE(db);
    PgLease first(db->conninfo(), db->schema(), "watcher");
    PgLease second(db->conninfo(), db->schema(), "watcher");
    PgLease other_name(db->conninfo(), db->schema(), "something-else");
    PgLease other_schema(db->conninfo(), db->schema() + "_x", "watcher");
    EXPECT_TRUE(first.hold());
    EXPECT_FALSE(second.hold());
    EXPECT_TRUE(first.hold());  // kept
    EXPECT_TRUE(other_name.hold());
    EXPECT_TRUE(other_schema.hold());
    first.release();
    EXPECT_FALSE(first.held());
    EXPECT_TRUE(second.hold());
    EXPECT_FALSE(first.hold());
}

// The holder's session ends on the server (as when its process is killed): it finds out on
// its next check, and the other process takes the lease at once.
TEST(PgLease, EndedSessionPassesTheLeaseOn) {
    SATLOAD_REQUIRE_PG();
    PgTestSchema place;
    auto db = place.open();
    ASSERT_TRUE(db);
    PgLease holder(db->conninfo(), db->schema(), "watcher");
    PgLease waiting(db->conninfo(), db->schema(), "watcher");
    ASSERT_TRUE(holder.hold());
    ASSERT_FALSE(waiting.hold());
    // Only the session holding this lease (other tests hold advisory locks of their own).
    const std::string key = "satload-lease:" + db->schema() + ":watcher";
    auto ended = db->transact("end the holder's session", [&](pqxx::work& w) {
        return w.exec_params("SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' "
                             "AND granted AND objid::bigint = (hashtext($1)::bigint & 4294967295)",
                             key)
            .size();
    });
    ASSERT_TRUE(ended) << ended.error().message;
    EXPECT_EQ(*ended, 1u);
    bool taken = false;
    // The server frees it as the session ends, within moments: try for up to 5 s.
    for (int i = 0; i < 500 && !taken; ++i) {
        taken = waiting.hold();
        if (!taken) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_TRUE(taken);
    EXPECT_FALSE(holder.hold());
    EXPECT_FALSE(holder.held());
}

}  // namespace
}  // namespace satload::store
