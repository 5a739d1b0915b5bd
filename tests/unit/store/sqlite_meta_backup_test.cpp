// Pins down SqliteMetaStore::backup_to: the copy is a complete, openable database holding
// exactly what was committed before the call, later writes do not reach it, the live store
// keeps working, and an existing target is refused rather than overwritten.
#include <gtest/gtest.h>

#include <thread>

#include "store/sqlite_meta_store.h"
#include "store_test_util.h"

namespace satload::store {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

UploadRecord upload(std::uint32_t seed) {
    UploadRecord u;
    u.upload_id = testing::make_upload_id(seed);
    u.file_id = testing::make_file_id(seed);
    u.length_bytes = 100 + seed;
    u.metadata = "m";
    u.created_s = 1000;
    u.expires_s = 2000;
    return u;
}

FileRecord file(const UploadRecord& u) {
    FileRecord f;
    f.file_id = u.file_id;
    f.size_bytes = *u.length_bytes;
    f.sha256_hex = std::string(64, 'c');
    f.xxh3_hex = std::string(32, 'd');
    f.meta = "bWV0YQ";
    f.created_s = 1001;
    return f;
}

// The backup holds the files committed before it and none committed after it.
TEST(SqliteMetaBackup, CopyHoldsCommittedStateOnly) {
    TempDir dir;
    auto db = SqliteMetaStore::open(dir.path() / "meta.sqlite");
    ASSERT_TRUE(db) << db.error().message;
    for (std::uint32_t i = 1; i <= 3; ++i) {
        ASSERT_TRUE((*db)->create_upload(upload(i)));
        ASSERT_TRUE((*db)->complete_upload(upload(i).upload_id, file(upload(i))));
    }
    const fs::path copy = dir.path() / "backup" / "meta.sqlite";
    fs::create_directories(copy.parent_path());
    auto r = (*db)->backup_to(copy);
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_TRUE((*db)->create_upload(upload(4)));
    ASSERT_TRUE((*db)->complete_upload(upload(4).upload_id, file(upload(4))));

    auto restored = SqliteMetaStore::open(copy);
    ASSERT_TRUE(restored) << restored.error().message;
    auto files = (*restored)->list_files("", 100);
    ASSERT_TRUE(files);
    ASSERT_EQ(files->size(), 3u);
    for (std::uint32_t i = 1; i <= 3; ++i) {
        auto f = (*restored)->get_file(upload(i).file_id);
        ASSERT_TRUE(f && *f);
        EXPECT_EQ((*f)->size_bytes, 100u + i);
        EXPECT_EQ((*f)->xxh3_hex, std::string(32, 'd'));
    }
    auto missing = (*restored)->get_file(upload(4).file_id);
    ASSERT_TRUE(missing);
    EXPECT_FALSE(*missing);
    auto version = (*restored)->schema_version();
    ASSERT_TRUE(version);
    EXPECT_EQ(*version, kSqliteMetaSchemaVersion);
}

// An existing file is never overwritten: the call fails with `exists` and leaves it intact.
TEST(SqliteMetaBackup, RefusesExistingTarget) {
    TempDir dir;
    auto db = SqliteMetaStore::open(dir.path() / "meta.sqlite");
    ASSERT_TRUE(db);
    const fs::path target = dir.path() / "taken";
    { std::FILE* f = std::fopen(target.c_str(), "w"); ASSERT_NE(f, nullptr); std::fputs("keep", f); std::fclose(f); }
    auto r = (*db)->backup_to(target);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, StoreError::exists);
    EXPECT_EQ(fs::file_size(target), 4u);
}

// A backup taken while another thread writes is a consistent snapshot: it opens, and every
// file in it is complete (its upload row says complete), whatever the interleaving.
TEST(SqliteMetaBackup, OnlineWhileWriting) {
    TempDir dir;
    auto db = SqliteMetaStore::open(dir.path() / "meta.sqlite");
    ASSERT_TRUE(db);
    std::atomic<bool> stop{false};
    std::thread writer([&] {
        for (std::uint32_t i = 1; !stop.load() && i < 5000; ++i) {
            ASSERT_TRUE((*db)->create_upload(upload(i)));
            ASSERT_TRUE((*db)->complete_upload(upload(i).upload_id, file(upload(i))));
        }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    auto r = (*db)->backup_to(dir.path() / "copy.sqlite");
    stop = true;
    writer.join();
    ASSERT_TRUE(r) << r.error().message;
    auto copy = SqliteMetaStore::open(dir.path() / "copy.sqlite");
    ASSERT_TRUE(copy) << copy.error().message;
    auto files = (*copy)->list_files("", 10000);
    ASSERT_TRUE(files);
    for (const auto& f : *files) {
        auto u = (*copy)->get_upload(testing::make_upload_id(static_cast<std::uint32_t>(f.size_bytes - 100)));
        ASSERT_TRUE(u && *u);
        EXPECT_TRUE((*u)->complete);
    }
}

}  // namespace
}  // namespace satload::store
