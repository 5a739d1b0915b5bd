// The upload rules below HTTP, over the real local stores: locking, recovery of a completion
// cut off by a crash, and the write path's refusals.
#include "files/upload_service.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "crypto/primitives.h"
#include "instrumented_blob_store.h"
#include "store/local_blob_store.h"
#include "store/sqlite_meta_store.h"

namespace satload::files {
namespace {

class UploadServiceTest : public ::testing::Test {
protected:
    void SetUp() override {
        const char* base = std::getenv("SATLOAD_TEST_TMP");
        m_dir = std::filesystem::path(base ? base : std::filesystem::temp_directory_path().string()) /
                ("files-" + std::to_string(::getpid()) + "-" + std::to_string(std::random_device{}()));
        std::filesystem::create_directories(m_dir);
        m_blobs = std::move(*store::LocalBlobStore::open(m_dir / "blobs"));
        m_meta = std::move(*store::SqliteMetaStore::open(m_dir / "meta.sqlite"));
        m_service = std::make_unique<UploadService>(*m_blobs, *m_meta, m_clock, crypto::random_bytes,
                                                    UploadLimits{});
    }
    void TearDown() override {
        m_service.reset();
        m_meta.reset();
        m_blobs.reset();
        std::filesystem::remove_all(m_dir);
    }
    store::UploadRecord create(std::uint64_t length) {
        CreateUpload request;
        request.length_bytes = length;
        auto created = m_service->create(request);
        EXPECT_TRUE(created);
        return *created;
    }

