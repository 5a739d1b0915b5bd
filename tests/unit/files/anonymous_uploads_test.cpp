// Pins down the anonymous-upload policy and link controls at upload in UploadService, over the
// real local stores: the anonymous size limit (Upload-Length, deferred length, concatenation)
// with nothing stored when refused, the rate limit per address, a price needing an account,
// bad control values, and what a completed upload's file record carries.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "core/encoding.h"
#include "crypto/primitives.h"
#include "files/upload_service.h"
#include "store/local_blob_store.h"
#include "store/sqlite_meta_store.h"

namespace satload::files {
namespace {

constexpr std::uint64_t kAnonymousMaxBytes = 100;
constexpr std::int64_t kLifetimeS = 3600;
constexpr std::uint32_t kCreationsPerWindow = 5;

std::string tus_pairs(std::initializer_list<std::pair<std::string, std::string>> pairs) {
    std::string out;
    for (const auto& [k, v] : pairs) {
        if (!out.empty()) out += ',';
        out += k + " " + base64_encode(as_bytes(v));
    }
    return out;
}

class AnonymousUploadTest : public ::testing::Test {
protected:
    void SetUp() override {
        const char* base = std::getenv("SATLOAD_TEST_TMP");
        m_dir = std::filesystem::path(base ? base : std::filesystem::temp_directory_path().string()) /
                ("anon-" + std::to_string(::getpid()) + "-" + std::to_string(std::random_device{}()));
        std::filesystem::create_directories(m_dir);
        m_blobs = std::move(*store::LocalBlobStore::open(m_dir / "blobs"));
        m_meta = std::move(*store::SqliteMetaStore::open(m_dir / "meta.sqlite"));
        UploadLimits limits;
        limits.max_upload_bytes = 1000;
        limits.anonymous_max_upload_bytes = kAnonymousMaxBytes;
        limits.anonymous_file_lifetime_s = kLifetimeS;
        limits.anonymous_rate = RatePolicy{.events_per_window = kCreationsPerWindow, .window_s = 60, .max_keys = 10};
        m_service = std::make_unique<UploadService>(*m_blobs, *m_meta, m_clock, crypto::random_bytes, limits);
    }
    void TearDown() override {
        m_service.reset();
        m_meta.reset();
        m_blobs.reset();
        std::filesystem::remove_all(m_dir);
    }

    static CreateUpload request(std::optional<std::uint64_t> length, bool anonymous, std::string metadata = "",
                                std::string address = "192.0.2.1") {
        CreateUpload r;
        r.length_bytes = length;
        r.anonymous = anonymous;
        r.client_address = std::move(address);
        r.metadata = std::move(metadata);
        return r;
    }

    // Writes `data` in one request and returns the record after it.
    store::UploadRecord write_all(const store::UploadRecord& upload, const Bytes& data,
                                  std::optional<std::uint64_t> length = std::nullopt) {
        auto writer = m_service->begin_write(upload.upload_id, 0, data.size(), length, std::nullopt);
        EXPECT_TRUE(writer) << writer.error().message;
        if (!writer) return {};
        EXPECT_TRUE((*writer)->write(data));
        auto done = (*writer)->finish();
        EXPECT_TRUE(done) << done.error().message;
        return done ? *done : store::UploadRecord{};
    }

    std::size_t stored_entries() {
        std::size_t n = 0;
        for (const auto& e : std::filesystem::recursive_directory_iterator(m_dir / "blobs")) {
            if (e.is_regular_file()) ++n;
        }
        return n;
    }

