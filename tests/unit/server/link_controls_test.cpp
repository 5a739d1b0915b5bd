// Link controls at the HTTP edge, on a real server and real stores: which responses count as
// a download (the one carrying the last byte; never HEAD or a range that stops short), the 410
// problems of a revoked, expired or used-up link on GET, HEAD and the file API, Cache-Control
// by controls, the link-control keys of tus creation, and --no-anonymous.
#include <ctime>

#include "core/encoding.h"
#include "server_fixture.h"

namespace satload::server::testing {
namespace {

constexpr std::size_t kDataBytes = 50'000;

std::string tus_pair(const std::string& key, const std::string& value) {
    return key + " " + base64_encode(as_bytes(value));
}

class LinkControlsTest : public ServerFixture {
protected:
    void SetUp() override {
        ServerFixture::SetUp();
        m_data = random_text(kDataBytes, 5);
        m_file_id = upload(m_data);
        ASSERT_EQ(m_file_id.size(), 22u);
    }
    // Through the service: counts of files without a limit are batched in memory first.
    store::FileRecord file() { return *m_files->info(m_file_id); }
    void set(const store::FileControlsUpdate& update) {
        ASSERT_TRUE(m_meta->update_file_controls(m_file_id, update));
    }
    RawResponse get(const std::string& extra = "") { return request("GET", "/d/" + m_file_id, extra); }
    static std::string problem_type(const RawResponse& res) {
        const auto at = res.body.find("\"type\":\"");
        if (at == std::string::npos) return {};
        const auto start = at + 8;
        return res.body.substr(start, res.body.find('"', start) - start);
    }

