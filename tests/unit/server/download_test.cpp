// GET/HEAD /d/<id>: ranges at the edges and across record boundaries, suffix ranges, 416,
// If-Range, ETag, and the digest check that refuses to complete a corrupt full read.
#include "server_fixture.h"

#include <fstream>

namespace satload::server::testing {
namespace {

class DownloadTest : public ServerFixture {
protected:
    void SetUp() override {
        ServerFixture::SetUp();
        m_data = random_text(200'000, 3);
        m_file_id = upload(m_data);
        ASSERT_EQ(m_file_id.size(), 22u);
    }
    RawResponse get_range(const std::string& range, const std::string& extra = "") {
        return request("GET", "/d/" + m_file_id, "Range: " + range + "\r\n" + extra);
    }
    std::string m_data;
    std::string m_file_id;
};

// A full GET: the bytes, their length, a strong ETag, Accept-Ranges and immutable caching.
TEST_F(DownloadTest, FullBodyWithValidators) {
    const RawResponse res = request("GET", "/d/" + m_file_id);
    EXPECT_EQ(res.status, 200u);
    EXPECT_EQ(res.body, m_data);
    EXPECT_EQ(res.header("content-length"), std::to_string(m_data.size()));
    EXPECT_EQ(res.header("accept-ranges"), "bytes");
    EXPECT_EQ(res.header("content-type"), "application/octet-stream");
    const std::string etag = res.header("etag");
    ASSERT_GE(etag.size(), 3u);
    EXPECT_EQ(etag.front(), '"');
    EXPECT_NE(etag.substr(0, 3), "W/\"");
}

// HEAD: the same headers as GET and no body.
TEST_F(DownloadTest, HeadHasHeadersOnly) {
    const RawResponse res = request("HEAD", "/d/" + m_file_id);
    EXPECT_EQ(res.status, 200u);
    EXPECT_EQ(res.header("content-length"), std::to_string(m_data.size()));
    EXPECT_TRUE(res.body.empty());
}

TEST_F(DownloadTest, FirstAndLastByte) {
    RawResponse res = get_range("bytes=0-0");
    EXPECT_EQ(res.status, 206u);
    EXPECT_EQ(res.body, m_data.substr(0, 1));
    EXPECT_EQ(res.header("content-range"), "bytes 0-0/200000");
    res = get_range("bytes=199999-199999");
    EXPECT_EQ(res.status, 206u);
    EXPECT_EQ(res.body, m_data.substr(199'999));
    EXPECT_EQ(res.header("content-range"), "bytes 199999-199999/200000");
}

// 65536 is where the first RFC 8188 record of a 64 KiB record size ends.
TEST_F(DownloadTest, RangeAcrossRecordBoundary) {
    const RawResponse res = get_range("bytes=65500-65600");
    EXPECT_EQ(res.status, 206u);
    EXPECT_EQ(res.body, m_data.substr(65'500, 101));
    EXPECT_EQ(res.header("content-length"), "101");
}

TEST_F(DownloadTest, SuffixRange) {
    const RawResponse res = get_range("bytes=-1234");
    EXPECT_EQ(res.status, 206u);
    EXPECT_EQ(res.body, m_data.substr(m_data.size() - 1234));
    EXPECT_EQ(res.header("content-range"), "bytes 198766-199999/200000");
}

TEST_F(DownloadTest, UnsatisfiableRangeIs416) {
    const RawResponse res = get_range("bytes=200000-");
    EXPECT_EQ(res.status, 416u);
    EXPECT_EQ(res.header("content-range"), "bytes */200000");
    EXPECT_EQ(res.header("content-type"), "application/problem+json");
}

// If-Range with a stale ETag gets the full body (200); with the current one, the range.
TEST_F(DownloadTest, IfRangeWithStaleEtagGetsFullBody) {
    const std::string etag = request("HEAD", "/d/" + m_file_id).header("etag");
    RawResponse res = get_range("bytes=10-19", "If-Range: \"0000stale\"\r\n");
    EXPECT_EQ(res.status, 200u);
    EXPECT_EQ(res.body, m_data);
    res = get_range("bytes=10-19", "If-Range: " + etag + "\r\n");
    EXPECT_EQ(res.status, 206u);
    EXPECT_EQ(res.body, m_data.substr(10, 10));
}

// A malformed Range is ignored (full body), as RFC 9110 requires; several ranges likewise.
TEST_F(DownloadTest, MalformedAndMultipleRangesGetFullBody) {
    EXPECT_EQ(get_range("bytes=x-y").status, 200u);
    EXPECT_EQ(get_range("bytes=0-1,5-9").status, 200u);
}

// A blob changed on disk: a full read is cut before its last byte (so no client ever holds a
// complete corrupt body) and counted; ranged reads are served without re-hashing.
TEST_F(DownloadTest, CorruptBlobIsNotServedCompletely) {
    std::filesystem::path blob;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(m_dir / "blobs" / "blobs")) {
        if (entry.is_regular_file() && entry.path().filename() == m_file_id) blob = entry.path();
    }
    ASSERT_FALSE(blob.empty());
    {
        std::fstream f(blob, std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(1000);
        f.put(static_cast<char>(m_data[1000] ^ 1));
    }
    const RawResponse res = request("GET", "/d/" + m_file_id);
    EXPECT_TRUE(res.connection_closed);
    EXPECT_LT(res.body.size(), m_data.size());
    EXPECT_EQ(m_files->corrupt_seen(), 1u);
    EXPECT_EQ(get_range("bytes=0-9").status, 206u);
    const auto report = m_files->scrub("", 100);
    EXPECT_EQ(report.corrupt, std::vector<std::string>{m_file_id});
}

// The API describes a file: id, ciphertext size, encrypted metadata.
TEST_F(DownloadTest, ApiDescribesTheFile) {
    const RawResponse res = request("GET", "/api/v1/files/" + m_file_id);
    EXPECT_EQ(res.status, 200u);
    EXPECT_EQ(res.header("content-type"), "application/json");
    EXPECT_NE(res.body.find("\"id\":\"" + m_file_id + "\""), std::string::npos);
    EXPECT_NE(res.body.find("\"size_bytes\":200000"), std::string::npos);
    EXPECT_EQ(request("GET", "/api/v1/files/AAAAAAAAAAAAAAAAAAAAAA").status, 404u);
}

}  // namespace
}  // namespace satload::server::testing
