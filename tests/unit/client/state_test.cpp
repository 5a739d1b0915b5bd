// Pins down the resume records: the upload state round-trips through its file (written
// atomically, mode 0600, in a 0700 directory), damaged state is refused, and the download
// state keeps exactly which segments are done.
#include "client/upload_state.h"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include "client/download_state.h"
#include "client/files.h"
#include "client/test_util.h"
#include "client/units.h"

namespace satload::client {
namespace {

UploadState sample_state() {
    UploadState s;
    s.source_path = "/home/u/My \"Files\"/a.bin";
    s.size_bytes = 5'000'000'000ull;
    s.mtime_ns = 1'700'000'000'123'456'789;
    s.server = "https://example.com/x";
    for (std::size_t i = 0; i < s.secret.size(); ++i) s.secret[i] = static_cast<std::uint8_t>(i * 7);
    for (std::size_t i = 0; i < s.salt.size(); ++i) s.salt[i] = static_cast<std::uint8_t>(200 - i);
    s.record_size = 65536;
    s.concatenated = true;
    s.parts = {{"https://example.com/x/files/AAA", 0, 100}, {"", 100, 250}};
    return s;
}

void expect_equal(const UploadState& a, const UploadState& b) {
    EXPECT_EQ(a.source_path, b.source_path);
    EXPECT_EQ(a.size_bytes, b.size_bytes);
    EXPECT_EQ(a.mtime_ns, b.mtime_ns);
    EXPECT_EQ(a.server, b.server);
    EXPECT_EQ(a.secret, b.secret);
    EXPECT_EQ(a.salt, b.salt);
    EXPECT_EQ(a.record_size, b.record_size);
    EXPECT_EQ(a.concatenated, b.concatenated);
    EXPECT_EQ(a.parts, b.parts);
}

// Every field survives save and load; the file is private and no temporary is left behind.
TEST(UploadState, RoundTripsThroughAPrivateFile) {
    testing::TempDir dir;
    const auto path = upload_state_path(dir.path() / "home", "/home/u/a.bin");
    EXPECT_EQ(path.parent_path(), dir.path() / "home" / "uploads");
    EXPECT_EQ(path.filename().string().size(), 64u + 5u);
    ASSERT_TRUE(save_upload_state(path, sample_state()));
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    ASSERT_EQ(::stat(path.parent_path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    auto loaded = load_upload_state(path);
    ASSERT_TRUE(loaded);
    ASSERT_TRUE(loaded->has_value());
    expect_equal(**loaded, sample_state());
    // Overwrite in place, then remove: only the state file ever existed in the directory.
    auto changed = sample_state();
    changed.parts[1].url = "https://example.com/x/files/BBB";
    ASSERT_TRUE(save_upload_state(path, changed));
    loaded = load_upload_state(path);
    ASSERT_TRUE(loaded && loaded->has_value());
    EXPECT_EQ((**loaded).parts[1].url, changed.parts[1].url);
    std::size_t entries = 0;
    for (const auto& e : std::filesystem::directory_iterator(path.parent_path())) {
        (void)e;
        ++entries;
    }
    EXPECT_EQ(entries, 1u);
    remove_upload_state(path);
    loaded = load_upload_state(path);
    ASSERT_TRUE(loaded);
    EXPECT_FALSE(loaded->has_value());
}

// Different paths get different state files.
TEST(UploadState, IsKeyedByTheAbsolutePath) {
    EXPECT_NE(upload_state_path("/h", "/a/b"), upload_state_path("/h", "/a/c"));
    EXPECT_EQ(upload_state_path("/h", "/a/b"), upload_state_path("/h", "/a/b"));
}

// Damaged or foreign state files are refused with a state error, not trusted.
TEST(UploadState, RefusesDamagedState) {
    const std::string good = upload_state_to_json(sample_state());
    ASSERT_TRUE(upload_state_from_json(good));
    const auto replace = [&](const std::string& from, const std::string& to) {
        std::string s = good;
        const auto at = s.find(from);
        EXPECT_NE(at, std::string::npos) << from;
        return s.replace(at, from.size(), to);
    };
    for (const std::string& bad : {
             std::string("{}"), std::string("not json"), good.substr(0, good.size() / 2),
             replace("\"version\":1", "\"version\":2"),
             replace("\"record_size\":65536", "\"record_size\":5"),
             replace("\"end_bytes\":100", "\"end_bytes\":0"),
             replace("\"secret\":\"", "\"secret\":\"x"),
             replace("\"salt\":\"", "\"salt\":\"AA"),
             replace("\"concatenated\":true", "\"concatenated\":1"),
         }) {
        auto r = upload_state_from_json(bad);
        EXPECT_FALSE(r) << bad;
        if (!r) {
            EXPECT_EQ(r.error().code, ErrorCode::state);
        }
    }
}

// The state file names the secret only in its one field, in link form.
TEST(UploadState, HoldsTheSecretOnce) {
    const auto s = sample_state();
    const std::string json = upload_state_to_json(s);
    const std::string secret = crypto::secret_to_text(s.secret);
    const auto first = json.find(secret);
    ASSERT_NE(first, std::string::npos);
    EXPECT_EQ(json.find(secret, first + 1), std::string::npos);
}

// Finished segments survive as runs; a changed shape or foreign JSON is refused.
TEST(DownloadState, RoundTripsFinishedSegments) {
    DownloadState s;
    s.file_id = "AAAAAAAAAAAAAAAAAAAAAA";
    s.etag = "\"abc\"";
    s.body_bytes = 1 << 30;
    s.plaintext_bytes = 1000;
    s.record_size = 65536;
    s.segment_records = 128;
    s.done = {true, true, false, true, false, false, true};
    const std::string json = download_state_to_json(s);
    EXPECT_NE(json.find("[[0,2],[3,4],[6,7]]"), std::string::npos) << json;
    auto back = download_state_from_json(json);
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, s);
    for (const std::string& bad : {std::string("[]"), json.substr(1),
                                  std::string(R"({"version":1})")}) {
        EXPECT_FALSE(download_state_from_json(bad)) << bad;
    }
    std::string overlong = json;
    overlong.replace(overlong.find("[6,7]"), 5, "[6,8]");
    EXPECT_FALSE(download_state_from_json(overlong));
}

// Sizes and durations on the command line: units, case, and refusal of anything else.
TEST(Units, ParsesSizesAndDurations) {
    EXPECT_EQ(parse_size_bytes("4096"), 4096u);
    EXPECT_EQ(parse_size_bytes("8MiB"), 8u << 20);
    EXPECT_EQ(parse_size_bytes("8m"), 8u << 20);
    EXPECT_EQ(parse_size_bytes("64G"), 64ull << 30);
    EXPECT_EQ(parse_size_bytes("1kb"), 1024u);
    EXPECT_EQ(parse_size_bytes("2TiB"), 2ull << 40);
    for (const char* bad : {"", "MiB", "-1", "+1", "1.5G", "1 G", "8MiBs", "99999999999T",
                            "18446744073709551616"}) {
        EXPECT_FALSE(parse_size_bytes(bad)) << bad;
    }
    EXPECT_EQ(parse_duration("30"), std::chrono::seconds(30));
    EXPECT_EQ(parse_duration("15m"), std::chrono::minutes(15));
    EXPECT_EQ(parse_duration("24h"), std::chrono::hours(24));
    EXPECT_EQ(parse_duration("7d"), std::chrono::hours(24 * 7));
    for (const char* bad : {"", "h", "1w", "-5s", "1.5h", "999999999999d"}) {
        EXPECT_FALSE(parse_duration(bad)) << bad;
    }
}

}  // namespace
}  // namespace satload::client
