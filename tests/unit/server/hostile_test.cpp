// Hostile and malformed requests: each gets the right 4xx with a problem+json body (or a
// closed connection where no answer is possible) and the server stays healthy afterwards.
#include "server_fixture.h"

namespace satload::server::testing {
namespace {

using HostileTest = ServerFixture;

// Unknown ids and path tricks never reach a file or an upload.
TEST_F(HostileTest, UnknownIdsAndPathTricksAre404) {
    const std::string file_id = upload("hello");
    for (const std::string& target : std::vector<std::string>{"/d/AAAAAAAAAAAAAAAAAAAAAA", "/d/../x", "/d/%2e%2e/x", "/d/..%2F" + file_id, "/d/" + file_id + "/",
          "/d//" + file_id, "/d/" + file_id + "%00", "/d/./" + file_id, "/files/..%2Fmeta.sqlite",
          "/nothing", "/d/" + file_id.substr(1)}) {
        const RawResponse res = request("GET", target);
        EXPECT_EQ(res.status, 404u) << target;
        EXPECT_EQ(res.header("content-type"), "application/problem+json") << target;
    }
    EXPECT_EQ(request("HEAD", "/files/" + std::string(43, 'A'), "Tus-Resumable: 1.0.0\r\n").status, 404u);
    EXPECT_EQ(request("GET", "/d/" + file_id).body, "hello");
    expect_healthy();
}

// Header fields larger than the limit: 431, and the connection is closed.
TEST_F(HostileTest, OversizedHeadersAre431) {
    const RawResponse res = request("GET", "/healthz", "X-Big: " + std::string(20'000, 'a') + "\r\n");
    EXPECT_EQ(res.status, 431u);
    EXPECT_EQ(res.header("content-type"), "application/problem+json");
    expect_healthy();
}

// Garbage instead of HTTP: 400 with a problem body, then the connection closes.
TEST_F(HostileTest, MalformedRequestsAre400) {
    for (const std::string& raw : {std::string("GARBAGE\r\n\r\n"), std::string("GET / HTTP/9.9\r\n\r\n"),
                                  std::string("GET /healthz HTTP/1.1\r\nBad Header\r\n\r\n"),
                                  std::string("GET /healthz HTTP/1.1\r\nContent-Length: -5\r\n\r\n")}) {
        const RawResponse res = send_raw(raw);
        EXPECT_EQ(res.status, 400u) << raw;
        EXPECT_EQ(res.header("content-type"), "application/problem+json") << raw;
    }
    expect_healthy();
}

// Upload-Offset and Upload-Length must be plain decimals.
TEST_F(HostileTest, MalformedTusNumbersAre400) {
    EXPECT_EQ(request("POST", "/files", "Tus-Resumable: 1.0.0\r\nUpload-Length: -1\r\n").status, 400u);
    EXPECT_EQ(request("POST", "/files", "Tus-Resumable: 1.0.0\r\nUpload-Length: 1e9\r\n").status, 400u);
    EXPECT_EQ(request("POST", "/files", "Tus-Resumable: 1.0.0\r\n").status, 400u);
    EXPECT_EQ(request("POST", "/files", "Tus-Resumable: 1.0.0\r\nUpload-Length: 5\r\nUpload-Metadata: a !!\r\n").status,
              400u);
    const std::string id = create_upload(10);
    EXPECT_EQ(patch(id, 0, "a", "").status, 204u);
    EXPECT_EQ(request("PATCH", "/files/" + id,
                      "Tus-Resumable: 1.0.0\r\nUpload-Offset: one\r\nContent-Type: application/offset+octet-stream\r\n",
                      "b")
                  .status,
              400u);
    EXPECT_EQ(request("PATCH", "/files/" + id, "Tus-Resumable: 1.0.0\r\nUpload-Offset: 1\r\nContent-Type: text/plain\r\n",
                      "b")
                  .status,
              415u);
    expect_healthy();
}

// A single request body above the chunk limit is refused before it is read.
TEST_F(HostileTest, OversizedChunkIs413) {
    const std::string id = create_upload(m_options.max_upload_bytes);
    const std::string raw = "PATCH /files/" + id +
                            " HTTP/1.1\r\nHost: x\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\n"
                            "Content-Type: application/offset+octet-stream\r\nContent-Length: " +
                            std::to_string(m_options.max_chunk_bytes + 1) + "\r\n\r\n";
    const RawResponse res = send_raw(raw);
    EXPECT_EQ(res.status, 413u);
    expect_healthy();
}

// Methods a resource does not support are 405.
TEST_F(HostileTest, WrongMethodsAre405) {
    EXPECT_EQ(request("PUT", "/files").status, 405u);
    EXPECT_EQ(request("POST", "/d/AAAAAAAAAAAAAAAAAAAAAA").status, 405u);
    EXPECT_EQ(request("DELETE", "/healthz").status, 405u);
}

// A client that sends half a header and then nothing is cut off after the header timeout,
// and its connection is freed.
TEST_F(HostileTest, SlowClientIsTimedOutAndFreed) {
    boost::asio::io_context io;
    boost::asio::ip::tcp::socket socket(io);
    socket.connect({boost::asio::ip::make_address("127.0.0.1"), port()});
    boost::asio::write(socket, boost::asio::buffer(std::string("GET /healthz HTTP/1.1\r\nHost: x\r\n")));
    const auto start = std::chrono::steady_clock::now();
    char byte;
    boost::system::error_code ec;
    socket.read_some(boost::asio::buffer(&byte, 1), ec);  // blocks until the server closes
    const auto waited = std::chrono::steady_clock::now() - start;
    EXPECT_TRUE(ec == boost::asio::error::eof || ec == boost::asio::error::connection_reset) << ec.message();
    EXPECT_LT(waited, std::chrono::seconds(10));
    // The timeout closes the socket first; the connection's coroutine then counts and exits.
    for (int i = 0; i < 100 && (m_server->metrics().connections_open.load() != 0 ||
                                m_server->metrics().timeouts_total.load() == 0); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_GE(m_server->metrics().timeouts_total.load(), 1u);
    EXPECT_EQ(m_server->metrics().connections_open.load(), 0);
    expect_healthy();
}

// A PATCH whose body stalls is cut after the stall timeout; what arrived is kept.
TEST_F(HostileTest, StalledBodyIsCutAndResumable) {
    const std::string id = create_upload(100);
    boost::asio::io_context io;
    boost::asio::ip::tcp::socket socket(io);
    socket.connect({boost::asio::ip::make_address("127.0.0.1"), port()});
    const std::string head = "PATCH /files/" + id +
                             " HTTP/1.1\r\nHost: x\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\n"
                             "Content-Type: application/offset+octet-stream\r\nContent-Length: 100\r\n\r\n";
    boost::asio::write(socket, boost::asio::buffer(head + std::string(30, 'x')));
    char byte;
    boost::system::error_code ec;
    socket.read_some(boost::asio::buffer(&byte, 1), ec);
    EXPECT_TRUE(ec) << "the server should close the stalled connection";
    // The socket closes at the timeout; the server records the offset right after.
    std::string offset;
    for (int i = 0; i < 50 && offset != "30"; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        offset = request("HEAD", "/files/" + id, "Tus-Resumable: 1.0.0\r\n").header("upload-offset");
    }
    EXPECT_EQ(offset, "30");
    expect_healthy();
}

// Metrics count requests and bytes.
TEST_F(HostileTest, MetricsCountRequestsAndBytes) {
    upload(std::string(1000, 'z'));
    const RawResponse res = request("GET", "/metrics");
    EXPECT_EQ(res.status, 200u);
    EXPECT_NE(res.body.find("satload_upload_bytes_received_total 1000"), std::string::npos) << res.body;
    EXPECT_NE(res.body.find("satload_http_requests_total{method=\"PATCH\",code=\"204\"} 1"), std::string::npos);
    EXPECT_NE(res.body.find("satload_uploads_in_progress 0"), std::string::npos);
}

}  // namespace
}  // namespace satload::server::testing
