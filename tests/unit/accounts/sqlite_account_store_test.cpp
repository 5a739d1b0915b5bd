// Pins down the SQLite account store's schema handling: versioned migrations in
// its own account_schema_version table, coexistence with the meta store in one
// database file, and refusal of a newer schema.
#include "accounts/sqlite_account_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "accounts_test_util.h"
#include "store/sqlite_meta_store.h"

namespace satload::accounts {
namespace {

// Opening twice applies the migration once; the version is recorded.
TEST(SqliteAccountStore, MigratesOnceAndRecordsVersion) {
    const auto dir = testing::fresh_dir("account-store");
    {
        auto store = SqliteAccountStore::open(dir / "a.sqlite");
        ASSERT_TRUE(store) << store.error().message;
        EXPECT_EQ(*(*store)->schema_version(), kSqliteAccountSchemaVersion);
    }
    auto again = SqliteAccountStore::open(dir / "a.sqlite");
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_EQ(*(*again)->schema_version(), kSqliteAccountSchemaVersion);
    std::filesystem::remove_all(dir);
}

// The account tables can live in the meta store's database file: both stores
// open it, keep their own schema versions, and their data survive side by side.
TEST(SqliteAccountStore, SharesTheMetaDatabaseFile) {
    const auto dir = testing::fresh_dir("account-store");
    const auto file = dir / "meta.sqlite";
    auto meta = store::SqliteMetaStore::open(file);
    ASSERT_TRUE(meta) << meta.error().message;
    auto accounts = SqliteAccountStore::open(file);
    ASSERT_TRUE(accounts) << accounts.error().message;
    EXPECT_EQ(*(*meta)->schema_version(), store::kSqliteMetaSchemaVersion);
    EXPECT_EQ(*(*accounts)->schema_version(), kSqliteAccountSchemaVersion);

    AccountRecord a;
    a.username = "alice";
    a.password.master_by_password = Bytes(crypto::kWrappedMasterKeyBytes, 1);
    a.master_by_recovery = Bytes(crypto::kWrappedMasterKeyBytes, 2);
    auto id = (*accounts)->create_account(a);
    ASSERT_TRUE(id) << id.error().message;
    accounts->reset();
    meta->reset();

    auto reopened = SqliteAccountStore::open(file);
    ASSERT_TRUE(reopened);
    auto found = (*reopened)->find_account("alice");
    ASSERT_TRUE(found && *found);
    EXPECT_EQ((*found)->account_id, *id);
    auto meta_again = store::SqliteMetaStore::open(file);
    ASSERT_TRUE(meta_again) << meta_again.error().message;
    EXPECT_TRUE((*meta_again)->list_files("", 10));
    std::filesystem::remove_all(dir);
}

// A database whose account schema is newer than this program's is refused, not
// misread.
TEST(SqliteAccountStore, RefusesNewerSchema) {
    const auto dir = testing::fresh_dir("account-store");
    const auto file = dir / "a.sqlite";
    ASSERT_TRUE(SqliteAccountStore::open(file));
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "INSERT INTO account_schema_version (version) VALUES (99)", nullptr,
                           nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
    auto store = SqliteAccountStore::open(file);
    ASSERT_FALSE(store);
    EXPECT_EQ(store.error().code, StoreError::io);
    EXPECT_NE(store.error().message.find("newer"), std::string::npos);
    std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace satload::accounts
