// Pins down link controls in the files layer: the Upload-Metadata keys and their bounds, the
// order and edges of the rules that close a link, which files may be cached publicly, and
// FileService's owner changes, download counting and removal of expired anonymous files over
// the real stores.
#include "files/link_controls.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "core/encoding.h"
#include "core/ids.h"
#include "core/money.h"
#include "files/file_service.h"
#include "store/local_blob_store.h"
#include "store/sqlite_meta_store.h"

namespace satload::files {
namespace {
// Named too: a unity build compiles this layer's test files as one translation unit.
namespace link_controls_test {

// "key <base64 of value>" pairs, as a tus client sends them.
std::string tus_pairs(std::initializer_list<std::pair<std::string, std::string>> pairs) {
    std::string out;
    for (const auto& [k, v] : pairs) {
        if (!out.empty()) out += ',';
        out += k + " " + base64_encode(as_bytes(v));
    }
    return out;
}

// The three keys are read as decimal text; other keys (meta, owner_secret, unknown ones) are
// left alone; no key at all means no controls.
TEST(LinkMetadata, ReadsTheThreeKeys) {
    auto c = parse_link_metadata(tus_pairs({{"meta", "abc"}, {"expires_in", "3600"}, {"max_downloads", "5"},
                                            {"price_msat", "250000"}, {"other", "x y"}}));
    ASSERT_TRUE(c) << c.error();
    EXPECT_EQ(c->expires_in_s, std::optional<std::int64_t>(3600));
    EXPECT_EQ(c->max_downloads, std::optional<std::uint64_t>(5));
    EXPECT_EQ(c->price_msat, 250000);

    auto none = parse_link_metadata(tus_pairs({{"meta", "abc"}}));
    ASSERT_TRUE(none);
    EXPECT_FALSE(none->expires_in_s);
    EXPECT_FALSE(none->max_downloads);
    EXPECT_EQ(none->price_msat, 0);
    EXPECT_TRUE(parse_link_metadata(""));
}

// Values outside the bounds or not plain decimals are refused, and the error names the key:
// zero lifetimes and limits, signs, decimals, text, base64 that is not base64, and values
// just past each maximum. The maxima themselves are accepted.
TEST(LinkMetadata, RefusesBadValuesNamingTheKey) {
    const std::pair<std::string, std::string> bad[] = {
        {"expires_in", "0"},     {"expires_in", "-5"},   {"expires_in", "1.5"},
        {"expires_in", "7d"},    {"expires_in", ""},     {"max_downloads", "0"},
        {"max_downloads", "+3"}, {"price_msat", "1e3"},  {"price_msat", "10sat"},
        {"expires_in", std::to_string(kLinkLifetimeMaxS + 1)},
        {"max_downloads", std::to_string(kDownloadLimitMax + 1)},
        {"price_msat", std::to_string(kSupplyMsat + 1)},
        {"price_msat", "99999999999999999999"},
    };
    for (const auto& [key, value] : bad) {
        auto c = parse_link_metadata(tus_pairs({{key, value}}));
        ASSERT_FALSE(c) << key << "=" << value;
        EXPECT_NE(c.error().find(key), std::string::npos) << c.error();
    }
    EXPECT_FALSE(parse_link_metadata("expires_in !!!notbase64"));
    EXPECT_TRUE(parse_link_metadata(tus_pairs({{"expires_in", std::to_string(kLinkLifetimeMaxS)},
                                               {"max_downloads", std::to_string(kDownloadLimitMax)},
                                               {"price_msat", std::to_string(kSupplyMsat)}})));
}

// Revoked wins over expired, which wins over the download limit; expiry applies from the
// expiry second itself; the limit applies once downloads reach it, not before.
TEST(LinkRefusal, OrderAndEdges) {
    store::FileRecord f;
    EXPECT_FALSE(link_refusal(f, 1000));
    f.expires_s = 1000;
    EXPECT_FALSE(link_refusal(f, 999));
    EXPECT_EQ(link_refusal(f, 1000), LinkRefusal::expired);
    f.max_downloads = 3;
    f.downloads = 2;
    EXPECT_FALSE(link_refusal(f, 999));
    f.downloads = 3;
    EXPECT_EQ(link_refusal(f, 999), LinkRefusal::download_limit_reached);
    EXPECT_EQ(link_refusal(f, 1000), LinkRefusal::expired);
    f.revoked = true;
    EXPECT_EQ(link_refusal(f, 1000), LinkRefusal::revoked);
    EXPECT_EQ(link_refusal(f, 0), LinkRefusal::revoked);
}

// Only an anonymous file without expiry, limit, price or revocation can be cached publicly for
// ever: any control, or an owner who could add one, makes it revalidated.
TEST(LinkRefusal, WhichFilesHaveControls) {
    store::FileRecord anonymous;
    anonymous.anonymous = true;
    EXPECT_FALSE(has_link_controls(anonymous));
    store::FileRecord owned;
    EXPECT_TRUE(has_link_controls(owned));
    for (int i = 0; i < 4; ++i) {
        store::FileRecord f = anonymous;
        if (i == 0) f.expires_s = 5;
        if (i == 1) f.max_downloads = 5;
        if (i == 2) f.price_msat = 1;
        if (i == 3) f.revoked = true;
        EXPECT_TRUE(has_link_controls(f)) << i;
    }
}

class FileServiceTest : public ::testing::Test {
protected:
    void SetUp() override {
        const char* base = std::getenv("SATLOAD_TEST_TMP");
        m_dir = std::filesystem::path(base ? base : std::filesystem::temp_directory_path().string()) /
                ("links-" + std::to_string(::getpid()) + "-" + std::to_string(std::random_device{}()));
        std::filesystem::create_directories(m_dir);
        m_blobs = std::move(*store::LocalBlobStore::open(m_dir / "blobs"));
        m_meta = std::move(*store::SqliteMetaStore::open(m_dir / "meta.sqlite"));
        m_files = std::make_unique<FileService>(*m_blobs, *m_meta, m_clock);
    }
    void TearDown() override {
        m_files.reset();
        m_meta.reset();
        m_blobs.reset();
        std::filesystem::remove_all(m_dir);
    }