    std::string m_data;
    std::string m_file_id;
};

// A full GET counts; HEAD, a range that stops before the last byte and a refused request do
// not; a range ending at the last byte does. So a download in two ranges counts once.
TEST_F(LinkControlsTest, OnlyTheResponseWithTheLastByteCounts) {
    EXPECT_EQ(file().downloads, 0u);
    ASSERT_EQ(get().status, 200u);
    EXPECT_EQ(file().downloads, 1u);
    ASSERT_EQ(request("HEAD", "/d/" + m_file_id).status, 200u);
    EXPECT_EQ(file().downloads, 1u);
    const std::string mid = std::to_string(kDataBytes / 2);
    RawResponse first = get("Range: bytes=0-" + std::to_string(kDataBytes / 2 - 1) + "\r\n");
    ASSERT_EQ(first.status, 206u);
    EXPECT_EQ(file().downloads, 1u);
    RawResponse second = get("Range: bytes=" + mid + "-\r\n");
    ASSERT_EQ(second.status, 206u);
    EXPECT_EQ(first.body + second.body, m_data);
    EXPECT_EQ(file().downloads, 2u);
    ASSERT_EQ(get("Range: bytes=-1\r\n").status, 206u);  // a suffix range holds the last byte
    EXPECT_EQ(file().downloads, 3u);
    ASSERT_EQ(get("Range: bytes=999999-\r\n").status, 416u);
    EXPECT_EQ(file().downloads, 3u);
}

// With a limit of 2, two downloads succeed and the third gets 410 download-limit-reached as
// problem+json naming the limit, on GET and HEAD alike; lifting the limit opens the link.
TEST_F(LinkControlsTest, DownloadLimit) {
    store::FileControlsUpdate limit;
    limit.max_downloads = std::optional<std::uint64_t>(2);
    set(limit);
    EXPECT_EQ(get().status, 200u);
    EXPECT_EQ(get().status, 200u);
    const RawResponse refused = get();
    EXPECT_EQ(refused.status, 410u);
    EXPECT_EQ(refused.header("content-type"), "application/problem+json");
    EXPECT_EQ(problem_type(refused), "https://satload.dev/problems/download-limit-reached");
    EXPECT_NE(refused.body.find("limit of 2 downloads"), std::string::npos) << refused.body;
    EXPECT_EQ(request("HEAD", "/d/" + m_file_id).status, 410u);
    EXPECT_EQ(file().downloads, 2u);
    EXPECT_EQ(request("GET", "/api/v1/files/" + m_file_id).status, 410u);
    store::FileControlsUpdate lift;
    lift.max_downloads = std::optional<std::uint64_t>();
    set(lift);
    EXPECT_EQ(get().status, 200u);
}

// Revoked answers 410 link-revoked (and wins over an expiry); an expiry in the past answers
// 410 link-expired; undoing each serves the bytes again.
TEST_F(LinkControlsTest, RevokedAndExpired) {
    store::FileControlsUpdate revoke;
    revoke.revoked = true;
    revoke.expires_s = std::optional<std::int64_t>(static_cast<std::int64_t>(std::time(nullptr)) - 1);
    set(revoke);
    RawResponse res = get();
    EXPECT_EQ(res.status, 410u);
    EXPECT_EQ(problem_type(res), "https://satload.dev/problems/link-revoked");
    store::FileControlsUpdate unrevoke;
    unrevoke.revoked = false;
    set(unrevoke);
    res = get();
    EXPECT_EQ(res.status, 410u);
    EXPECT_EQ(problem_type(res), "https://satload.dev/problems/link-expired");
    EXPECT_EQ(problem_type(request("GET", "/api/v1/files/" + m_file_id)),
              "https://satload.dev/problems/link-expired");
    store::FileControlsUpdate extend;
    extend.expires_s = std::optional<std::int64_t>(static_cast<std::int64_t>(std::time(nullptr)) + 3600);
    set(extend);
    res = get();
    EXPECT_EQ(res.status, 200u);
    EXPECT_EQ(res.body, m_data);
    EXPECT_EQ(file().downloads, 1u);  // refused requests never counted
}

// An anonymous file without controls is cached publicly for ever; with any control it must be
// revalidated by the client only.
TEST_F(LinkControlsTest, CacheControlFollowsControls) {
    EXPECT_EQ(get().header("cache-control"), "public, max-age=31536000, immutable");
    store::FileControlsUpdate limit;
    limit.max_downloads = std::optional<std::uint64_t>(100);
    set(limit);
    EXPECT_EQ(get().header("cache-control"), "private, no-cache");
    EXPECT_EQ(request("HEAD", "/d/" + m_file_id).header("cache-control"), "private, no-cache");
}

// The file API states the controls: free, no expiry, no limit, the count, not revoked.
TEST_F(LinkControlsTest, FileApiStatesTheControls) {
    ASSERT_EQ(get().status, 200u);
    const RawResponse res = request("GET", "/api/v1/files/" + m_file_id);
    ASSERT_EQ(res.status, 200u);
    for (const char* member : {"\"price_msat\":0", "\"expires\":null", "\"max_downloads\":null",
                               "\"downloads\":1", "\"revoked\":false"}) {
        EXPECT_NE(res.body.find(member), std::string::npos) << member << " in " << res.body;
    }
}

// tus creation reads the controls from Upload-Metadata: a bad value is 400 naming the key, a
// price without a session is 401 account-required, good values reach the file record.
TEST_F(LinkControlsTest, ControlsAtCreation) {
    RawResponse res = request("POST", "/files",
                              "Tus-Resumable: 1.0.0\r\nUpload-Length: 5\r\nUpload-Metadata: " +
                                  tus_pair("max_downloads", "zero") + "\r\n");
    EXPECT_EQ(res.status, 400u);
    EXPECT_NE(res.body.find("max_downloads"), std::string::npos) << res.body;
    res = request("POST", "/files",
                  "Tus-Resumable: 1.0.0\r\nUpload-Length: 5\r\nUpload-Metadata: " + tus_pair("price_msat", "1000") +
                      "\r\n");
    EXPECT_EQ(res.status, 401u);
    EXPECT_EQ(problem_type(res), "https://satload.dev/problems/account-required");

    const std::string id = create_upload(
        5, "Upload-Metadata: " + tus_pair("max_downloads", "1") + "," + tus_pair("expires_in", "3600") + "\r\n");
    const RawResponse done = patch(id, 0, "hello");
    ASSERT_EQ(done.status, 204u);
    const auto created = **m_meta->get_file(done.header("satload-file-id"));
    EXPECT_EQ(created.max_downloads, std::optional<std::uint64_t>(1));
    ASSERT_TRUE(created.expires_s);
    EXPECT_EQ(*created.expires_s, created.created_s + 3600);
    EXPECT_TRUE(created.anonymous);
}

class NoAnonymousTest : public ServerFixture {
protected:
    void customize(ServerOptions& options) override { options.anonymous_uploads = false; }
};

// With anonymous uploads off, a creation without a session is 401 account-required and
// stores nothing (partial uploads too).
TEST_F(NoAnonymousTest, CreationNeedsAnAccount) {
    for (const std::string extra : {"", "Upload-Concat: partial\r\n"}) {
        const RawResponse res =
            request("POST", "/files", "Tus-Resumable: 1.0.0\r\nUpload-Length: 5\r\n" + extra);
        EXPECT_EQ(res.status, 401u);
        EXPECT_NE(res.body.find("account-required"), std::string::npos) << res.body;
    }
    auto pending = m_meta->incomplete_uploads(10);
    ASSERT_TRUE(pending);
    EXPECT_TRUE(pending->empty());
}

}  // namespace
}  // namespace satload::server::testing
