// "One writer per upload" across server processes: two UploadServices on one PostgreSQL schema
// (each with its own pool and store, as two `serve --db` instances) and one blob directory
// (the shared bucket). One refuses an upload the other is writing, takes it once it is let
// go or once the other's lease ran out, and a long write keeps its lease by renewing it.
#include "files/upload_service.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "crypto/primitives.h"
#include "instrumented_blob_store.h"
#include "store/local_blob_store.h"
#include "store/pg_meta_store.h"
#include "store/pg_test_util.h"

namespace satload::files {
namespace {

using store::testing::PgTestSchema;

// One server process: its own connection pool, metadata store and upload service.
struct Process {
    std::unique_ptr<store::PgMetaStore> meta;
    std::unique_ptr<UploadService> uploads;
};

class UploadLockTest : public ::testing::Test {
protected:
    void SetUp() override {
        SATLOAD_REQUIRE_PG();
        const char* base = std::getenv("SATLOAD_TEST_TMP");
        m_dir = std::filesystem::path(base ? base : std::filesystem::temp_directory_path().string()) /
                ("uplock-" + std::to_string(::getpid()) + "-" + std::to_string(std::random_device{}()));
        std::filesystem::create_directories(m_dir);
        m_blobs = std::move(*store::LocalBlobStore::open(m_dir / "blobs"));
        m_counting = std::make_unique<testing::InstrumentedBlobStore>(*m_blobs);
        m_schema = std::make_unique<PgTestSchema>();
        m_a = start();
        m_b = start();
        ASSERT_TRUE(m_a.uploads && m_b.uploads);
    }
    void TearDown() override {
        m_a = {};
        m_b = {};
        m_schema.reset();  // after every connection to it closed
        m_counting.reset();
        m_blobs.reset();
        if (!m_dir.empty()) std::filesystem::remove_all(m_dir);
    }
    Process start() {
        Process p;
        auto db = m_schema->open();
        if (!db) return p;
        auto meta = store::PgMetaStore::open(db);
        EXPECT_TRUE(meta) << (meta ? "" : meta.error().message);
        if (!meta) return p;
        p.meta = std::move(*meta);
        p.uploads = std::make_unique<UploadService>(*m_counting, *p.meta, m_clock, crypto::random_bytes,
                                                    UploadLimits{});
        return p;
    }
    store::UploadRecord create(std::uint64_t length) {
        CreateUpload request;
        request.length_bytes = length;
        auto created = m_a.uploads->create(request);
        EXPECT_TRUE(created);
        return created ? *created : store::UploadRecord{};
    }
    static UploadResult<std::unique_ptr<UploadWriter>> begin(Process& p, const std::string& id,
                                                             std::uint64_t offset) {
        return p.uploads->begin_write(id, offset, std::nullopt, std::nullopt, std::nullopt);
    }

    std::filesystem::path m_dir;
    ManualClock m_clock{1'700'000'000};
    std::unique_ptr<store::LocalBlobStore> m_blobs;
    std::unique_ptr<testing::InstrumentedBlobStore> m_counting;
    std::unique_ptr<PgTestSchema> m_schema;
    Process m_a;
    Process m_b;
};

// While one process writes an upload, the other is refused with `locked` (a PATCH and a
// termination alike, the answer a second request of the same process gets) and its expiry
// sweep leaves the upload alone; once the writer ends, the other process writes and completes it.
TEST_F(UploadLockTest, OtherProcessRefusedWhileOneWrites) {
    const auto record = create(6);
    auto first = begin(m_a, record.upload_id, 0);
    ASSERT_TRUE(first);
    auto second = begin(m_b, record.upload_id, 0);
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error().code, UploadError::locked);
    const auto same_process = begin(m_a, record.upload_id, 0);
    ASSERT_FALSE(same_process);
    EXPECT_EQ(same_process.error().code, second.error().code);
    EXPECT_EQ(same_process.error().message, second.error().message);
    const auto terminated = m_b.uploads->terminate(record.upload_id);
    ASSERT_FALSE(terminated);
    EXPECT_EQ(terminated.error().code, UploadError::locked);
    // A refused attempt leaves nothing held in the refused process.
    EXPECT_EQ(m_b.uploads->writes_in_progress(), 0u);
    EXPECT_EQ(m_a.uploads->writes_in_progress(), 1u);

    const Bytes head = {1, 2, 3};
    ASSERT_TRUE((*first)->write(head));
    ASSERT_TRUE((*first)->finish());
    first->reset();