    // A stored file (blob and record) with the given controls; returns its id.
    std::string add_file(std::uint32_t seed, bool anonymous, std::optional<std::int64_t> expires_s) {
        store::UploadRecord u;
        UploadIdBytes upload_bytes{};
        FileIdBytes file_bytes{};
        upload_bytes[0] = file_bytes[0] = static_cast<std::uint8_t>(seed);
        u.upload_id = upload_id_text(upload_bytes);
        u.file_id = file_id_text(file_bytes);
        u.length_bytes = 3;
        u.created_s = m_clock.now_s();
        u.expires_s = u.created_s + 100;
        EXPECT_TRUE(m_blobs->create_partial(u.upload_id));
        auto appender = m_blobs->open_append(u.upload_id, 0);
        const Bytes data = {1, 2, 3};
        EXPECT_TRUE((*appender)->write(data));
        EXPECT_TRUE((*appender)->sync());
        appender->reset();
        EXPECT_TRUE(m_meta->create_upload(u));
        auto digest = m_blobs->commit_partial(u.upload_id, u.file_id);
        EXPECT_TRUE(digest);
        store::FileRecord f;
        f.file_id = u.file_id;
        f.size_bytes = 3;
        f.sha256_hex = digest->sha256_hex;
        f.created_s = u.created_s;
        f.anonymous = anonymous;
        f.expires_s = expires_s;
        EXPECT_TRUE(m_meta->complete_upload(u.upload_id, f));
        return f.file_id;
    }

