// Pins down the local blob store: durable appends, truncation of unacknowledged bytes,
// commit with digest, ranged reads, id validation before any path, removal and scrubbing.
#include "store/local_blob_store.h"

#include "core/checksum.h"

#include <fcntl.h>
#include <fstream>
#include <map>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "core/encoding.h"
#include "crypto/primitives.h"
#include "store_test_util.h"

namespace satload::store {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

std::unique_ptr<LocalBlobStore> open_store(const fs::path& root) {
    auto store = LocalBlobStore::open(root);
    EXPECT_TRUE(store) << (store ? "" : store.error().message);
    return store ? std::move(*store) : nullptr;
}

std::vector<std::uint8_t> read_all(BlobReader& reader) {
    std::vector<std::uint8_t> out(static_cast<std::size_t>(reader.size()));
    std::size_t done = 0;
    while (done < out.size()) {
        auto n = reader.read_at(done, std::span(out).subspan(done));
        EXPECT_TRUE(n);
        if (!n || *n == 0) break;
        done += *n;
    }
    out.resize(done);
    return out;
}

std::vector<std::uint8_t> read_partial(LocalBlobStore& store, const std::string& upload_id) {
    auto reader = store.open_partial(upload_id);
    EXPECT_TRUE(reader);
    return reader ? read_all(**reader) : std::vector<std::uint8_t>{};
}

void append(BlobAppender& appender, const std::vector<std::uint8_t>& data) {
    auto r = appender.write(data);
    ASSERT_TRUE(r) << r.error().message;
}

std::vector<std::uint8_t> concat(std::vector<std::uint8_t> a, const std::vector<std::uint8_t>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

// Every path below `dir` with its size, to show an operation changed nothing on disk.
std::map<std::string, std::uintmax_t> snapshot(const fs::path& dir) {
    std::map<std::string, std::uintmax_t> out;
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
        out[entry.path().string()] = entry.is_regular_file() ? entry.file_size() : 0;
    }
    return out;
}

// Open creates the documented layout: partial/, blobs/ and tmp/ under the root.
TEST(LocalBlobStore, OpenCreatesLayout) {
    TempDir dir;
    const fs::path root = dir.path() / "data" / "blobs-root";
    ASSERT_TRUE(open_store(root));
    EXPECT_TRUE(fs::is_directory(root / "partial"));
    EXPECT_TRUE(fs::is_directory(root / "blobs"));
    EXPECT_TRUE(fs::is_directory(root / "tmp"));
    // Opening an existing store again is fine and keeps what is there.
    fs::path marker = root / "partial" / "marker";
    std::ofstream(marker) << "x";
    ASSERT_TRUE(open_store(root));
    EXPECT_TRUE(fs::exists(marker));
}

// Appends become durable with sync(), which reports the durable size; a new appender (and a
// new store instance, as after a restart) continues from it.
TEST(LocalBlobStore, PartialAppendSyncReopen) {
    TempDir dir;
    auto store = open_store(dir.path());
    ASSERT_TRUE(store);
    const std::string id = testing::make_upload_id(1);
    ASSERT_TRUE(store->create_partial(id));
    EXPECT_TRUE(fs::is_regular_file(dir.path() / "partial" / id));
    EXPECT_EQ(fs::file_size(dir.path() / "partial" / id), 0u);

    const auto a = testing::pseudo_random_bytes(1000, 2);
    const auto b = testing::pseudo_random_bytes(777, 3);
    {
        auto appender = store->open_append(id, 0);
        ASSERT_TRUE(appender) << appender.error().message;
        append(**appender, a);
        EXPECT_EQ((*appender)->size(), a.size());
        auto durable = (*appender)->sync();
        ASSERT_TRUE(durable);
        EXPECT_EQ(*durable, a.size());
    }
    store = open_store(dir.path());  // as after a restart
    ASSERT_TRUE(store);
    {
        auto appender = store->open_append(id, a.size());
        ASSERT_TRUE(appender) << appender.error().message;
        EXPECT_EQ((*appender)->size(), a.size());
        append(**appender, b);
        auto durable = (*appender)->sync();
        ASSERT_TRUE(durable);
        EXPECT_EQ(*durable, a.size() + b.size());
    }
    EXPECT_EQ(read_partial(*store, id), concat(a, b));
}

// Bytes written but never synced (and so never acknowledged) are cut off by open_append at
// the durable offset; the next append lands exactly there.
TEST(LocalBlobStore, OpenAppendTruncatesUnacknowledgedTail) {
    TempDir dir;
    auto store = open_store(dir.path());
    ASSERT_TRUE(store);
    const std::string id = testing::make_upload_id(4);
    ASSERT_TRUE(store->create_partial(id));
    const auto acked = testing::pseudo_random_bytes(4096, 5);
    const auto lost = testing::pseudo_random_bytes(1500, 6);
    const auto resumed = testing::pseudo_random_bytes(300, 7);
    {
        auto appender = store->open_append(id, 0);
        ASSERT_TRUE(appender);
        append(**appender, acked);
        ASSERT_EQ(*(*appender)->sync(), acked.size());
        append(**appender, lost);  // a crash before the sync: never acknowledged
    }
    ASSERT_EQ(fs::file_size(dir.path() / "partial" / id), acked.size() + lost.size());

    auto appender = store->open_append(id, acked.size());
    ASSERT_TRUE(appender) << appender.error().message;
    EXPECT_EQ((*appender)->size(), acked.size());
    EXPECT_EQ(fs::file_size(dir.path() / "partial" / id), acked.size());
    append(**appender, resumed);
    ASSERT_EQ(*(*appender)->sync(), acked.size() + resumed.size());
    EXPECT_EQ(read_partial(*store, id), concat(acked, resumed));
}

// A durable offset beyond the file means acknowledged bytes are gone: refused as corrupt,
// and the file is left as it is.
TEST(LocalBlobStore, OpenAppendRefusesDurableOffsetBeyondFile) {
    TempDir dir;
    auto store = open_store(dir.path());
    ASSERT_TRUE(store);
    const std::string id = testing::make_upload_id(8);
    ASSERT_TRUE(store->create_partial(id));
    auto appender = store->open_append(id, 1);
    ASSERT_FALSE(appender);
    EXPECT_EQ(appender.error().code, StoreError::corrupt);
    EXPECT_EQ(fs::file_size(dir.path() / "partial" / id), 0u);
}

// Creating an existing partial is `exists`; using a missing one is `not_found`.
TEST(LocalBlobStore, CreateAndOpenOutcomes) {
    TempDir dir;
    auto store = open_store(dir.path());
    ASSERT_TRUE(store);
    const std::string id = testing::make_upload_id(9);
    ASSERT_TRUE(store->create_partial(id));
    auto again = store->create_partial(id);
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, StoreError::exists);