    std::filesystem::path m_dir;
    ManualClock m_clock{1'700'000'000};
    std::unique_ptr<store::LocalBlobStore> m_blobs;
    std::unique_ptr<store::SqliteMetaStore> m_meta;
    std::unique_ptr<UploadService> m_service;
};

// An anonymous Upload-Length above the anonymous limit is too_large, the detail states the
// limit, and nothing is stored; at the limit it is accepted; with an account the general
// maximum applies instead.
TEST_F(AnonymousUploadTest, SizeLimitAtCreation) {
    const std::size_t before = stored_entries();
    auto refused = m_service->create(request(kAnonymousMaxBytes + 1, true));
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, UploadError::too_large);
    EXPECT_NE(refused.error().message.find(std::to_string(kAnonymousMaxBytes)), std::string::npos)
        << refused.error().message;
    EXPECT_EQ(stored_entries(), before);
    auto incomplete = m_meta->incomplete_uploads(100);
    ASSERT_TRUE(incomplete);
    EXPECT_TRUE(incomplete->empty());

    EXPECT_TRUE(m_service->create(request(kAnonymousMaxBytes, true)));
    EXPECT_TRUE(m_service->create(request(kAnonymousMaxBytes + 1, false)));
    EXPECT_EQ(m_service->create(request(1001, false)).error().code, UploadError::too_large);
}

// A deferred length cannot get around the limit: naming a length above it is refused, and
// bytes past it are refused even while the length is still unknown.
TEST_F(AnonymousUploadTest, SizeLimitWithDeferredLength) {
    auto upload = m_service->create(request(std::nullopt, true));
    ASSERT_TRUE(upload);
    auto named = m_service->begin_write(upload->upload_id, 0, 10, kAnonymousMaxBytes + 1, std::nullopt);
    ASSERT_FALSE(named);
    EXPECT_EQ(named.error().code, UploadError::too_large);

    auto body = m_service->begin_write(upload->upload_id, 0, kAnonymousMaxBytes + 1, std::nullopt, std::nullopt);
    ASSERT_FALSE(body);  // a Content-Length that cannot fit is refused before any byte is read
    auto writer = m_service->begin_write(upload->upload_id, 0, std::nullopt, std::nullopt, std::nullopt);
    ASSERT_TRUE(writer);
    const Bytes too_much(kAnonymousMaxBytes + 1, 7);
    auto written = (*writer)->write(too_much);
    ASSERT_FALSE(written);
    EXPECT_EQ(written.error().code, UploadError::too_large);
    writer->reset();
    EXPECT_EQ(m_service->status(upload->upload_id)->offset_bytes, 0u);
}

// A final concatenation of anonymous parts is held to the anonymous limit as a whole, and the
// refused final leaves the parts as they were.
TEST_F(AnonymousUploadTest, SizeLimitOfAConcatenation) {
    std::vector<std::string> parts;
    for (int i = 0; i < 2; ++i) {
        CreateUpload part = request(60, true);
        part.partial = true;
        auto created = m_service->create(part);
        ASSERT_TRUE(created);
        write_all(*created, Bytes(60, static_cast<std::uint8_t>(i)));
        parts.push_back(created->upload_id);
    }
    CreateUpload final_upload = request(std::nullopt, true);
    final_upload.part_upload_ids = parts;
    auto refused = m_service->create(final_upload);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, UploadError::too_large);
    EXPECT_EQ(m_service->status(parts[0])->offset_bytes, 60u);
    // The same parts joined by an account are fine.
    final_upload.anonymous = false;
    auto joined = m_service->create(final_upload);
    ASSERT_TRUE(joined) << joined.error().message;
    EXPECT_TRUE(joined->complete);
}

// The rate limit counts creations per address: past it, rate_limited with the wait and nothing
// stored; another address and an account are not affected; the window's end lets it in again.
TEST_F(AnonymousUploadTest, RateLimitPerAddress) {
    for (std::uint32_t i = 0; i < kCreationsPerWindow; ++i) {
        ASSERT_TRUE(m_service->create(request(1, true))) << i;
    }
    const std::size_t before = stored_entries();
    m_clock.advance(15);
    auto limited = m_service->create(request(1, true));
    ASSERT_FALSE(limited);
    EXPECT_EQ(limited.error().code, UploadError::rate_limited);
    EXPECT_EQ(limited.error().retry_after_s, 45);
    EXPECT_EQ(stored_entries(), before);
    EXPECT_TRUE(m_service->create(request(1, true, "", "192.0.2.2")));
    EXPECT_TRUE(m_service->create(request(1, false)));
    m_clock.advance(45);
    EXPECT_TRUE(m_service->create(request(1, true)));
}

// A price needs an account (account_required, nothing stored); bad control values are refused
// with the key named; neither uses up the rate limit.
TEST_F(AnonymousUploadTest, PriceNeedsAnAccountAndValuesAreChecked) {
    const std::size_t before = stored_entries();
    for (std::uint32_t i = 0; i < kCreationsPerWindow + 1; ++i) {
        auto priced = m_service->create(request(10, true, tus_pairs({{"price_msat", "1000"}})));
        ASSERT_FALSE(priced);
        EXPECT_EQ(priced.error().code, UploadError::account_required);
        auto bad = m_service->create(request(10, true, tus_pairs({{"max_downloads", "0"}})));
        ASSERT_FALSE(bad);
        EXPECT_EQ(bad.error().code, UploadError::invalid_link_controls);
        EXPECT_NE(bad.error().message.find("max_downloads"), std::string::npos);
    }
    EXPECT_EQ(stored_entries(), before);
    EXPECT_TRUE(m_service->create(request(10, true, tus_pairs({{"price_msat", "0"}}))));
    EXPECT_TRUE(m_service->create(request(10, false, tus_pairs({{"price_msat", "1000"}}))));
}

// On completion the file record carries the controls: an expiry counted from completion, the
// download limit and the price; an anonymous file gets the anonymous lifetime, or its own
// expiry when that is sooner; an account's file has no lifetime of its own.
TEST_F(AnonymousUploadTest, CompletionRecordsTheControls) {
    const Bytes data(10, 1);
    auto owned = m_service->create(request(10, false, tus_pairs({{"expires_in", "600"}, {"max_downloads", "3"},
                                                                 {"price_msat", "2500"}})));
    ASSERT_TRUE(owned);
    m_clock.advance(100);  // the expiry starts when the upload completes, not at creation
    write_all(*owned, data);
    auto file = **m_meta->get_file(owned->file_id);
    EXPECT_EQ(file.expires_s, std::optional<std::int64_t>(m_clock.now_s() + 600));
    EXPECT_EQ(file.max_downloads, std::optional<std::uint64_t>(3));
    EXPECT_EQ(file.price_msat, 2500);
    EXPECT_FALSE(file.anonymous);

    auto plain = m_service->create(request(10, false));
    write_all(*plain, data);
    file = **m_meta->get_file(plain->file_id);
    EXPECT_FALSE(file.expires_s);
    EXPECT_FALSE(file.max_downloads);

    auto anonymous = m_service->create(request(10, true));
    write_all(*anonymous, data);
    file = **m_meta->get_file(anonymous->file_id);
    EXPECT_TRUE(file.anonymous);
    EXPECT_EQ(file.expires_s, std::optional<std::int64_t>(m_clock.now_s() + kLifetimeS));

    auto sooner = m_service->create(request(10, true, tus_pairs({{"expires_in", "60"}})));
    auto later = m_service->create(request(10, true, tus_pairs({{"expires_in", std::to_string(kLifetimeS * 2)}})));
    write_all(*sooner, data);
    write_all(*later, data);
    EXPECT_EQ((**m_meta->get_file(sooner->file_id)).expires_s, std::optional<std::int64_t>(m_clock.now_s() + 60));
    EXPECT_EQ((**m_meta->get_file(later->file_id)).expires_s,
              std::optional<std::int64_t>(m_clock.now_s() + kLifetimeS));
}

}  // namespace
}  // namespace satload::files
