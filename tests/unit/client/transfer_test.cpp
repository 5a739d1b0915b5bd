// Pins down the whole upload and download paths against an in-process tus/range server:
// round trips of many sizes, parallel partial uploads joined by concatenation, a checksum on
// every PATCH, resumption of a cut upload and of a cut download without re-sending what the
// other side already had, and refusal of tampered, truncated, changed or clashing downloads
// without ever leaving a target file behind.
#include <gtest/gtest.h>

#include <openssl/evp.h>
#include <sys/stat.h>

#include "client/download.h"
#include "client/fake_server.h"
#include "client/metadata.h"
#include "client/test_util.h"
#include "client/upload.h"
#include "client/upload_state.h"
#include "crypto/keys.h"
#include "crypto/primitives.h"

namespace satload::client {
namespace {

namespace fs = std::filesystem;
namespace ece = crypto::ece;
using testing::FakeServer;

// Small records and parts so that small files exercise many records, parts and chunks.
constexpr std::uint32_t kRecordSize = 1024;  // 1007 plaintext bytes per record

// AES-128-GCM of one RFC 8188 record (padded plaintext given, delimiter included) with the
// key and nonce schedule of RFC 8188 section 2.2 and 2.3.
Bytes seal_record(const ece::Key& ikm, const ece::Salt& salt, std::uint64_t index,
                  const Bytes& padded) {
    static constexpr std::string_view kCekInfo{"Content-Encoding: aes128gcm\0", 28};
    static constexpr std::string_view kNonceInfo{"Content-Encoding: nonce\0", 24};
    std::array<std::uint8_t, 16> cek{};
    std::array<std::uint8_t, 12> nonce{};
    crypto::hkdf_sha256(ikm, salt, as_bytes(kCekInfo), cek);
    crypto::hkdf_sha256(ikm, salt, as_bytes(kNonceInfo), nonce);
    for (std::size_t i = 0; i < 8; ++i) nonce[11 - i] ^= static_cast<std::uint8_t>(index >> (8 * i));
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    Bytes out(padded.size() + 16);
    int len = 0;
    EXPECT_EQ(EVP_EncryptInit_ex(ctx, EVP_aes_128_gcm(), nullptr, cek.data(), nonce.data()), 1);
    EXPECT_EQ(EVP_EncryptUpdate(ctx, out.data(), &len, padded.data(), static_cast<int>(padded.size())), 1);
    EXPECT_EQ(EVP_EncryptFinal_ex(ctx, out.data() + len, &len), 1);
    EXPECT_EQ(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, out.data() + padded.size()), 1);
    EVP_CIPHER_CTX_free(ctx);
    return out;
}

UploadOptions upload_options(const FakeServer& server, const fs::path& home) {
    UploadOptions o;
    o.server = *parse_server_url(server.base_url());
    o.state_dir = home;
    o.record_size = kRecordSize;
    o.min_part_bytes = 16 * 1024;
    o.chunk_bytes = 8 * 1024;
    o.parallel_parts = 4;
    o.max_attempts = 3;
    o.retry_delay_ms = std::chrono::milliseconds(1);
    o.http.io_timeout_ms = std::chrono::milliseconds(10'000);
    return o;
}

DownloadOptions download_options(const fs::path& dir) {
    DownloadOptions o;
    o.directory = dir;
    o.parallel = 4;
    o.segment_bytes = 4 * kRecordSize;
    o.max_attempts = 3;
    o.retry_delay_ms = std::chrono::milliseconds(1);
    return o;
}

struct Fixture : ::testing::Test {
    testing::TempDir tmp;
    FakeServer server;
    fs::path home = tmp.path() / "home";
    fs::path out = tmp.path() / "out";
    void SetUp() override { fs::create_directories(out); }

    fs::path make_file(const std::string& name, std::size_t size, std::uint32_t seed) {
        const fs::path p = tmp.path() / name;
        testing::write_bytes(p, testing::pattern_bytes(size, seed));
        return p;
    }
    std::size_t files_in(const fs::path& dir) {
        std::size_t n = 0;
        for (const auto& e : fs::directory_iterator(dir)) {
            (void)e;
            ++n;
        }
        return n;
    }
};

// Files from empty to many records round-trip: the downloaded bytes, name and size equal the
// source, the server stored exactly ciphertext of the expected size, and no state is left.
TEST_F(Fixture, RoundTripsFilesOfManySizes) {
    for (const std::size_t size : {0u, 1u, 1006u, 1007u, 1008u, 20'000u, 100'000u}) {
        const std::string name = "file-" + std::to_string(size) + ".txt";
        const fs::path src = make_file(name, size, static_cast<std::uint32_t>(size));
        auto up = upload_file(src, upload_options(server, home));
        ASSERT_TRUE(up) << size << ": " << up.error().message;
        EXPECT_FALSE(up->resumed);
        const ece::Layout layout{ece::kHeaderBaseBytes, kRecordSize};
        EXPECT_EQ(up->body_bytes, layout.ciphertext_size(size));
        const auto stored = server.file(up->link.file_id);
        ASSERT_TRUE(stored);
        EXPECT_EQ(stored->blob.size(), up->body_bytes);

        // The link the CLI would print parses back to the same file and secret.
        auto link = parse_link(format_link(up->link));
        ASSERT_TRUE(link);
        auto down = download_file(*link, download_options(out));
        ASSERT_TRUE(down) << size << ": " << down.error().message;
        EXPECT_EQ(down->path, out / name);
        EXPECT_EQ(down->metadata.name, name);
        EXPECT_EQ(down->metadata.size_bytes, size);
        EXPECT_EQ(down->metadata.type, "text/plain");
        EXPECT_EQ(testing::read_bytes(down->path), testing::read_bytes(src));
        EXPECT_FALSE(fs::exists(part_path_for(down->path)));
        EXPECT_FALSE(fs::exists(state_path_for(down->path)));
    }
    EXPECT_EQ(files_in(home / "uploads"), 0u);
}

// A larger file goes up as 4 partial uploads sent at the same time, joined by one final
// POST; every PATCH carried a checksum the server verified, and no chunk exceeded the limit.
TEST_F(Fixture, UploadsPartsInParallelWithChecksums) {
    server.patch_delay_ms = 20;  // hold PATCHes open long enough to overlap
    const fs::path src = make_file("big.bin", 200'000, 7);
    auto up = upload_file(src, upload_options(server, home));
    ASSERT_TRUE(up) << up.error().message;
    EXPECT_EQ(up->parts, 4u);
    EXPECT_EQ(server.partial_creations, 4u);
    EXPECT_EQ(server.final_creations, 1u);
    EXPECT_EQ(server.plain_creations, 0u);
    EXPECT_GE(server.max_patches_in_flight, 2);
    EXPECT_EQ(server.checksum_headers, server.patch_requests);
    EXPECT_EQ(server.checksum_mismatches, 0u);
    EXPECT_EQ(server.patch_bytes_received, up->body_bytes);  // nothing sent twice
    // ceil(part / 8 KiB) PATCHes per part.
    EXPECT_LE(server.patch_requests, up->body_bytes / (8 * 1024) + 4);
    auto down = download_file(up->link, download_options(out));
    ASSERT_TRUE(down) << down.error().message;
    EXPECT_EQ(testing::read_bytes(down->path), testing::read_bytes(src));
}

// The stored blob is a plain RFC 8188 body under the content key derived from the link's
// secret: the whole-buffer decoder decrypts it to the source, and the metadata is the
// encrypted JSON under the metadata key.
TEST_F(Fixture, StoresAStandardBodyUnderTheLinksKeys) {
    const fs::path src = make_file("plain.txt", 30'000, 3);
    auto up = upload_file(src, upload_options(server, home));
    ASSERT_TRUE(up) << up.error().message;
    const auto stored = server.file(up->link.file_id);
    ASSERT_TRUE(stored);
    const auto keys = crypto::derive_file_keys(up->link.secret);
    auto plain = ece::decrypt(keys.content_ikm, stored->blob);
    ASSERT_TRUE(plain);
    EXPECT_EQ(*plain, testing::read_bytes(src));
    auto meta = decrypt_metadata(stored->meta, keys.metadata_ikm);
    ASSERT_TRUE(meta);
    EXPECT_EQ(meta->name, "plain.txt");
    EXPECT_EQ(meta->size_bytes, 30'000u);
    const std::string blob_text(as_chars(stored->blob));
    EXPECT_EQ(blob_text.find("plain.txt"), std::string::npos);
}

// A chunk damaged in transit (checksum 460) and a connection cut mid-PATCH are both absorbed
// within one run: the client asks HEAD for the offset and continues from there.
TEST_F(Fixture, RecoversFromDamagedChunksAndCutConnections) {
    server.corrupt_next_patches = 1;
    server.cut_next_patch_at = 3000;
    const fs::path src = make_file("flaky.bin", 60'000, 11);
    auto up = upload_file(src, upload_options(server, home));
    ASSERT_TRUE(up) << up.error().message;
    EXPECT_EQ(server.checksum_mismatches, 1u);
    EXPECT_GE(server.head_requests, 2u);
    const auto stored = server.file(up->link.file_id);
    ASSERT_TRUE(stored);
    const auto keys = crypto::derive_file_keys(up->link.secret);
    auto plain = ece::decrypt(keys.content_ikm, stored->blob);
    ASSERT_TRUE(plain);
    EXPECT_EQ(*plain, testing::read_bytes(src));
}

// A server that dies half way fails the run and keeps the state (secret, salt, part URLs);
// the same call afterwards resumes: it sends exactly the bytes the server lacks, and the
// result is the same file.
TEST_F(Fixture, ResumesACutUploadWithoutResending) {
    const fs::path src = make_file("resume.bin", 150'000, 5);
    server.store_limit_bytes = 70'000;
    auto first = upload_file(src, upload_options(server, home));
    ASSERT_FALSE(first);
    EXPECT_EQ(first.error().code, ErrorCode::network);
    const std::uint64_t stored_first = server.patch_bytes_stored;
    EXPECT_EQ(stored_first, 70'000u);
    ASSERT_EQ(files_in(home / "uploads"), 2u);  // state and its lock
    const auto state_path = upload_state_path(home, fs::canonical(src).string());
    auto state = load_upload_state(state_path);
    ASSERT_TRUE(state && state->has_value());
    EXPECT_EQ((*state)->parts.size(), 4u);
    for (const auto& p : (*state)->parts) EXPECT_FALSE(p.url.empty());

    server.down = false;
    server.store_limit_bytes = -1;
    const std::uint64_t received_before = server.patch_bytes_received;
    auto second = upload_file(src, upload_options(server, home));
    ASSERT_TRUE(second) << second.error().message;
    EXPECT_TRUE(second->resumed);
    EXPECT_EQ(second->already_sent_bytes, stored_first);
    EXPECT_EQ(server.patch_bytes_received - received_before, second->body_bytes - stored_first);
    EXPECT_EQ(server.partial_creations, 4u);  // no new parts
    EXPECT_EQ(files_in(home / "uploads"), 0u);
    auto down = download_file(second->link, download_options(out));
    ASSERT_TRUE(down) << down.error().message;
    EXPECT_EQ(testing::read_bytes(down->path), testing::read_bytes(src));
}

// A state whose parts the server no longer knows (expired) leads to a fresh upload.
TEST_F(Fixture, StartsOverWhenThePartsAreGone) {
    const fs::path src = make_file("gone.bin", 50'000, 6);
    server.store_limit_bytes = 10'000;
    ASSERT_FALSE(upload_file(src, upload_options(server, home)));
    FakeServer other;  // same state, a server that never saw those uploads
    auto options = upload_options(other, home);
    // Point the state at the new server so it is a match apart from the missing parts.
    const auto state_path = upload_state_path(home, fs::canonical(src).string());
    auto state = load_upload_state(state_path);
    ASSERT_TRUE(state && state->has_value());
    UploadState moved = **state;
    moved.server = options.server.text();
    for (auto& p : moved.parts) {
        if (!p.url.empty()) p.url = other.base_url() + p.url.substr(p.url.find("/files/"));
    }
    ASSERT_TRUE(save_upload_state(state_path, moved));
    std::vector<std::string> notices;
    options.notice = [&](std::string_view n) { notices.emplace_back(n); };
    auto up = upload_file(src, options);
    ASSERT_TRUE(up) << up.error().message;
    EXPECT_FALSE(up->resumed);
    ASSERT_FALSE(notices.empty());
    EXPECT_NE(notices.back().find("starting over"), std::string::npos);
    EXPECT_NE(up->link.secret, moved.secret);  // a new key: nothing mixes with the old one
    ASSERT_TRUE(other.file(up->link.file_id));
}

// A source that changes between runs does not resume with stale bytes.
TEST_F(Fixture, DoesNotResumeForAChangedFile) {
    const fs::path src = make_file("changing.bin", 50'000, 8);
    server.store_limit_bytes = 10'000;
    ASSERT_FALSE(upload_file(src, upload_options(server, home)));
    server.down = false;
    server.store_limit_bytes = -1;
    testing::write_bytes(src, testing::pattern_bytes(50'001, 9));
    auto up = upload_file(src, upload_options(server, home));
    ASSERT_TRUE(up) << up.error().message;
    EXPECT_FALSE(up->resumed);
    auto down = download_file(up->link, download_options(out));
    ASSERT_TRUE(down) << down.error().message;
    EXPECT_EQ(testing::read_bytes(down->path), testing::read_bytes(src));
}

// A download cut half way keeps its temporary file and state; the rerun fetches only what
// is missing and produces the same bytes.
TEST_F(Fixture, ResumesACutDownload) {
    const fs::path src = make_file("movie.mkv", 120'000, 12);
    auto up = upload_file(src, upload_options(server, home));
    ASSERT_TRUE(up) << up.error().message;
    auto options = download_options(out);
    options.parallel = 1;
    options.max_attempts = 1;
    options.segment_bytes = 2 * kRecordSize;
    // The header range and three segments arrive, the fourth segment is cut mid-body.
    server.cut_range_index = server.range_requests + 5;
    server.cut_range_bytes = 1500;
    auto first = download_file(up->link, options);
    ASSERT_FALSE(first);
    EXPECT_EQ(first.error().code, ErrorCode::network);
    EXPECT_NE(first.error().message.find("run the same command again"), std::string::npos);
    const fs::path target = out / "movie.mkv";
    EXPECT_FALSE(fs::exists(target));
    ASSERT_TRUE(fs::exists(part_path_for(target)));
    ASSERT_TRUE(fs::exists(state_path_for(target)));

    const std::uint64_t sent_before = server.range_bytes_sent;
    options.parallel = 4;
    options.max_attempts = 3;
    auto second = download_file(up->link, options);
    ASSERT_TRUE(second) << second.error().message;
    EXPECT_TRUE(second->resumed);
    // The header range again, then everything but the three finished two-record segments.
    const std::uint64_t header_range = ece::kHeaderBaseBytes + ece::kMaxKeyIdBytes;
    EXPECT_EQ(server.range_bytes_sent - sent_before,
              header_range + up->body_bytes - ece::kHeaderBaseBytes - 6 * kRecordSize);
    EXPECT_EQ(testing::read_bytes(target), testing::read_bytes(src));
    EXPECT_FALSE(fs::exists(part_path_for(target)));
    EXPECT_FALSE(fs::exists(state_path_for(target)));
}

// One flipped ciphertext byte anywhere (first record, middle, last record) makes get fail
// with an authentication error and leaves neither the target nor the temporary file.
TEST_F(Fixture, RefusesATamperedFileAndLeavesNothing) {
    const fs::path src = make_file("secret.pdf", 30'000, 13);
    auto up = upload_file(src, upload_options(server, home));
    ASSERT_TRUE(up) << up.error().message;
    const std::uint64_t offsets[] = {ece::kHeaderBaseBytes + 5, up->body_bytes / 2,
                                     up->body_bytes - 1};
    for (const std::uint64_t at : offsets) {
        server.flip_byte(up->link.file_id, at);
        auto down = download_file(up->link, download_options(out));
        ASSERT_FALSE(down) << at;
        EXPECT_EQ(down.error().code, ErrorCode::authentication_failed) << down.error().message;
        EXPECT_EQ(files_in(out), 0u) << at;
        server.flip_byte(up->link.file_id, at);  // restore
    }
    auto down = download_file(up->link, download_options(out));
    ASSERT_TRUE(down) << down.error().message;
}

// A wrong secret fails on the metadata before anything is written.
TEST_F(Fixture, RefusesAWrongSecret) {
    const fs::path src = make_file("a.txt", 100, 1);
    auto up = upload_file(src, upload_options(server, home));
    ASSERT_TRUE(up);
    Link wrong = up->link;
    wrong.secret[0] ^= 1;
    auto down = download_file(wrong, download_options(out));
    ASSERT_FALSE(down);
    EXPECT_EQ(down.error().code, ErrorCode::authentication_failed);
    EXPECT_EQ(files_in(out), 0u);
}

// Crafted blobs: a body whose last record lacks the last delimiter is truncated; a body that
// does not match the size in its metadata is refused before download; a hostile name lands
// as a safe base name inside the output directory.
TEST_F(Fixture, RefusesTruncatedAndMismatchedBlobsAndTamesNames) {
    crypto::FileSecret secret;
    secret.fill(0x42);
    const auto keys = crypto::derive_file_keys(secret);
    ece::Header header;
    header.salt.fill(1);
    header.record_size = kRecordSize;
    const Bytes plain = testing::pattern_bytes(1500, 2);
    const auto link_for = [&](const std::string& id) {
        Link link;
        link.server = *parse_server_url(server.base_url());
        link.file_id = id;
        link.secret = secret;
        return link;
    };

    // A full first record, then a short one that claims more records follow: the end of a
    // cut body. Our encoder refuses to write that, so it is built from the RFC 8188 steps.
    Bytes truncated = ece::serialize_header(header);
    {
        ece::Encoder enc(keys.content_ikm, header);
        Bytes rec(kRecordSize);
        const std::size_t n = enc.encrypt_record(0, ByteSpan(plain).first(1007), false, rec);
        truncated.insert(truncated.end(), rec.begin(), rec.begin() + static_cast<std::ptrdiff_t>(n));
        Bytes tail(plain.begin() + 1007, plain.end());
        tail.push_back(ece::kDelimiterMore);
        const Bytes sealed = seal_record(keys.content_ikm, header.salt, 1, tail);
        truncated.insert(truncated.end(), sealed.begin(), sealed.end());
    }
    const std::string t_id = server.add_file(
        truncated, encrypt_metadata({"t.bin", plain.size(), "x/y"}, keys.metadata_ikm));
    auto down = download_file(link_for(t_id), download_options(out));
    ASSERT_FALSE(down);
    EXPECT_EQ(down.error().code, ErrorCode::truncated) << down.error().message;
    EXPECT_EQ(files_in(out), 0u);

    const Bytes body = ece::encrypt(keys.content_ikm, plain, header);
    const std::string m_id = server.add_file(
        body, encrypt_metadata({"m.bin", plain.size() + 1, "x/y"}, keys.metadata_ikm));
    down = download_file(link_for(m_id), download_options(out));
    ASSERT_FALSE(down);
    EXPECT_EQ(down.error().code, ErrorCode::size_mismatch);
    EXPECT_EQ(files_in(out), 0u);

    const std::string h_id = server.add_file(
        body, encrypt_metadata({"../../.profile", plain.size(), "x/y"}, keys.metadata_ikm));
    down = download_file(link_for(h_id), download_options(out));
    ASSERT_TRUE(down) << down.error().message;
    EXPECT_EQ(down->path, out / "profile");
    EXPECT_EQ(testing::read_bytes(out / "profile"), plain);
}

// Never overwrite without --force: the existing file is untouched; with force it is replaced.
// -o may name a file or a directory.
TEST_F(Fixture, HonoursExistingFilesAndOutputPaths) {
    const fs::path src = make_file("doc.txt", 5000, 21);
    auto up = upload_file(src, upload_options(server, home));
    ASSERT_TRUE(up);
    const Bytes old = testing::pattern_bytes(10, 99);
    testing::write_bytes(out / "doc.txt", old);
    auto down = download_file(up->link, download_options(out));
    ASSERT_FALSE(down);
    EXPECT_EQ(down.error().code, ErrorCode::target_exists);
    EXPECT_EQ(testing::read_bytes(out / "doc.txt"), old);
    EXPECT_EQ(files_in(out), 1u);

    auto forced = download_options(out);
    forced.force = true;
    down = download_file(up->link, forced);
    ASSERT_TRUE(down) << down.error().message;
    EXPECT_EQ(testing::read_bytes(out / "doc.txt"), testing::read_bytes(src));

    auto named = download_options(out);
    named.output = out / "renamed.bin";
    down = download_file(up->link, named);
    ASSERT_TRUE(down) << down.error().message;
    EXPECT_EQ(testing::read_bytes(out / "renamed.bin"), testing::read_bytes(src));

    fs::create_directories(out / "sub");
    auto into_dir = download_options(tmp.path());
    into_dir.output = out / "sub";
    down = download_file(up->link, into_dir);
    ASSERT_TRUE(down) << down.error().message;
    EXPECT_EQ(down->path, out / "sub" / "doc.txt");
}

// A blob that changes between ranged requests (ETag, If-Range answered with 200) stops the
// download instead of mixing two versions.
TEST_F(Fixture, StopsWhenTheBlobChangesMidway) {
    const fs::path src = make_file("v.bin", 40'000, 31);
    auto up = upload_file(src, upload_options(server, home));
    ASSERT_TRUE(up);
    server.change_etag_after_first_range = true;
    auto options = download_options(out);
    options.parallel = 1;
    auto down = download_file(up->link, options);
    ASSERT_FALSE(down);
    EXPECT_EQ(down.error().code, ErrorCode::remote_changed) << down.error().message;
    EXPECT_EQ(files_in(out), 0u);
}

// Server errors come back as one line built from the problem+json body.
TEST_F(Fixture, ReportsProblemDetails) {
    Link link;
    link.server = *parse_server_url(server.base_url());
    link.file_id = "AAAAAAAAAAAAAAAAAAAAAA";
    auto down = download_file(link, download_options(out));
    ASSERT_FALSE(down);
    EXPECT_EQ(down.error().code, ErrorCode::not_found);
    EXPECT_EQ(down.error().message, "looking up the file failed: HTTP 404: Not found");
}

// Nothing listens: a clear network error naming the server.
TEST_F(Fixture, ReportsAnUnreachableServer) {
    const std::string url = server.base_url();
    auto options = upload_options(server, home);
    options.server = *parse_server_url("http://127.0.0.1:1");
    const fs::path src = make_file("x.bin", 10, 1);
    auto up = upload_file(src, options);
    ASSERT_FALSE(up);
    EXPECT_EQ(up.error().code, ErrorCode::network);
    EXPECT_NE(up.error().message.find("127.0.0.1:1"), std::string::npos) << up.error().message;
}

}  // namespace
}  // namespace satload::client
