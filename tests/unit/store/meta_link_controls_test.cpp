// Pins down the link controls of the metadata store on both backends: the link-control fields
// of files and the anonymous flag of uploads, the atomic download counter, partial control
// updates, renames, and the query housekeeping uses to find expired anonymous files; and, on
// SQLite only, the migration of a database written by version 2 (rows kept, new columns at
// their defaults).
#include <sqlite3.h>

#include <algorithm>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "core/encoding.h"
#include "core/http_headers.h"
#include "meta_store_test_util.h"

namespace satload::store {
namespace {

namespace fs = std::filesystem;
using testing::add_file;
using testing::DbBackend;
using testing::make_file;
using testing::make_upload;
using testing::TempDir;

class MetaLinkControlsTest : public testing::MetaStoreBackendTest {};
INSTANTIATE_TEST_SUITE_P(Backends, MetaLinkControlsTest,
                         ::testing::Values(DbBackend::sqlite, DbBackend::postgres),
                         testing::db_backend_name);

// The schema exactly as version 2 of the program wrote it (migrations 1 and 2 as shipped), so
// the test opens a real v2 file rather than whatever the current code would make.
constexpr const char* kSchemaV2 = R"sql(
CREATE TABLE schema_version (version INTEGER PRIMARY KEY NOT NULL,
                             applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP) STRICT;
CREATE TABLE uploads (
    upload_id    TEXT PRIMARY KEY NOT NULL,
    file_id      TEXT NOT NULL UNIQUE,
    length_bytes INTEGER CHECK (length_bytes IS NULL OR length_bytes >= 0),
    offset_bytes INTEGER NOT NULL CHECK (offset_bytes >= 0),
    metadata     TEXT NOT NULL,
    created_s    INTEGER NOT NULL,
    expires_s    INTEGER NOT NULL,
    is_partial   INTEGER NOT NULL CHECK (is_partial IN (0, 1)),
    complete     INTEGER NOT NULL CHECK (complete IN (0, 1)),
    CHECK (length_bytes IS NULL OR offset_bytes <= length_bytes)
) STRICT;
CREATE INDEX uploads_incomplete_by_expiry ON uploads (expires_s, created_s) WHERE complete = 0;
CREATE INDEX uploads_incomplete_by_created ON uploads (created_s) WHERE complete = 0;
CREATE TABLE upload_parts (
    upload_id      TEXT NOT NULL REFERENCES uploads (upload_id) ON DELETE CASCADE,
    position       INTEGER NOT NULL,
    part_upload_id TEXT NOT NULL,
    PRIMARY KEY (upload_id, position)
) STRICT, WITHOUT ROWID;
CREATE TABLE files (
    file_id    TEXT PRIMARY KEY NOT NULL,
    size_bytes INTEGER NOT NULL CHECK (size_bytes >= 0),
    sha256_hex TEXT NOT NULL CHECK (length(sha256_hex) = 64),
    meta       TEXT NOT NULL,
    created_s  INTEGER NOT NULL
) STRICT;
ALTER TABLE files ADD COLUMN xxh3_hex TEXT NOT NULL DEFAULT ''
    CHECK (xxh3_hex = '' OR length(xxh3_hex) = 32);
INSERT INTO schema_version (version) VALUES (1);
INSERT INTO schema_version (version) VALUES (2);
)sql";

void exec_raw(const fs::path& file, const std::string& sql) {
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(file.c_str(), &raw), SQLITE_OK);
    char* error = nullptr;
    const int rc = sqlite3_exec(raw, sql.c_str(), nullptr, nullptr, &error);
    EXPECT_EQ(rc, SQLITE_OK) << (error ? error : "");
    sqlite3_free(error);
    sqlite3_close(raw);
}

std::unique_ptr<SqliteMetaStore> open_db(const fs::path& file) {
    auto db = SqliteMetaStore::open(file);
    EXPECT_TRUE(db) << (db ? "" : db.error().message);
    return db ? std::move(*db) : nullptr;
}