    auto after = begin(m_b, record.upload_id, 3);
    ASSERT_TRUE(after) << after.error().message;
    // Now the first process is the one refused.
    const auto refused = begin(m_a, record.upload_id, 3);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, UploadError::locked);
    const Bytes tail = {4, 5, 6};
    ASSERT_TRUE((*after)->write(tail));
    const auto done = (*after)->finish();
    ASSERT_TRUE(done);
    EXPECT_TRUE(done->complete);
    const auto file = m_a.meta->get_file(record.file_id);
    ASSERT_TRUE(file && *file);
    EXPECT_EQ((*file)->sha256_hex, hex_encode(crypto::sha256(Bytes{1, 2, 3, 4, 5, 6})));
}

// A writer that stops sending (its process stalled or died) holds the upload only until its
// lease ends: the other process then takes it over from the durable offset, and the old writer
// can neither write nor record anything more, nor free the new holder's lock as it ends.
TEST_F(UploadLockTest, ExpiredLeaseIsTakenOver) {
    const auto record = create(4);
    auto stalled = begin(m_a, record.upload_id, 0);
    ASSERT_TRUE(stalled);
    const Bytes lost = {9, 9};
    ASSERT_TRUE((*stalled)->write(lost));
    m_clock.advance(kUploadLockLeaseS - 1);
    const auto early = begin(m_b, record.upload_id, 0);
    ASSERT_FALSE(early);
    EXPECT_EQ(early.error().code, UploadError::locked);
    m_clock.advance(1);

    auto taker = begin(m_b, record.upload_id, 0);
    ASSERT_TRUE(taker) << taker.error().message;
    const auto late = (*stalled)->write(lost);
    ASSERT_FALSE(late);
    EXPECT_EQ(late.error().code, UploadError::locked);
    stalled->reset();  // ends without releasing the lock it no longer holds
    EXPECT_EQ(m_a.uploads->writes_in_progress(), 0u);
    const auto still_held = begin(m_a, record.upload_id, 0);
    ASSERT_FALSE(still_held);
    EXPECT_EQ(still_held.error().code, UploadError::locked);

    const Bytes data = {1, 2, 3, 4};
    ASSERT_TRUE((*taker)->write(data));
    const auto done = (*taker)->finish();
    ASSERT_TRUE(done);
    EXPECT_TRUE(done->complete);
    const auto file = m_b.meta->get_file(record.file_id);
    ASSERT_TRUE(file && *file);
    EXPECT_EQ((*file)->sha256_hex, hex_encode(crypto::sha256(data)));
}

// A writer cut (its client gone) after another process took its expired lease over keeps
// nothing: it does not even sync, since a store's sync writes (S3: a piece, or a marker where
// its confirmed parts end) where the new holder may already have written; the new holder's
// offset and bytes stand.
TEST_F(UploadLockTest, WriterCutAfterATakeoverDoesNotSync) {
    const auto record = create(4);
    auto stalled = begin(m_a, record.upload_id, 0);
    ASSERT_TRUE(stalled);
    ASSERT_TRUE((*stalled)->write(Bytes{9, 9}));
    m_clock.advance(kUploadLockLeaseS);
    auto taker = begin(m_b, record.upload_id, 0);
    ASSERT_TRUE(taker) << taker.error().message;
    const int syncs_before = m_counting->syncs();
    stalled->reset();  // the cut of a PATCH whose client went away
    EXPECT_EQ(m_counting->syncs(), syncs_before);

    const Bytes data = {1, 2, 3, 4};
    ASSERT_TRUE((*taker)->write(data));
    const auto done = (*taker)->finish();
    ASSERT_TRUE(done) << done.error().message;
    EXPECT_TRUE(done->complete);
    const auto file = m_b.meta->get_file(record.file_id);
    ASSERT_TRUE(file && *file);
    EXPECT_EQ((*file)->sha256_hex, hex_encode(crypto::sha256(data)));
}

// A long PATCH keeps its lock: each chunk written once more than half the lease has passed
// renews it, so the other process is still refused long after the first lease would have ended.
TEST_F(UploadLockTest, LongWriteRenewsItsLease) {
    const auto record = create(3);
    auto writer = begin(m_a, record.upload_id, 0);
    ASSERT_TRUE(writer);
    for (std::uint8_t i = 0; i < 3; ++i) {
        m_clock.advance(kUploadLockLeaseS / 2 + 1);
        ASSERT_TRUE((*writer)->write(Bytes{i})) << "chunk " << int(i);
        const auto other = begin(m_b, record.upload_id, 0);
        ASSERT_FALSE(other) << "taken over after " << int(i) + 1 << " chunks";
        EXPECT_EQ(other.error().code, UploadError::locked);
    }
    const auto done = (*writer)->finish();
    ASSERT_TRUE(done) << done.error().message;
    EXPECT_TRUE(done->complete);
}

// A lock left by a process that died (never given back) frees itself when its lease ends:
// a termination by the surviving process is refused until then, and proceeds after.
TEST_F(UploadLockTest, CrashedProcessLockEndsWithItsLease) {
    const auto record = create(4);
    const std::int64_t now_s = m_clock.now_s();
    ASSERT_NE(*m_a.meta->lock_upload(record.upload_id, "crashed", now_s, now_s + kUploadLockLeaseS),
              store::UploadLockGrant::refused);
    const auto refused = m_b.uploads->terminate(record.upload_id);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, UploadError::locked);
    m_clock.advance(kUploadLockLeaseS);
    ASSERT_TRUE(m_b.uploads->terminate(record.upload_id));
    const auto gone = m_a.uploads->status(record.upload_id);
    ASSERT_FALSE(gone);
    EXPECT_EQ(gone.error().code, UploadError::not_found);
}

