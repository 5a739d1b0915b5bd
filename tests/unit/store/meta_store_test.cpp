// Pins down the metadata store on both backends (SQLite files and PostgreSQL schemas): round
// trips of every field, the outcomes of each write, atomic completion, expiry and paging
// queries, persistence across reopen, the recorded schema version, and use from several
// threads. What only SQLite has (WAL mode, the file's mode) is pinned down SQLite-only.
#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>
#include <thread>

#include <gtest/gtest.h>

#include "meta_store_test_util.h"

namespace satload::store {
namespace {
// Named too: a unity build compiles this layer's test files as one translation unit.
namespace meta_store_test {

namespace fs = std::filesystem;
using testing::DbBackend;
using testing::TempDir;

class MetaStoreTest : public testing::MetaStoreBackendTest {};
INSTANTIATE_TEST_SUITE_P(Backends, MetaStoreTest,
                         ::testing::Values(DbBackend::sqlite, DbBackend::postgres),
                         testing::db_backend_name);

UploadRecord make_upload(std::uint32_t seed, std::int64_t created_s = 1000,
                         std::int64_t expires_s = 2000) {
    UploadRecord u;
    u.upload_id = testing::make_upload_id(seed);
    u.file_id = testing::make_file_id(seed);
    u.length_bytes = 1000 + seed;
    u.offset_bytes = 0;
    u.metadata = "meta " + std::to_string(seed);
    u.created_s = created_s;
    u.expires_s = expires_s;
    return u;
}

FileRecord file_for(const UploadRecord& u, std::uint64_t size_bytes = 1234) {
    FileRecord f;
    f.file_id = u.file_id;
    f.size_bytes = size_bytes;
    f.sha256_hex = std::string(64, 'a');
    f.xxh3_hex = std::string(32, 'b');
    f.meta = "ZW5jcnlwdGVk";
    f.created_s = u.created_s + 5;
    return f;
}

void expect_same(const UploadRecord& a, const UploadRecord& b) {
    EXPECT_EQ(a.upload_id, b.upload_id);
    EXPECT_EQ(a.file_id, b.file_id);
    EXPECT_EQ(a.length_bytes, b.length_bytes);
    EXPECT_EQ(a.offset_bytes, b.offset_bytes);
    EXPECT_EQ(a.metadata, b.metadata);
    EXPECT_EQ(a.created_s, b.created_s);
    EXPECT_EQ(a.expires_s, b.expires_s);
    EXPECT_EQ(a.is_partial, b.is_partial);
    EXPECT_EQ(a.parts, b.parts);
    EXPECT_EQ(a.complete, b.complete);
}

void expect_same(const FileRecord& a, const FileRecord& b) {
    EXPECT_EQ(a.file_id, b.file_id);
    EXPECT_EQ(a.size_bytes, b.size_bytes);
    EXPECT_EQ(a.sha256_hex, b.sha256_hex);
    EXPECT_EQ(a.xxh3_hex, b.xxh3_hex);
    EXPECT_EQ(a.meta, b.meta);
    EXPECT_EQ(a.created_s, b.created_s);
}

UploadRecord get(MetaStore& db, const std::string& id) {
    auto r = db.get_upload(id);
    EXPECT_TRUE(r && *r) << "upload missing";
    return r && *r ? **r : UploadRecord{};
}

// Every field survives a round trip, including an absent length (deferred), the partial
// flag and an ordered list of concatenation parts; an unknown id is nullopt.
TEST_P(MetaStoreTest, CreateGetRoundTrip) {
    MetaStore* db = store();
    UploadRecord plain = make_upload(1);
    UploadRecord deferred = make_upload(2);
    deferred.length_bytes.reset();
    deferred.is_partial = true;
    deferred.metadata = "name d29ybGQ=,empty";
    UploadRecord final_upload = make_upload(3);
    final_upload.parts = {testing::make_upload_id(9), testing::make_upload_id(7),
                          testing::make_upload_id(8)};
    for (const auto& u : {plain, deferred, final_upload}) {
        auto r = db->create_upload(u);
        ASSERT_TRUE(r) << r.error().message;
    }
    expect_same(get(*db, plain.upload_id), plain);
    expect_same(get(*db, deferred.upload_id), deferred);
    expect_same(get(*db, final_upload.upload_id), final_upload);
    auto missing = db->get_upload(testing::make_upload_id(99));
    ASSERT_TRUE(missing);
    EXPECT_FALSE(*missing);
}

// A second upload with the same upload id or the same reserved file id is `exists`, and
// the first is unchanged.
TEST_P(MetaStoreTest, CreateRefusesDuplicates) {
    MetaStore* db = store();
    const UploadRecord u = make_upload(1);
    ASSERT_TRUE(db->create_upload(u));
    UploadRecord same_id = make_upload(2);
    same_id.upload_id = u.upload_id;
    EXPECT_EQ(db->create_upload(same_id).error().code, StoreError::exists);
    UploadRecord same_file = make_upload(3);
    same_file.file_id = u.file_id;
    EXPECT_EQ(db->create_upload(same_file).error().code, StoreError::exists);
    expect_same(get(*db, u.upload_id), u);
    EXPECT_FALSE(*db->get_upload(same_file.upload_id));
}

// Offsets update; a deferred length can be set once (the same value again is accepted, a
// different one is refused); unknown uploads are not_found; an offset past the length is
// refused by the schema.
TEST_P(MetaStoreTest, UpdateOffsetAndLength) {
    MetaStore* db = store();
    UploadRecord u = make_upload(1);
    u.length_bytes.reset();
    ASSERT_TRUE(db->create_upload(u));

    ASSERT_TRUE(db->set_upload_offset(u.upload_id, 4096));
    EXPECT_EQ(get(*db, u.upload_id).offset_bytes, 4096u);
    EXPECT_FALSE(get(*db, u.upload_id).length_bytes);

    ASSERT_TRUE(db->set_upload_length(u.upload_id, 10000));
    EXPECT_EQ(get(*db, u.upload_id).length_bytes, std::optional<std::uint64_t>(10000));
    EXPECT_TRUE(db->set_upload_length(u.upload_id, 10000));
    auto changed = db->set_upload_length(u.upload_id, 20000);
    ASSERT_FALSE(changed);
    EXPECT_EQ(changed.error().code, StoreError::exists);
    EXPECT_EQ(get(*db, u.upload_id).length_bytes, std::optional<std::uint64_t>(10000));

    auto beyond = db->set_upload_offset(u.upload_id, 10001);
    ASSERT_FALSE(beyond);
    EXPECT_EQ(get(*db, u.upload_id).offset_bytes, 4096u);

    const std::string missing = testing::make_upload_id(99);
    EXPECT_EQ(db->set_upload_offset(missing, 1).error().code, StoreError::not_found);
    EXPECT_EQ(db->set_upload_length(missing, 1).error().code, StoreError::not_found);

    // Values SQLite cannot hold are refused before they reach the database.
    EXPECT_EQ(db->set_upload_offset(u.upload_id, UINT64_MAX).error().code, StoreError::io);
    EXPECT_EQ(get(*db, u.upload_id).offset_bytes, 4096u);
}

// complete_upload marks the upload complete and inserts its file in one transaction; a
// second completion is `exists` and changes nothing.
TEST_P(MetaStoreTest, CompleteUploadInsertsFileAndMarksComplete) {
    MetaStore* db = store();
    const UploadRecord u = make_upload(1);
    ASSERT_TRUE(db->create_upload(u));
    EXPECT_FALSE(*db->get_file(u.file_id));

    const FileRecord f = file_for(u);
    auto r = db->complete_upload(u.upload_id, f);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_TRUE(get(*db, u.upload_id).complete);
    auto stored = db->get_file(u.file_id);
    ASSERT_TRUE(stored && *stored);
    expect_same(**stored, f);

    FileRecord other = f;
    other.size_bytes = 1;
    EXPECT_EQ(db->complete_upload(u.upload_id, other).error().code, StoreError::exists);
    expect_same(**db->get_file(u.file_id), f);

    EXPECT_EQ(db->complete_upload(testing::make_upload_id(99), f).error().code,
              StoreError::not_found);
}

// A store may keep file records in memory once read (SQLite's does); every write of a file is
// seen by the next read all the same (a revoked or exhausted link must close at once).
TEST_P(MetaStoreTest, ReadsAfterEachWriteSeeTheWrite) {
    MetaStore* db = store();
    const UploadRecord u = make_upload(7);
    ASSERT_TRUE(db->create_upload(u));
    ASSERT_TRUE(db->complete_upload(u.upload_id, file_for(u)));
    const auto read = [&] {
        auto f = db->get_file(u.file_id);
        EXPECT_TRUE(f && *f);
        return **f;
    };
    EXPECT_EQ(read().downloads, 0u);  // kept from here on
    ASSERT_TRUE(db->count_download(u.file_id));
    EXPECT_EQ(read().downloads, 1u);
    ASSERT_TRUE(db->add_downloads({{u.file_id, 5}}));
    EXPECT_EQ(read().downloads, 6u);
    ASSERT_TRUE(db->uncount_download(u.file_id));
    EXPECT_EQ(read().downloads, 5u);
    FileControlsUpdate revoke;
    revoke.revoked = true;
    revoke.price_msat = 42;
    ASSERT_TRUE(db->update_file_controls(u.file_id, revoke));
    EXPECT_TRUE(read().revoked);
    EXPECT_EQ(read().price_msat, 42);
    ASSERT_TRUE(db->delete_file(u.file_id));
    auto gone = db->get_file(u.file_id);
    ASSERT_TRUE(gone);
    EXPECT_FALSE(*gone);
}

// When inserting the file fails, the upload stays incomplete: the two writes commit
// together or not at all.
TEST_P(MetaStoreTest, CompleteUploadIsAtomic) {
    MetaStore* db = store();

    // A digest the schema refuses (not 64 characters) fails the insert after the update.
    const UploadRecord a = make_upload(1);
    ASSERT_TRUE(db->create_upload(a));
    FileRecord bad = file_for(a);
    bad.sha256_hex = "abc";
    ASSERT_FALSE(db->complete_upload(a.upload_id, bad));
    EXPECT_FALSE(get(*db, a.upload_id).complete);
    EXPECT_FALSE(*db->get_file(a.file_id));

    // A file that already exists (its first upload completed and was then deleted, and the id
    // reused) is `exists`, and again the upload stays incomplete.
    const UploadRecord first = make_upload(2);
    ASSERT_TRUE(db->create_upload(first));
    ASSERT_TRUE(db->complete_upload(first.upload_id, file_for(first)));
    ASSERT_TRUE(db->delete_upload(first.upload_id));
    UploadRecord reuse = make_upload(3);
    reuse.file_id = first.file_id;
    ASSERT_TRUE(db->create_upload(reuse));
    auto clash = db->complete_upload(reuse.upload_id, file_for(reuse, 99));
    ASSERT_FALSE(clash);
    EXPECT_EQ(clash.error().code, StoreError::exists);
    EXPECT_FALSE(get(*db, reuse.upload_id).complete);
    EXPECT_EQ((*db->get_file(first.file_id))->size_bytes, 1234u);

    // A file record naming another file id than the upload reserved is refused.
    const UploadRecord c = make_upload(4);
    ASSERT_TRUE(db->create_upload(c));
    FileRecord wrong = file_for(c);
    wrong.file_id = testing::make_file_id(1234);
    ASSERT_FALSE(db->complete_upload(c.upload_id, wrong));
    EXPECT_FALSE(get(*db, c.upload_id).complete);
    EXPECT_FALSE(*db->get_file(wrong.file_id));
}

// expired_uploads returns incomplete uploads with expiry at or before now, oldest expiry
// first, at most `limit`; complete uploads are never returned however old.
TEST_P(MetaStoreTest, ExpiredUploadsRespectTimeLimitAndCompletion) {
    MetaStore* db = store();
    const UploadRecord late = make_upload(1, 10, 300);
    const UploadRecord early = make_upload(2, 20, 100);
    const UploadRecord middle = make_upload(3, 30, 200);
    const UploadRecord done = make_upload(4, 5, 50);
    for (const auto& u : {late, early, middle, done}) ASSERT_TRUE(db->create_upload(u));
    ASSERT_TRUE(db->complete_upload(done.upload_id, file_for(done)));

    const auto ids = [](const std::vector<UploadRecord>& v) {
        std::vector<std::string> out;
        for (const auto& u : v) out.push_back(u.upload_id);
        return out;
    };
    auto r = db->expired_uploads(200, 10);
    ASSERT_TRUE(r);
    EXPECT_EQ(ids(*r), (std::vector<std::string>{early.upload_id, middle.upload_id}));
    r = db->expired_uploads(200, 1);
    ASSERT_TRUE(r);
    EXPECT_EQ(ids(*r), (std::vector<std::string>{early.upload_id}));
    r = db->expired_uploads(99, 10);
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->empty());
    r = db->expired_uploads(1'000'000, 10);
    ASSERT_TRUE(r);
    EXPECT_EQ(ids(*r), (std::vector<std::string>{early.upload_id, middle.upload_id, late.upload_id}));
    r = db->expired_uploads(1'000'000, 0);
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->empty());