FileRecord get_file(MetaStore& db, const std::string& id) {
    auto r = db.get_file(id);
    EXPECT_TRUE(r && *r) << "file missing";
    return r && *r ? **r : FileRecord{};
}

// A database written by version 2, with an incomplete upload and a file in it, opens as
// version 3: the rows are all there, the new columns hold their defaults (free, no expiry, no
// limit, no downloads, not revoked, not anonymous), and the new operations work on old rows.
TEST(SqliteMetaLinkControls, MigratesAVersion2Database) {
    TempDir dir;
    const fs::path file = dir.path() / "meta.sqlite";
    const std::string upload_id = testing::make_upload_id(1);
    const std::string file_id = testing::make_file_id(2);
    exec_raw(file, std::string(kSchemaV2) +
                       "INSERT INTO uploads VALUES ('" + upload_id + "', '" + testing::make_file_id(1) +
                       "', 500, 10, 'meta eA==', 100, 200, 0, 0);"
                       "INSERT INTO files VALUES ('" + file_id + "', 77, '" + std::string(64, 'a') +
                       "', 'ZW5j', 150, '" + std::string(32, 'b') + "');");

    auto db = open_db(file);
    ASSERT_TRUE(db);
    EXPECT_EQ(*db->schema_version(), 3);
    const auto upload = db->get_upload(upload_id);
    ASSERT_TRUE(upload && *upload);
    EXPECT_EQ((*upload)->offset_bytes, 10u);
    EXPECT_EQ((*upload)->metadata, "meta eA==");
    EXPECT_FALSE((*upload)->anonymous);

    FileRecord f = get_file(*db, file_id);
    EXPECT_EQ(f.size_bytes, 77u);
    EXPECT_EQ(f.meta, "ZW5j");
    EXPECT_EQ(f.xxh3_hex, std::string(32, 'b'));
    EXPECT_EQ(f.price_msat, 0);
    EXPECT_FALSE(f.expires_s);
    EXPECT_FALSE(f.max_downloads);
    EXPECT_EQ(f.downloads, 0u);
    EXPECT_FALSE(f.revoked);
    EXPECT_FALSE(f.anonymous);

    EXPECT_EQ(*db->count_download(file_id), 1u);
    FileControlsUpdate update;
    update.max_downloads = std::optional<std::uint64_t>(3);
    EXPECT_EQ(db->update_file_controls(file_id, update)->max_downloads, std::optional<std::uint64_t>(3));

    // Reopening applies nothing twice.
    db.reset();
    db = open_db(file);
    ASSERT_TRUE(db);
    EXPECT_EQ(*db->schema_version(), 3);
    EXPECT_EQ(get_file(*db, file_id).downloads, 1u);
    EXPECT_EQ(get_file(*db, file_id).max_downloads, std::optional<std::uint64_t>(3));
}

// Every link-control field and the anonymous flags survive a round trip, both set and unset.
TEST_P(MetaLinkControlsTest, FieldsRoundTrip) {
    MetaStore* db = store();
    UploadRecord anonymous_upload = make_upload(1);
    anonymous_upload.anonymous = true;
    ASSERT_TRUE(db->create_upload(anonymous_upload));
    EXPECT_TRUE((*db->get_upload(anonymous_upload.upload_id))->anonymous);

    FileRecord full = make_file(make_upload(2));
    full.price_msat = 2'100'000'000'000'000'000;  // all bitcoin
    full.expires_s = 1'234'567;
    full.max_downloads = 10;
    full.downloads = 4;
    full.revoked = true;
    full.anonymous = true;
    full = add_file(*db, 2, full);
    const FileRecord got = get_file(*db, full.file_id);
    EXPECT_EQ(got.price_msat, full.price_msat);
    EXPECT_EQ(got.expires_s, full.expires_s);
    EXPECT_EQ(got.max_downloads, full.max_downloads);
    EXPECT_EQ(got.downloads, 4u);
    EXPECT_TRUE(got.revoked);
    EXPECT_TRUE(got.anonymous);

    const FileRecord plain = add_file(*db, 3, make_file(make_upload(3)));
    const FileRecord got_plain = get_file(*db, plain.file_id);
    EXPECT_EQ(got_plain.price_msat, 0);
    EXPECT_FALSE(got_plain.expires_s);
    EXPECT_FALSE(got_plain.max_downloads);
    EXPECT_FALSE(got_plain.revoked);
    EXPECT_FALSE(got_plain.anonymous);

    // The schema refuses a negative price even when a caller gets past the API.
    FileRecord negative = make_file(make_upload(4));
    negative.price_msat = -1;
    const UploadRecord u4 = make_upload(4);
    ASSERT_TRUE(db->create_upload(u4));
    EXPECT_FALSE(db->complete_upload(u4.upload_id, negative));
    EXPECT_FALSE(*db->get_file(negative.file_id));
}