    const std::string missing = testing::make_upload_id(10);
    EXPECT_EQ(store->open_append(missing, 0).error().code, StoreError::not_found);
    EXPECT_EQ(store->open_partial(missing).error().code, StoreError::not_found);
    EXPECT_EQ(store->remove_partial(missing).error().code, StoreError::not_found);
    EXPECT_EQ(store->commit_partial(missing, testing::make_file_id(10)).error().code,
              StoreError::not_found);
    EXPECT_EQ(store->open_blob(testing::make_file_id(11)).error().code, StoreError::not_found);
    EXPECT_EQ(store->digest_blob(testing::make_file_id(11)).error().code, StoreError::not_found);
    EXPECT_EQ(store->remove_blob(testing::make_file_id(11)).error().code, StoreError::not_found);
}

// Partial uploads and blobs are private to the server's user.
TEST(LocalBlobStore, FilesAreOwnerOnly) {
    TempDir dir;
    auto store = open_store(dir.path());
    ASSERT_TRUE(store);
    const std::string id = testing::make_upload_id(12);
    ASSERT_TRUE(store->create_partial(id));
    struct stat st {};
    ASSERT_EQ(::stat((dir.path() / "partial" / id).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 077, 0u);
}

// commit_partial returns the SHA-256 of the stored bytes (checked against an independent
// one-shot hash, over more than one 1 MiB read block), moves the partial to
// blobs/<xx>/<file_id>, and leaves no partial behind.
TEST(LocalBlobStore, CommitYieldsSha256AndRemovesPartial) {
    TempDir dir;
    auto store = open_store(dir.path());
    ASSERT_TRUE(store);
    const std::string upload_id = testing::make_upload_id(13);
    const std::string file_id = testing::make_file_id(13);
    const std::size_t size =
        testing::small_tests() ? kBlobReadBlockBytes + 17 : 3 * kBlobReadBlockBytes + 17;
    const auto data = testing::pseudo_random_bytes(size, 14);
    ASSERT_TRUE(store->create_partial(upload_id));
    {
        auto appender = store->open_append(upload_id, 0);
        ASSERT_TRUE(appender);
        append(**appender, data);
        ASSERT_EQ(*(*appender)->sync(), size);
    }
    auto digest = store->commit_partial(upload_id, file_id);
    ASSERT_TRUE(digest) << digest.error().message;
    EXPECT_EQ(digest->sha256_hex, hex_encode(crypto::sha256(data)));
    Xxh3Checksum expected_checksum;
    expected_checksum.update(data);
    EXPECT_EQ(digest->xxh3_hex, expected_checksum.finish_hex());
    EXPECT_EQ(digest->size_bytes, size);

    EXPECT_FALSE(fs::exists(dir.path() / "partial" / upload_id));
    EXPECT_EQ(store->open_partial(upload_id).error().code, StoreError::not_found);
    const fs::path blob = dir.path() / "blobs" / file_id.substr(0, 2) / file_id;
    ASSERT_TRUE(fs::is_regular_file(blob));
    EXPECT_EQ(fs::file_size(blob), size);

    auto reader = store->open_blob(file_id);
    ASSERT_TRUE(reader);
    EXPECT_EQ((*reader)->size(), size);
    EXPECT_EQ(read_all(**reader), data);
    auto again = store->digest_blob(file_id);
    ASSERT_TRUE(again);
    EXPECT_EQ(again->sha256_hex, digest->sha256_hex);
}

// The digest is standard SHA-256: FIPS 180-2 "abc" and the empty message.
TEST(LocalBlobStore, CommitDigestMatchesKnownVectors) {
    TempDir dir;
    auto store = open_store(dir.path());
    ASSERT_TRUE(store);
    const std::pair<std::string, std::string> vectors[] = {
        {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    };
    std::uint32_t seed = 15;
    for (const auto& [text, hex] : vectors) {
        const std::string upload_id = testing::make_upload_id(seed);
        const std::string file_id = testing::make_file_id(seed++);
        ASSERT_TRUE(store->create_partial(upload_id));
        auto appender = store->open_append(upload_id, 0);
        ASSERT_TRUE(appender);
        ASSERT_TRUE((*appender)->write(as_bytes(text)));
        ASSERT_TRUE((*appender)->sync());
        auto digest = store->commit_partial(upload_id, file_id);
        ASSERT_TRUE(digest);
        EXPECT_EQ(digest->sha256_hex, hex);
        EXPECT_EQ(digest->size_bytes, text.size());
    }
}

// A commit onto an existing file id is refused and leaves both the blob and the partial.
TEST(LocalBlobStore, CommitNeverReplacesABlob) {
    TempDir dir;
    auto store = open_store(dir.path());
    ASSERT_TRUE(store);
    const std::string file_id = testing::make_file_id(20);
    const std::string first = testing::make_upload_id(20);
    const std::string second = testing::make_upload_id(21);
    for (const auto& id : {first, second}) {
        ASSERT_TRUE(store->create_partial(id));
        auto appender = store->open_append(id, 0);
        ASSERT_TRUE(appender);
        ASSERT_TRUE((*appender)->write(as_bytes(id)));
        ASSERT_TRUE((*appender)->sync());
    }
    ASSERT_TRUE(store->commit_partial(first, file_id));
    auto clash = store->commit_partial(second, file_id);
    ASSERT_FALSE(clash);
    EXPECT_EQ(clash.error().code, StoreError::exists);
    EXPECT_EQ(read_partial(*store, second), std::vector<std::uint8_t>(second.begin(), second.end()));
    auto reader = store->open_blob(file_id);
    ASSERT_TRUE(reader);
    EXPECT_EQ(read_all(**reader), std::vector<std::uint8_t>(first.begin(), first.end()));
}

// read_at at the first byte, the last byte (a longer buffer gets only what is left), at and
// past the end (0 bytes), and the reader's descriptor serves pread and is closed with it.
TEST(LocalBlobStore, ReadAtEdges) {
    TempDir dir;
    auto store = open_store(dir.path());
    ASSERT_TRUE(store);
    const std::string upload_id = testing::make_upload_id(22);
    const std::string file_id = testing::make_file_id(22);
    const auto data = testing::pseudo_random_bytes(10000, 23);
    ASSERT_TRUE(store->create_partial(upload_id));
    {
        auto appender = store->open_append(upload_id, 0);
        ASSERT_TRUE(appender);
        append(**appender, data);
        ASSERT_TRUE((*appender)->sync());
    }
    ASSERT_TRUE(store->commit_partial(upload_id, file_id));
    auto reader = store->open_blob(file_id);
    ASSERT_TRUE(reader);
    BlobReader& r = **reader;
    ASSERT_EQ(r.size(), data.size());

    std::vector<std::uint8_t> buf(16, 0xee);
    auto n = r.read_at(0, std::span(buf).first(1));
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, 1u);
    EXPECT_EQ(buf[0], data.front());

    n = r.read_at(data.size() - 1, buf);
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, 1u);
    EXPECT_EQ(buf[0], data.back());

    n = r.read_at(data.size() - 5, buf);
    ASSERT_TRUE(n);
    ASSERT_EQ(*n, 5u);
    EXPECT_TRUE(std::equal(buf.begin(), buf.begin() + 5, data.end() - 5));

    n = r.read_at(data.size(), buf);
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, 0u);
    n = r.read_at(data.size() + 12345, buf);
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, 0u);

    const int fd = r.native_fd();
    ASSERT_GE(fd, 0);
    std::uint8_t byte = 0;
    ASSERT_EQ(::pread(fd, &byte, 1, 1234), 1);
    EXPECT_EQ(byte, data[1234]);
    reader->reset();
    errno = 0;
    EXPECT_EQ(::fcntl(fd, F_GETFD), -1);  // closed by the reader's destructor
    EXPECT_EQ(errno, EBADF);
}