    std::filesystem::path m_dir;
    ManualClock m_clock{1'700'000'000};
    std::unique_ptr<store::LocalBlobStore> m_blobs;
    std::unique_ptr<store::SqliteMetaStore> m_meta;
    std::unique_ptr<UploadService> m_service;
};

// Only one writer at a time per upload; the lock is released when the writer ends.
TEST_F(UploadServiceTest, OneWriterAtATime) {
    const auto record = create(10);
    auto first = m_service->begin_write(record.upload_id, 0, 3, std::nullopt, std::nullopt);
    ASSERT_TRUE(first);
    auto second = m_service->begin_write(record.upload_id, 0, 3, std::nullopt, std::nullopt);
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error().code, UploadError::locked);
    EXPECT_EQ(m_service->writes_in_progress(), 1u);
    const Bytes data = {1, 2, 3};
    ASSERT_TRUE((*first)->write(data));
    ASSERT_TRUE((*first)->finish());
    first->reset();
    EXPECT_EQ(m_service->writes_in_progress(), 0u);
    EXPECT_TRUE(m_service->begin_write(record.upload_id, 3, 3, std::nullopt, std::nullopt));
}

// A crash after the last bytes were synced and recorded but before the file was recorded:
// recover() completes the upload into a file at start-up.
TEST_F(UploadServiceTest, RecoverCompletesAFullyWrittenUpload) {
    const auto record = create(4);
    auto appender = m_blobs->open_append(record.upload_id, 0);
    ASSERT_TRUE(appender);
    const Bytes data = {9, 8, 7, 6};
    ASSERT_TRUE((*appender)->write(data));
    ASSERT_TRUE((*appender)->sync());
    appender->reset();
    ASSERT_TRUE(m_meta->set_upload_offset(record.upload_id, 4));
    EXPECT_EQ(m_service->recover(), 1u);
    const auto status = m_service->status(record.upload_id);
    ASSERT_TRUE(status);
    EXPECT_TRUE(status->complete);
    const auto file = m_meta->get_file(record.file_id);
    ASSERT_TRUE(file && *file);
    EXPECT_EQ((*file)->size_bytes, 4u);
    EXPECT_EQ(m_service->recover(), 0u);  // nothing left to do
}

// The same, when the crash came after the blob's rename: the blob in place is adopted.
TEST_F(UploadServiceTest, RecoverAdoptsABlobAlreadyRenamed) {
    const auto record = create(3);
    auto appender = m_blobs->open_append(record.upload_id, 0);
    const Bytes data = {1, 2, 3};
    ASSERT_TRUE((*appender)->write(data));
    ASSERT_TRUE((*appender)->sync());
    appender->reset();
    ASSERT_TRUE(m_meta->set_upload_offset(record.upload_id, 3));
    ASSERT_TRUE(m_blobs->commit_partial(record.upload_id, record.file_id));
    EXPECT_EQ(m_service->recover(), 1u);
    const auto file = m_meta->get_file(record.file_id);
    ASSERT_TRUE(file && *file);
    EXPECT_EQ((*file)->sha256_hex, hex_encode(crypto::sha256(data)));
}

// A write refused for its length keeps nothing: the next writer starts at the old offset.
TEST_F(UploadServiceTest, RefusedWriteKeepsNothing) {
    const auto record = create(4);
    auto writer = m_service->begin_write(record.upload_id, 0, std::nullopt, std::nullopt, std::nullopt);
    ASSERT_TRUE(writer);
    const Bytes data = {1, 2, 3, 4, 5};
    const auto written = (*writer)->write(data);
    ASSERT_FALSE(written);
    EXPECT_EQ(written.error().code, UploadError::exceeds_length);
    writer->reset();
    EXPECT_EQ(m_service->status(record.upload_id)->offset_bytes, 0u);
}

// A store write that fails mid-PATCH keeps what the store already holds, as a cut does: the
// bytes written before it are synced and recorded, the PATCH reports the failure, and the
// client resumes from there.
TEST_F(UploadServiceTest, StoreWriteFailureKeepsWhatWasWritten) {
    testing::InstrumentedBlobStore blobs(*m_blobs);
    UploadService service(blobs, *m_meta, m_clock, crypto::random_bytes, UploadLimits{});
    CreateUpload request;
    request.length_bytes = 6;
    auto record = service.create(request);
    ASSERT_TRUE(record);
    const Bytes data = {1, 2, 3, 4, 5, 6};
    {
        auto writer = service.begin_write(record->upload_id, 0, std::nullopt, std::nullopt, std::nullopt);
        ASSERT_TRUE(writer);
        blobs.fail_writes_after(1);
        ASSERT_TRUE((*writer)->write(ByteSpan(data).first(2)));
        const auto failed = (*writer)->write(ByteSpan(data).subspan(2, 2));
        ASSERT_FALSE(failed);
        EXPECT_EQ(failed.error().code, UploadError::storage);
    }
    EXPECT_EQ(blobs.syncs(), 1);
    EXPECT_EQ(service.status(record->upload_id)->offset_bytes, 2u);
    blobs.fail_writes_after(-1);
    auto resumed = service.begin_write(record->upload_id, 2, std::nullopt, std::nullopt, std::nullopt);
    ASSERT_TRUE(resumed) << resumed.error().message;
    ASSERT_TRUE((*resumed)->write(ByteSpan(data).subspan(2)));
    const auto done = (*resumed)->finish();
    ASSERT_TRUE(done) << done.error().message;
    EXPECT_TRUE(done->complete);
    const auto file = m_meta->get_file(record->file_id);
    ASSERT_TRUE(file && *file);
    EXPECT_EQ((*file)->sha256_hex, hex_encode(crypto::sha256(data)));
}

// Every upload's partial is created for its file id (a store may then write it where the blob
// will be), the final upload of a concatenation's too, except the parts of a concatenation,
// which never become blobs of their own. Removing an upload deletes its record before its
// partial (a commit still running elsewhere then cannot record the file).
TEST_F(UploadServiceTest, PartialsAreCreatedForTheirFileAndRemovedAfterTheirRecord) {
    testing::InstrumentedBlobStore blobs(*m_blobs);
    UploadService service(blobs, *m_meta, m_clock, crypto::random_bytes, UploadLimits{});
    CreateUpload plain;
    plain.length_bytes = 4;
    auto whole = service.create(plain);
    ASSERT_TRUE(whole) << whole.error().message;
    ASSERT_EQ(blobs.creations().size(), 1U);
    EXPECT_EQ(blobs.creations()[0], std::make_pair(whole->upload_id, whole->file_id));

    std::vector<std::string> parts;
    for (const Bytes& bytes : {Bytes{1, 2}, Bytes{3}}) {
        CreateUpload part;
        part.length_bytes = bytes.size();
        part.partial = true;
        auto created = service.create(part);
        ASSERT_TRUE(created) << created.error().message;
        EXPECT_EQ(blobs.creations().back(), std::make_pair(created->upload_id, std::string()));
        auto writer =
            service.begin_write(created->upload_id, 0, bytes.size(), std::nullopt, std::nullopt);
        ASSERT_TRUE(writer) << writer.error().message;
        ASSERT_TRUE((*writer)->write(bytes));
        ASSERT_TRUE((*writer)->finish());
        parts.push_back(created->upload_id);
    }
    CreateUpload final_upload;
    final_upload.part_upload_ids = parts;
    auto joined = service.create(final_upload);
    ASSERT_TRUE(joined) << joined.error().message;
    EXPECT_TRUE(joined->complete);
    ASSERT_EQ(blobs.creations().size(), 4U);
    EXPECT_EQ(blobs.creations()[3], std::make_pair(joined->upload_id, joined->file_id));
    const auto file = m_meta->get_file(joined->file_id);
    ASSERT_TRUE(file && *file);
    EXPECT_EQ((*file)->sha256_hex, hex_encode(crypto::sha256(Bytes{1, 2, 3})));

    int removals = 0;
    blobs.on_remove_partial([&](std::string_view id) {
        ++removals;
        EXPECT_EQ(id, whole->upload_id);
        auto record = m_meta->get_upload(std::string(id));
        ASSERT_TRUE(record);
        EXPECT_FALSE(record->has_value()) << "the record must be gone before the partial";
    });
    ASSERT_TRUE(service.terminate(whole->upload_id));
    EXPECT_EQ(removals, 1);
}

// expire() asks the blob store to sweep crash leftovers at once, then at most every
// kBlobSweepIntervalS, each time with a cut-off an upload's lifetime plus the margin ago: no
// live upload is that old.
TEST_F(UploadServiceTest, ExpiryAlsoSweepsTheBlobStoreHourlyPastAnyLiveUpload) {
    testing::InstrumentedBlobStore blobs(*m_blobs);
    UploadLimits limits;
    limits.upload_expiry_s = 7 * 24 * 3600;
    UploadService service(blobs, *m_meta, m_clock, crypto::random_bytes, limits);
    const auto cutoff_at = [&](std::int64_t now_s) {
        return std::chrono::system_clock::time_point(
            std::chrono::seconds(now_s - limits.upload_expiry_s - kBlobSweepMarginS));
    };
    service.expire();
    ASSERT_EQ(blobs.sweeps().size(), 1U);
    EXPECT_EQ(blobs.sweeps()[0], cutoff_at(m_clock.now_s()));
    m_clock.advance(kBlobSweepIntervalS - 1);
    service.expire();
    EXPECT_EQ(blobs.sweeps().size(), 1U);
    m_clock.advance(1);
    service.expire();
    ASSERT_EQ(blobs.sweeps().size(), 2U);
    EXPECT_EQ(blobs.sweeps()[1], cutoff_at(m_clock.now_s()));
}

// Appenders kept between PATCHes (where the store says they are worth keeping) are bounded:
// at most kMaxKeptAppenders, the least recently kept dropped first; none past
// kKeptAppenderIdleS (the expiry sweep drops them); and a terminated upload's goes with it.
TEST_F(UploadServiceTest, KeptAppendersAreBounded) {
    testing::InstrumentedBlobStore blobs(*m_blobs);
    blobs.set_worth_keeping(true);
    UploadService service(blobs, *m_meta, m_clock, crypto::random_bytes, UploadLimits{});
    std::vector<std::string> ids;
    auto patch = [&](const std::string& id, std::uint64_t at) {
        auto writer = service.begin_write(id, at, std::nullopt, std::nullopt, std::nullopt);
        ASSERT_TRUE(writer) << writer.error().message;
        ASSERT_TRUE((*writer)->write(Bytes{7}));
        ASSERT_TRUE((*writer)->finish());
    };
    for (std::size_t i = 0; i <= kMaxKeptAppenders; ++i) {
        CreateUpload request;
        request.length_bytes = 4;
        auto record = service.create(request);
        ASSERT_TRUE(record);
        ids.push_back(record->upload_id);
        patch(ids.back(), 0);
    }
    EXPECT_EQ(service.kept_appenders(), kMaxKeptAppenders);
    int opens = blobs.opens();
    patch(ids.back(), 1);  // kept
    EXPECT_EQ(blobs.opens(), opens);
    patch(ids.front(), 1);  // the first one kept was dropped for the last (and now ids[1] is)
    EXPECT_EQ(blobs.opens(), opens + 1);
    ASSERT_TRUE(service.terminate(ids.back()));
    EXPECT_EQ(service.kept_appenders(), kMaxKeptAppenders - 1);
    m_clock.advance(kKeptAppenderIdleS);
    patch(ids[2], 1);  // idle for exactly the limit: still kept
    EXPECT_EQ(blobs.opens(), opens + 1);
    m_clock.advance(1);
    opens = blobs.opens();
    patch(ids[3], 1);  // idle past it: opened again
    EXPECT_EQ(blobs.opens(), opens + 1);
    m_clock.advance(kKeptAppenderIdleS + 1);
    service.expire();
    EXPECT_EQ(service.kept_appenders(), 0u);
    // Nothing is kept where the store does not say it is worth it (the local store).
    blobs.set_worth_keeping(false);
    patch(ids[4], 1);
    EXPECT_EQ(service.kept_appenders(), 0u);
    const auto status = service.status(ids[4]);
    ASSERT_TRUE(status);
    EXPECT_EQ(status->offset_bytes, 2u);
}

// Deferred length: the first PATCH that names the length fixes it; a different one is refused.
TEST_F(UploadServiceTest, DeferredLengthIsSetOnce) {
    CreateUpload request;
    auto created = m_service->create(request);
    ASSERT_TRUE(created);
    EXPECT_FALSE(created->length_bytes);
    auto writer = m_service->begin_write(created->upload_id, 0, 2, 2, std::nullopt);
    ASSERT_TRUE(writer);
    const Bytes data = {1, 2};
    ASSERT_TRUE((*writer)->write(data));
    const auto done = (*writer)->finish();
    ASSERT_TRUE(done);
    EXPECT_TRUE(done->complete);
}

}  // namespace
}  // namespace satload::files