// The counter returns the count after its own increment, an unknown file is not_found, and
// concurrent downloads finishing together lose no increment.
TEST_P(MetaLinkControlsTest, CountDownloadIsAtomic) {
    MetaStore* db = store();
    const FileRecord f = add_file(*db, 1, make_file(make_upload(1)));
    EXPECT_EQ(*db->count_download(f.file_id), 1u);
    EXPECT_EQ(*db->count_download(f.file_id), 2u);
    EXPECT_EQ(db->count_download(testing::make_file_id(99)).error().code, StoreError::not_found);

    constexpr int kThreads = 8;
    constexpr int kEach = 40;
    std::vector<std::vector<std::uint64_t>> seen(kThreads);
    {
        std::vector<std::jthread> threads;
        for (int t = 0; t < kThreads; ++t) {
            threads.emplace_back([&, t] {
                for (int i = 0; i < kEach; ++i) {
                    auto n = db->count_download(f.file_id);
                    if (n) seen[static_cast<std::size_t>(t)].push_back(*n);
                }
            });
        }
    }
    EXPECT_EQ(get_file(*db, f.file_id).downloads, 2u + kThreads * kEach);
    // Every increment saw a distinct count: none was lost or doubled.
    std::vector<std::uint64_t> all;
    for (const auto& s : seen) all.insert(all.end(), s.begin(), s.end());
    std::sort(all.begin(), all.end());
    ASSERT_EQ(all.size(), static_cast<std::size_t>(kThreads * kEach));
    for (std::size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i], 3 + i);
}

// Taking a count back (a last byte that could not be sent) decrements once, never below zero,
// and is not_found for an unknown file.
TEST_P(MetaLinkControlsTest, UncountDownload) {
    MetaStore* db = store();
    const FileRecord f = add_file(*db, 1, make_file(make_upload(1)));
    ASSERT_TRUE(db->count_download(f.file_id));
    ASSERT_TRUE(db->count_download(f.file_id));
    ASSERT_TRUE(db->uncount_download(f.file_id));
    EXPECT_EQ(get_file(*db, f.file_id).downloads, 1u);
    ASSERT_TRUE(db->uncount_download(f.file_id));
    ASSERT_TRUE(db->uncount_download(f.file_id));
    EXPECT_EQ(get_file(*db, f.file_id).downloads, 0u);
    EXPECT_EQ(db->uncount_download(testing::make_file_id(99)).error().code, StoreError::not_found);
}

// A batch of counts adds each to its file in one call: a file named twice gets both counts,
// a file deleted meanwhile (or never there) is skipped without failing the batch, and an id
// holding quotes, backslashes, commas or braces is one id like any other; an empty batch and a
// count the database cannot hold change nothing.
TEST_P(MetaLinkControlsTest, AddDownloadsBatch) {
    MetaStore* db = store();
    const FileRecord a = add_file(*db, 1, make_file(make_upload(1)));
    const FileRecord b = add_file(*db, 2, make_file(make_upload(2)));
    const FileRecord gone = add_file(*db, 3, make_file(make_upload(3)));
    ASSERT_TRUE(db->delete_file(gone.file_id));
    const std::string odd = "\"x\\\",{y}";
    ASSERT_TRUE(db->add_downloads({{a.file_id, 3}, {gone.file_id, 9}, {b.file_id, 1},
                                   {a.file_id, 2}, {odd, 5}, {testing::make_file_id(99), 1}}));
    EXPECT_EQ(get_file(*db, a.file_id).downloads, 5u);
    EXPECT_EQ(get_file(*db, b.file_id).downloads, 1u);
    EXPECT_FALSE(*db->get_file(gone.file_id));
    EXPECT_FALSE(*db->get_file(odd));
    EXPECT_TRUE(db->add_downloads({}));
    EXPECT_EQ(db->add_downloads({{b.file_id, UINT64_MAX}}).error().code, StoreError::io);
    EXPECT_EQ(get_file(*db, b.file_id).downloads, 1u);
}