// Where the store says appenders are worth keeping (S3), a process keeps the appender of a
// PATCH that ended well for the upload's next PATCH through it; but not once the other process
// held the upload's lock in between, even if it wrote nothing and left the offset where it was
// (it may have written to the store without recording it): the appender is opened again.
TEST_F(UploadLockTest, KeptAppenderOnlyWhileNoOtherProcessHeldTheLock) {
    m_counting->set_worth_keeping(true);
    const auto record = create(6);
    const Bytes data = {1, 2, 3, 4, 5, 6};
    auto patch = [&](Process& p, std::uint64_t at, std::size_t n) {
        auto writer = begin(p, record.upload_id, at);
        ASSERT_TRUE(writer) << writer.error().message;
        if (n > 0) {
            ASSERT_TRUE((*writer)->write(ByteSpan(data).subspan(at, n)));
        }
        const auto done = (*writer)->finish();
        ASSERT_TRUE(done) << done.error().message;
    };
    patch(m_a, 0, 2);
    patch(m_a, 2, 1);
    EXPECT_EQ(m_counting->opens(), 1);  // the second PATCH wrote with the first one's appender
    EXPECT_EQ(m_a.uploads->kept_appenders(), 1u);
    patch(m_b, 3, 0);  // another process holds the lock and lets it go, the offset unchanged
    EXPECT_EQ(m_counting->opens(), 2);
    patch(m_a, 3, 1);
    EXPECT_EQ(m_counting->opens(), 3);  // not the appender kept from before b's hold
    patch(m_a, 4, 2);
    EXPECT_EQ(m_counting->opens(), 3);
    EXPECT_EQ(m_a.uploads->kept_appenders(), 0u);  // the upload completed: nothing kept
    const auto file = m_a.meta->get_file(record.file_id);
    ASSERT_TRUE(file && *file);
    EXPECT_EQ((*file)->sha256_hex, hex_encode(crypto::sha256(data)));
}

// A writer whose lease ran out loses the upload even when the process that took it over has
// let it go again: renewing finds that another held the lock since, so the writer stops
// rather than write and record beside what the other may have written.
TEST_F(UploadLockTest, LeaseTakenAndReleasedMeanwhileIsLost) {
    const auto record = create(4);
    auto stalled = begin(m_a, record.upload_id, 0);
    ASSERT_TRUE(stalled);
    ASSERT_TRUE((*stalled)->write(Bytes{9}));
    m_clock.advance(kUploadLockLeaseS);
    {
        auto taker = begin(m_b, record.upload_id, 0);
        ASSERT_TRUE(taker) << taker.error().message;
        ASSERT_TRUE((*taker)->write(Bytes{1, 2}));
        ASSERT_TRUE((*taker)->finish());
    }
    const auto late = (*stalled)->write(Bytes{9});
    ASSERT_FALSE(late);
    EXPECT_EQ(late.error().code, UploadError::locked);
    stalled->reset();
    EXPECT_EQ(m_a.uploads->status(record.upload_id)->offset_bytes, 2u);
}

}  // namespace
}  // namespace satload::files