    std::filesystem::path m_dir;
    ManualClock m_clock{1'700'000'000};
    std::unique_ptr<store::LocalBlobStore> m_blobs;
    std::unique_ptr<store::SqliteMetaStore> m_meta;
    std::unique_ptr<FileService> m_files;
};

// An owner's expiry counts from now (the injected clock); the service's refusal follows the
// clock; values out of bounds are refused with nothing changed; removing limits works; an
// unknown or malformed id is not_found.
TEST_F(FileServiceTest, OwnerChangesAreCheckedAndApplied) {
    const std::string id = add_file(1, false, std::nullopt);
    ControlsChange change;
    change.expires_in_s = std::optional<std::int64_t>(60);
    change.max_downloads = std::optional<std::uint64_t>(2);
    change.price_msat = 1500;
    auto after = m_files->update_controls(id, change);
    ASSERT_TRUE(after) << after.error().message;
    EXPECT_EQ(after->expires_s, std::optional<std::int64_t>(m_clock.now_s() + 60));
    EXPECT_EQ(after->max_downloads, std::optional<std::uint64_t>(2));
    EXPECT_EQ(after->price_msat, 1500);
    EXPECT_FALSE(m_files->link_refusal(*after));
    m_clock.advance(60);
    EXPECT_EQ(m_files->link_refusal(*m_files->info(id)), LinkRefusal::expired);

    for (int i = 0; i < 4; ++i) {
        ControlsChange bad;
        if (i == 0) bad.expires_in_s = std::optional<std::int64_t>(0);
        if (i == 1) bad.max_downloads = std::optional<std::uint64_t>(0);
        if (i == 2) bad.price_msat = kSupplyMsat + 1;
        if (i == 3) bad.price_msat = -1;
        bad.revoked = true;
        auto refused = m_files->update_controls(id, bad);
        ASSERT_FALSE(refused) << i;
        EXPECT_EQ(refused.error().code, FileError::invalid);
    }
    EXPECT_FALSE(m_files->info(id)->revoked);  // nothing of a refused change was applied

    ControlsChange clear;
    clear.expires_in_s = std::optional<std::int64_t>();
    clear.max_downloads = std::optional<std::uint64_t>();
    after = m_files->update_controls(id, clear);
    ASSERT_TRUE(after);
    EXPECT_FALSE(after->expires_s);
    EXPECT_FALSE(after->max_downloads);
    EXPECT_FALSE(m_files->link_refusal(*after));

    EXPECT_EQ(m_files->update_controls(std::string(22, 'A'), clear).error().code, FileError::not_found);
    EXPECT_EQ(m_files->update_controls("../x", clear).error().code, FileError::not_found);
}

// Counting reaches the limit and closes the link; counting a deleted file is not_found.
TEST_F(FileServiceTest, CountingClosesTheLinkAtTheLimit) {
    const std::string id = add_file(2, true, std::nullopt);
    ControlsChange limit;
    limit.max_downloads = std::optional<std::uint64_t>(2);
    ASSERT_TRUE(m_files->update_controls(id, limit));
    EXPECT_EQ(*m_files->count_download(id), 1u);
    EXPECT_FALSE(m_files->link_refusal(*m_files->info(id)));
    EXPECT_EQ(*m_files->count_download(id), 2u);
    EXPECT_EQ(m_files->link_refusal(*m_files->info(id)), LinkRefusal::download_limit_reached);
    ASSERT_TRUE(m_meta->delete_file(id));
    EXPECT_EQ(m_files->count_download(id).error().code, FileError::not_found);
}

// Files without a limit are counted in memory: info() shows the count at once, the store gets
// it at the flush, a count taken back before the flush is gone, and a new limit sees them all.
TEST_F(FileServiceTest, BatchedCountsReachTheStoreAtTheFlush) {
    const std::string id = add_file(2, true, std::nullopt);
    m_files->count_download_later(id);
    m_files->count_download_later(id);
    m_files->count_download_later(id);
    m_files->uncount_download_later(id);
    EXPECT_EQ(m_files->info(id)->downloads, 2u);
    EXPECT_EQ((*m_meta->get_file(id))->downloads, 0u);
    EXPECT_EQ(m_files->flush_download_counts(), 1u);
    EXPECT_EQ((*m_meta->get_file(id))->downloads, 2u);
    EXPECT_EQ(m_files->info(id)->downloads, 2u);
    EXPECT_EQ(m_files->flush_download_counts(), 0u);
    m_files->count_download_later(id);
    ControlsChange limit;
    limit.max_downloads = std::optional<std::uint64_t>(3);
    auto after = m_files->update_controls(id, limit);
    ASSERT_TRUE(after);
    EXPECT_EQ(after->downloads, 3u);
    EXPECT_EQ(m_files->link_refusal(*after), LinkRefusal::download_limit_reached);
}

// Housekeeping removes expired anonymous files, record and blob, and leaves alone anonymous
// files not expired yet and owned files past their expiry (their owner may extend it).
TEST_F(FileServiceTest, RemovesExpiredAnonymousFilesOnly) {
    const std::int64_t now = m_clock.now_s();
    const std::string expired = add_file(3, true, now + 10);
    const std::string later = add_file(4, true, now + 1000);
    const std::string owned = add_file(5, false, now + 10);
    EXPECT_EQ(m_files->remove_expired(100), 0u);
    m_clock.advance(10);
    EXPECT_EQ(m_files->remove_expired(100), 1u);
    EXPECT_EQ(m_files->info(expired).error().code, FileError::not_found);
    EXPECT_EQ(m_blobs->open_blob(expired).error().code, store::StoreError::not_found);
    EXPECT_TRUE(m_files->open(later));
    EXPECT_TRUE(m_files->open(owned));
    EXPECT_EQ(m_files->link_refusal(*m_files->info(owned)), LinkRefusal::expired);
    EXPECT_EQ(m_files->remove_expired(100), 0u);
}

}  // namespace link_controls_test
}  // namespace
}  // namespace satload::files