// An update changes exactly the members it names, can remove an expiry and a limit, returns
// the row as stored, and is not_found for an unknown file.
TEST_P(MetaLinkControlsTest, UpdateChangesOnlyWhatItNames) {
    MetaStore* db = store();
    FileRecord start = make_file(make_upload(1));
    start.price_msat = 5000;
    start.expires_s = 9000;
    start.max_downloads = 7;
    start.downloads = 2;
    start = add_file(*db, 1, start);

    FileControlsUpdate revoke;
    revoke.revoked = true;
    auto after = db->update_file_controls(start.file_id, revoke);
    ASSERT_TRUE(after) << after.error().message;
    EXPECT_TRUE(after->revoked);
    EXPECT_EQ(after->price_msat, 5000);
    EXPECT_EQ(after->expires_s, std::optional<std::int64_t>(9000));
    EXPECT_EQ(after->max_downloads, std::optional<std::uint64_t>(7));
    EXPECT_EQ(after->downloads, 2u);

    FileControlsUpdate clear;
    clear.expires_s = std::optional<std::int64_t>();
    clear.max_downloads = std::optional<std::uint64_t>();
    clear.price_msat = 0;
    after = db->update_file_controls(start.file_id, clear);
    ASSERT_TRUE(after);
    EXPECT_FALSE(after->expires_s);
    EXPECT_FALSE(after->max_downloads);
    EXPECT_EQ(after->price_msat, 0);
    EXPECT_TRUE(after->revoked);  // untouched

    FileControlsUpdate set;
    set.expires_s = std::optional<std::int64_t>(12345);
    set.max_downloads = std::optional<std::uint64_t>(1);
    set.revoked = false;
    ASSERT_TRUE(db->update_file_controls(start.file_id, set));
    const FileRecord stored = get_file(*db, start.file_id);
    EXPECT_EQ(stored.expires_s, std::optional<std::int64_t>(12345));
    EXPECT_EQ(stored.max_downloads, std::optional<std::uint64_t>(1));
    EXPECT_FALSE(stored.revoked);
    EXPECT_EQ(stored.meta, start.meta);

    EXPECT_EQ(db->update_file_controls(testing::make_file_id(99), set).error().code, StoreError::not_found);
    FileControlsUpdate negative;
    negative.price_msat = -5;
    EXPECT_FALSE(db->update_file_controls(start.file_id, negative));
    EXPECT_EQ(get_file(*db, start.file_id).price_msat, 0);
}

// An owner's rename replaces the encrypted metadata, alone or with other controls, and leaves
// every other field as it was; an update without meta keeps it; an unknown file is not_found.
TEST_P(MetaLinkControlsTest, UpdateReplacesTheEncryptedMetadata) {
    MetaStore* db = store();
    FileRecord start = make_file(make_upload(1));
    start.price_msat = 700;
    start.max_downloads = 3;
    start = add_file(*db, 1, start);

    FileControlsUpdate rename;
    rename.meta = "bmV3LW5hbWU";
    auto after = db->update_file_controls(start.file_id, rename);
    ASSERT_TRUE(after) << after.error().message;
    EXPECT_EQ(after->meta, "bmV3LW5hbWU");
    EXPECT_EQ(after->price_msat, 700);
    EXPECT_EQ(after->max_downloads, std::optional<std::uint64_t>(3));
    EXPECT_EQ(after->size_bytes, start.size_bytes);
    EXPECT_EQ(after->sha256_hex, start.sha256_hex);
    EXPECT_EQ(get_file(*db, start.file_id).meta, "bmV3LW5hbWU");

    FileControlsUpdate both;
    both.meta = "dGhpcmQ";
    both.revoked = true;
    ASSERT_TRUE(db->update_file_controls(start.file_id, both));
    FileControlsUpdate price_only;
    price_only.price_msat = 9;
    ASSERT_TRUE(db->update_file_controls(start.file_id, price_only));
    const FileRecord stored = get_file(*db, start.file_id);
    EXPECT_EQ(stored.meta, "dGhpcmQ");
    EXPECT_TRUE(stored.revoked);
    EXPECT_EQ(stored.price_msat, 9);

    EXPECT_EQ(db->update_file_controls(testing::make_file_id(98), rename).error().code, StoreError::not_found);
}