// Text that is not a canonical id ('/', '..', wrong length, bad alphabet, non-zero pad bits)
// is refused by every operation before any path is built: nothing on disk changes, inside
// the store or around it.
TEST(LocalBlobStore, RefusesInvalidIdsWithoutTouchingTheFilesystem) {
    TempDir dir;
    const fs::path root = dir.path() / "root";
    auto store = open_store(root);
    ASSERT_TRUE(store);
    const std::string good_upload = testing::make_upload_id(30);
    const std::string good_file = testing::make_file_id(30);
    ASSERT_TRUE(store->create_partial(good_upload));
    const auto before = snapshot(dir.path());

    ASSERT_EQ(good_upload.size(), kUploadIdChars);
    std::string bad_pad_upload = good_upload;
    bad_pad_upload.back() = 'B';  // 43 chars carry 2 pad bits; 'B' sets one
    const std::vector<std::string> bad_uploads = {
        "",
        "../../../../../../../../../../../../../../x",  // 43 chars, escapes upward
        std::string(40, 'A') + "/..",
        std::string(41, 'A') + "..",
        "..",
        good_upload.substr(1),
        good_upload + "A",
        std::string(42, 'A') + "=",
        std::string(42, 'A') + "+",
        bad_pad_upload,
    };
    std::string bad_pad_file = good_file;
    bad_pad_file.back() = 'B';  // 22 chars carry 4 pad bits
    const std::vector<std::string> bad_files = {
        "", "../../../../../../../x", std::string(19, 'A') + "/..", "..",
        good_file.substr(1), good_file + "A", std::string(21, 'A') + "\n", bad_pad_file,
    };
    for (const auto& id : bad_uploads) {
        EXPECT_EQ(store->create_partial(id).error().code, StoreError::not_found) << id;
        EXPECT_EQ(store->open_append(id, 0).error().code, StoreError::not_found) << id;
        EXPECT_EQ(store->open_partial(id).error().code, StoreError::not_found) << id;
        EXPECT_EQ(store->remove_partial(id).error().code, StoreError::not_found) << id;
        EXPECT_EQ(store->commit_partial(id, good_file).error().code, StoreError::not_found) << id;
    }
    for (const auto& id : bad_files) {
        EXPECT_EQ(store->commit_partial(good_upload, id).error().code, StoreError::not_found)
            << id;
        EXPECT_EQ(store->open_blob(id).error().code, StoreError::not_found) << id;
        EXPECT_EQ(store->remove_blob(id).error().code, StoreError::not_found) << id;
        EXPECT_EQ(store->digest_blob(id).error().code, StoreError::not_found) << id;
    }
    EXPECT_EQ(snapshot(dir.path()), before);
    EXPECT_TRUE(fs::exists(root / "partial" / good_upload));
}