    auto incomplete = db->incomplete_uploads(10);
    ASSERT_TRUE(incomplete);
    EXPECT_EQ(ids(*incomplete),
              (std::vector<std::string>{late.upload_id, early.upload_id, middle.upload_id}));
    incomplete = db->incomplete_uploads(2);
    ASSERT_TRUE(incomplete);
    EXPECT_EQ(incomplete->size(), 2u);
}

// The lists of expired and incomplete uploads carry each final concatenation's parts, in order,
// and `limit` counts uploads, not parts.
TEST_P(MetaStoreTest, UploadListsCarryParts) {
    MetaStore* db = store();
    std::vector<UploadRecord> uploads;
    for (std::uint32_t i = 0; i < 3; ++i) {
        UploadRecord u = make_upload(10 + i, 100 + i, 200 + i);
        for (std::uint32_t p = 0; p < 3 - i; ++p) {
            u.parts.push_back(testing::make_upload_id(50 + 7 * p + i));
        }
        ASSERT_TRUE(db->create_upload(u));
        uploads.push_back(u);
    }
    UploadRecord plain = make_upload(20, 90, 190);  // no parts, first in both orders
    ASSERT_TRUE(db->create_upload(plain));
    uploads.insert(uploads.begin(), plain);

    for (const bool expired : {true, false}) {
        SCOPED_TRACE(expired ? "expired" : "incomplete");
        auto all = expired ? db->expired_uploads(1000, 10) : db->incomplete_uploads(10);
        ASSERT_TRUE(all);
        ASSERT_EQ(all->size(), uploads.size());
        for (std::size_t i = 0; i < uploads.size(); ++i) expect_same((*all)[i], uploads[i]);
        auto two = expired ? db->expired_uploads(1000, 2) : db->incomplete_uploads(2);
        ASSERT_TRUE(two);
        ASSERT_EQ(two->size(), 2u);
        expect_same((*two)[1], uploads[1]);
    }
}

// list_files pages through every file in id order, each page after the last id of the
// previous one, ending with an empty page.
TEST_P(MetaStoreTest, ListFilesPaging) {
    MetaStore* db = store();
    std::vector<std::string> expected;
    for (std::uint32_t i = 0; i < 25; ++i) {
        const UploadRecord u = make_upload(100 + i);
        ASSERT_TRUE(db->create_upload(u));
        ASSERT_TRUE(db->complete_upload(u.upload_id, file_for(u, i)));
        expected.push_back(u.file_id);
    }
    std::sort(expected.begin(), expected.end());

    std::vector<std::string> seen;
    std::vector<std::size_t> page_sizes;
    std::string after;
    for (;;) {
        auto page = db->list_files(after, 10);
        ASSERT_TRUE(page);
        page_sizes.push_back(page->size());
        if (page->empty()) break;
        for (const auto& f : *page) seen.push_back(f.file_id);
        after = page->back().file_id;
        ASSERT_LE(page_sizes.size(), 10u) << "paging does not end";
    }
    EXPECT_EQ(page_sizes, (std::vector<std::size_t>{10, 10, 5, 0}));
    EXPECT_EQ(seen, expected);
}

// Deleting an upload removes it and its parts; deleting a file removes it; deleting what is
// not there is not_found.
TEST_P(MetaStoreTest, Delete) {
    MetaStore* db = store();
    UploadRecord u = make_upload(1);
    u.parts = {testing::make_upload_id(2), testing::make_upload_id(3)};
    ASSERT_TRUE(db->create_upload(u));
    ASSERT_EQ(count_rows("upload_parts"), "2");
    ASSERT_TRUE(db->delete_upload(u.upload_id));
    EXPECT_FALSE(*db->get_upload(u.upload_id));
    EXPECT_EQ(count_rows("upload_parts"), "0");
    EXPECT_EQ(db->delete_upload(u.upload_id).error().code, StoreError::not_found);

    const UploadRecord v = make_upload(4);
    ASSERT_TRUE(db->create_upload(v));
    ASSERT_TRUE(db->complete_upload(v.upload_id, file_for(v)));
    ASSERT_TRUE(db->delete_file(v.file_id));
    EXPECT_FALSE(*db->get_file(v.file_id));
    EXPECT_EQ(db->delete_file(v.file_id).error().code, StoreError::not_found);
}

// Closing and reopening the same database (file, or schema) keeps every upload and file, and
// the migrations are not applied twice.
TEST_P(MetaStoreTest, ReopenKeepsEverything) {
    UploadRecord open_upload = make_upload(1);
    open_upload.parts = {testing::make_upload_id(5)};
    const UploadRecord done = make_upload(2);
    ASSERT_TRUE(store()->create_upload(open_upload));
    ASSERT_TRUE(store()->set_upload_offset(open_upload.upload_id, 77));
    ASSERT_TRUE(store()->create_upload(done));
    ASSERT_TRUE(store()->complete_upload(done.upload_id, file_for(done)));
    reopen();
    MetaStore* db = store();
    open_upload.offset_bytes = 77;
    expect_same(get(*db, open_upload.upload_id), open_upload);
    EXPECT_TRUE(get(*db, done.upload_id).complete);
    auto f = db->get_file(done.file_id);
    ASSERT_TRUE(f && *f);
    expect_same(**f, file_for(done));
    // One row per migration applied, and none applied twice by the reopen.
    const std::string migrations = postgres() ? "satload_migrations WHERE component = 'meta'"
                                              : "schema_version";
    EXPECT_EQ(count_rows(migrations), std::to_string(current_schema_version()));
    EXPECT_EQ(schema_version(), current_schema_version());
}

// The database records the schema version this program wrote, and a database from a newer
// program is refused on open (an older program must not write to it).
TEST_P(MetaStoreTest, SchemaVersionRecordedAndNewerRefused) {
    EXPECT_EQ(schema_version(), current_schema_version());
    if (postgres()) {
        // A later program's extra step, recorded as the component's next version.
        const std::vector<std::string_view> newer_steps(
            static_cast<std::size_t>(kPgMetaSchemaVersion) + 1, "SELECT 1");
        ASSERT_TRUE(static_cast<PgMetaStore*>(store())->db()->migrate(kPgMetaComponent, newer_steps));
    } else {
        const std::string newer = std::to_string(kSqliteMetaSchemaVersion + 1);
        sqlite3* raw = nullptr;
        ASSERT_EQ(sqlite3_open(sqlite_file().c_str(), &raw), SQLITE_OK);
        EXPECT_EQ(sqlite3_exec(raw, ("INSERT INTO schema_version (version) VALUES (" + newer + ")").c_str(),
                               nullptr, nullptr, nullptr),
                  SQLITE_OK);
        sqlite3_close(raw);
    }
    m_store.reset();
    if (postgres()) {
        auto pg = m_schema->open();
        ASSERT_TRUE(pg);
        auto refused = PgMetaStore::open(pg);
        ASSERT_FALSE(refused);
        EXPECT_EQ(refused.error().code, StoreError::io);
        EXPECT_NE(refused.error().message.find("newer"), std::string::npos) << refused.error().message;
    } else {
        auto refused = SqliteMetaStore::open(sqlite_file());
        ASSERT_FALSE(refused);
        EXPECT_EQ(refused.error().code, StoreError::io);
        EXPECT_NE(refused.error().message.find("newer"), std::string::npos) << refused.error().message;
    }
}

// SQLite only: WAL mode persists in the file and the file is private (it holds upload ids,
// which are write capabilities).
TEST(SqliteMetaStore, FileIsWalAndPrivate) {
    TempDir dir;
    const fs::path file = dir.path() / "meta.db";
    {
        auto db = SqliteMetaStore::open(file);
        ASSERT_TRUE(db) << db.error().message;
    }
    EXPECT_EQ(testing::sqlite_query(file, "SELECT max(version) FROM schema_version"),
              std::to_string(kSqliteMetaSchemaVersion));
    EXPECT_EQ(testing::sqlite_query(file, "PRAGMA journal_mode"), "wal");
    struct stat st {};
    ASSERT_EQ(::stat(file.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 077, 0u);
}

// An id that no record can have (a known id with a NUL byte and more after it, or bytes that are
// not UTF-8) is simply unknown on every backend: lookups find nothing and changes are not_found,
// never acting on the record whose id is the part before the NUL.
TEST_P(MetaStoreTest, IdsNoRecordCanHaveAreUnknown) {
    MetaStore* db = store();
    const UploadRecord u = make_upload(1);
    ASSERT_TRUE(db->create_upload(u));
    ASSERT_TRUE(db->complete_upload(u.upload_id, file_for(u)));
    const UploadRecord open_upload = make_upload(2);
    ASSERT_TRUE(db->create_upload(open_upload));
    for (const std::string& tail : {std::string("\0x", 2), std::string("\xff\xfe")}) {
        const std::string file_id = u.file_id + tail;
        const std::string upload_id = open_upload.upload_id + tail;
        SCOPED_TRACE(tail.size());
        EXPECT_FALSE(*db->get_file(file_id));
        EXPECT_FALSE(*db->get_upload(upload_id));
        EXPECT_EQ(db->count_download(file_id).error().code, StoreError::not_found);
        EXPECT_EQ(db->uncount_download(file_id).error().code, StoreError::not_found);
        FileControlsUpdate revoke;
        revoke.revoked = true;
        EXPECT_EQ(db->update_file_controls(file_id, revoke).error().code, StoreError::not_found);
        EXPECT_EQ(db->set_upload_offset(upload_id, 1).error().code, StoreError::not_found);
        EXPECT_EQ(db->complete_upload(upload_id, file_for(open_upload)).error().code,
                  StoreError::not_found);
        EXPECT_TRUE(db->add_downloads({{file_id, 7}}));
        EXPECT_EQ(db->delete_file(file_id).error().code, StoreError::not_found);
        EXPECT_EQ(db->delete_upload(upload_id).error().code, StoreError::not_found);
    }
    const FileRecord f = **db->get_file(u.file_id);
    EXPECT_EQ(f.downloads, 0u);
    EXPECT_FALSE(f.revoked);
    const UploadRecord still = get(*db, open_upload.upload_id);
    EXPECT_EQ(still.offset_bytes, 0u);
    EXPECT_FALSE(still.complete);
}

// Many server threads share one store: concurrent writes and reads all succeed and the
// last write of each upload wins.
TEST_P(MetaStoreTest, ConcurrentUseFromThreads) {
    MetaStore* db = store();
    constexpr std::uint32_t kThreads = 4;
    const std::uint64_t writes = testing::small_tests() ? 20 : 100;
    std::vector<UploadRecord> uploads;
    for (std::uint32_t t = 0; t < kThreads; ++t) {
        uploads.push_back(make_upload(t + 1));
        uploads.back().length_bytes = writes;
        ASSERT_TRUE(db->create_upload(uploads.back()));
    }
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (std::uint32_t t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (std::uint64_t i = 1; i <= writes; ++i) {
                if (!db->set_upload_offset(uploads[t].upload_id, i)) ++failures;
                auto r = db->get_upload(uploads[t].upload_id);
                if (!r || !*r || (*r)->offset_bytes != i) ++failures;
                if (!db->list_files("", 5)) ++failures;
            }
        });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(failures.load(), 0);
    for (const auto& u : uploads) EXPECT_EQ(get(*db, u.upload_id).offset_bytes, writes);
}

}  // namespace meta_store_test
}  // namespace
}  // namespace satload::store