// A rename rewrites the "meta" pair of the file's upload record too (tus HEAD answers with it),
// keeping the other pairs; an update without meta leaves the upload's metadata as it was.
TEST_P(MetaLinkControlsTest, RenameRewritesTheUploadsMetadata) {
    MetaStore* db = store();
    const auto tus = [](std::string_view key, std::string_view value) {
        return std::string(key) + " " + base64_encode(as_bytes(value));
    };
    UploadRecord u = make_upload(5);
    u.metadata = tus("meta", "b2xk") + "," + tus("owner_secret", "c2VjcmV0") + ",flag";
    ASSERT_TRUE(db->create_upload(u));
    ASSERT_TRUE(db->complete_upload(u.upload_id, make_file(u)));

    FileControlsUpdate revoke;
    revoke.revoked = true;
    ASSERT_TRUE(db->update_file_controls(u.file_id, revoke));
    EXPECT_EQ((*db->get_upload(u.upload_id))->metadata, u.metadata);

    FileControlsUpdate rename;
    rename.meta = "bmV3";
    ASSERT_TRUE(db->update_file_controls(u.file_id, rename));
    const auto pairs = parse_upload_metadata((*db->get_upload(u.upload_id))->metadata);
    ASSERT_TRUE(pairs);
    const MetadataPairs want = {{"meta", "bmV3"}, {"owner_secret", "c2VjcmV0"}, {"flag", ""}};
    EXPECT_EQ(*pairs, want);
    EXPECT_EQ(get_file(*db, u.file_id).meta, "bmV3");
}

// Housekeeping sees only anonymous files whose expiry is at or before now, soonest first and at
// most `limit`; an owned file past its expiry is the owner's to extend, never listed.
TEST_P(MetaLinkControlsTest, ExpiredAnonymousFiles) {
    MetaStore* db = store();
    auto with = [](bool anonymous, std::optional<std::int64_t> expires_s) {
        FileRecord f = make_file(make_upload(0));
        f.anonymous = anonymous;
        f.expires_s = expires_s;
        return f;
    };
    const FileRecord late = add_file(*db, 1, with(true, 300));
    const FileRecord early = add_file(*db, 2, with(true, 100));
    const FileRecord exact = add_file(*db, 3, with(true, 200));
    add_file(*db, 4, with(true, 201));        // not yet
    add_file(*db, 5, with(false, 50));        // owned
    add_file(*db, 6, with(true, std::nullopt));  // anonymous without expiry

    auto found = db->expired_anonymous_files(200, 10);
    ASSERT_TRUE(found);
    ASSERT_EQ(found->size(), 2u);
    EXPECT_EQ((*found)[0].file_id, early.file_id);
    EXPECT_EQ((*found)[1].file_id, exact.file_id);
    found = db->expired_anonymous_files(1000, 2);
    ASSERT_EQ(found->size(), 2u);
    EXPECT_EQ((*found)[0].file_id, early.file_id);
    found = db->expired_anonymous_files(1000, 10);
    ASSERT_EQ(found->size(), 4u);
    EXPECT_EQ((*found)[3].file_id, late.file_id);
}

}  // namespace
}  // namespace satload::store