// remove_partial and remove_blob delete the file; a second removal is not_found.
TEST(LocalBlobStore, Remove) {
    TempDir dir;
    auto store = open_store(dir.path());
    ASSERT_TRUE(store);
    const std::string a = testing::make_upload_id(40);
    const std::string b = testing::make_upload_id(41);
    const std::string file_id = testing::make_file_id(41);
    ASSERT_TRUE(store->create_partial(a));
    ASSERT_TRUE(store->create_partial(b));
    ASSERT_TRUE(store->commit_partial(b, file_id));

    ASSERT_TRUE(store->remove_partial(a));
    EXPECT_FALSE(fs::exists(dir.path() / "partial" / a));
    EXPECT_EQ(store->remove_partial(a).error().code, StoreError::not_found);

    ASSERT_TRUE(store->remove_blob(file_id));
    EXPECT_FALSE(fs::exists(dir.path() / "blobs" / file_id.substr(0, 2) / file_id));
    EXPECT_EQ(store->open_blob(file_id).error().code, StoreError::not_found);
    EXPECT_EQ(store->remove_blob(file_id).error().code, StoreError::not_found);
}

// The scrub's check: one byte flipped on disk changes digest_blob's result, so it no longer
// matches the digest recorded at commit; flipping it back restores the match.
TEST(LocalBlobStore, DigestBlobDetectsFlippedByte) {
    TempDir dir;
    auto store = open_store(dir.path());
    ASSERT_TRUE(store);
    const std::string upload_id = testing::make_upload_id(50);
    const std::string file_id = testing::make_file_id(50);
    const auto data = testing::pseudo_random_bytes(3 * 65536 + 11, 51);
    ASSERT_TRUE(store->create_partial(upload_id));
    {
        auto appender = store->open_append(upload_id, 0);
        ASSERT_TRUE(appender);
        append(**appender, data);
        ASSERT_TRUE((*appender)->sync());
    }
    auto recorded = store->commit_partial(upload_id, file_id);
    ASSERT_TRUE(recorded);

    const fs::path blob = dir.path() / "blobs" / file_id.substr(0, 2) / file_id;
    const std::streamoff where = 65536 + 7;
    auto flip = [&] {
        std::fstream f(blob, std::ios::in | std::ios::out | std::ios::binary);
        ASSERT_TRUE(f);
        f.seekg(where);
        char c = 0;
        f.get(c);
        f.seekp(where);
        f.put(static_cast<char>(c ^ 0x01));
    };
    flip();
    auto scrubbed = store->digest_blob(file_id);
    ASSERT_TRUE(scrubbed);
    EXPECT_EQ(scrubbed->size_bytes, recorded->size_bytes);
    EXPECT_NE(scrubbed->sha256_hex, recorded->sha256_hex);
    flip();
    scrubbed = store->digest_blob(file_id);
    ASSERT_TRUE(scrubbed);
    EXPECT_EQ(scrubbed->sha256_hex, recorded->sha256_hex);
}

// A partial can be read while it grows (concatenation reads parts this way); the reader
// sees the size at the moment it was opened.
TEST(LocalBlobStore, OpenPartialReadsSnapshotSize) {
    TempDir dir;
    auto store = open_store(dir.path());
    ASSERT_TRUE(store);
    const std::string id = testing::make_upload_id(60);
    ASSERT_TRUE(store->create_partial(id));
    auto appender = store->open_append(id, 0);
    ASSERT_TRUE(appender);
    const auto first = testing::pseudo_random_bytes(100, 61);
    append(**appender, first);
    ASSERT_TRUE((*appender)->sync());
    auto reader = store->open_partial(id);
    ASSERT_TRUE(reader);
    append(**appender, testing::pseudo_random_bytes(50, 62));
    EXPECT_EQ((*reader)->size(), first.size());
    EXPECT_EQ(read_all(**reader), first);
}

}  // namespace
}  // namespace satload::store
