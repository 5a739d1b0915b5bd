// tus 1.0.0 over a real socket: creation, PATCH with offsets, checksums, lengths,
// concatenation, termination, expiry, and keeping what arrived when a body is cut.
#include "server_fixture.h"

#include <charconv>

#include "core/encoding.h"

namespace satload::server::testing {
namespace {

class TusTest : public ServerFixture {
protected:
    // The upload's offset once it reads `want` (a cut request is kept after the connection
    // ends), or the last one read after about 2.5 s.
    std::string offset_when(const std::string& id, const std::string& want) {
        std::string offset;
        for (int i = 0; i < 50 && offset != want; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            offset =
                request("HEAD", "/files/" + id, "Tus-Resumable: 1.0.0\r\n").header("upload-offset");
        }
        return offset;
    }
    // Resumes the upload at `offset` with the rest of `data`: it completes into exactly `data`.
    void resume_and_check(const std::string& id, std::size_t offset, const std::string& data) {
        const RawResponse res = patch(id, offset, data.substr(offset));
        EXPECT_EQ(res.status, 204u);
        EXPECT_EQ(request("GET", "/d/" + res.header("satload-file-id")).body, data);
    }
};

std::string sha256_b64(const std::string& data) {
    return base64_encode(crypto::sha256(as_bytes(data)));
}

// OPTIONS advertises the version, the extensions and the limits the server enforces.
TEST_F(TusTest, OptionsAdvertisesExtensionsAndLimits) {
    const RawResponse res = request("OPTIONS", "/files");
    EXPECT_EQ(res.status, 204u);
    EXPECT_EQ(res.header("tus-version"), "1.0.0");
    EXPECT_NE(res.header("tus-extension").find("concatenation"), std::string::npos);
    EXPECT_NE(res.header("tus-extension").find("checksum"), std::string::npos);
    EXPECT_EQ(res.header("tus-max-size"), std::to_string(m_options.max_upload_bytes));
    EXPECT_EQ(res.header("tus-checksum-algorithm"), "sha256");
}

// An upload in two PATCHes: offsets advance, HEAD tells the offset, completion names the file,
// and the stored bytes are exactly what was sent.
TEST_F(TusTest, ChunkedUploadCompletesIntoAFile) {
    const std::string data = random_text(100'000);
    const std::string id = create_upload(data.size());
    ASSERT_EQ(id.size(), 43u);
    RawResponse res = patch(id, 0, data.substr(0, 40'000));
    EXPECT_EQ(res.status, 204u);
    EXPECT_EQ(res.header("upload-offset"), "40000");
    EXPECT_TRUE(res.header("satload-file-id").empty());
    res = request("HEAD", "/files/" + id, "Tus-Resumable: 1.0.0\r\n");
    EXPECT_EQ(res.status, 200u);
    EXPECT_EQ(res.header("upload-offset"), "40000");
    EXPECT_EQ(res.header("upload-length"), "100000");
    EXPECT_EQ(res.header("cache-control"), "no-store");
    EXPECT_FALSE(res.header("upload-expires").empty());
    res = patch(id, 40'000, data.substr(40'000));
    EXPECT_EQ(res.status, 204u);
    EXPECT_EQ(res.header("upload-offset"), "100000");
    const std::string file_id = res.header("satload-file-id");
    ASSERT_EQ(file_id.size(), 22u);
    EXPECT_NE(file_id, id.substr(0, 22));  // the public id is not derived from the capability
    res = request("HEAD", "/files/" + id, "Tus-Resumable: 1.0.0\r\n");
    EXPECT_EQ(res.header("satload-file-id"), file_id);
    res = request("GET", "/d/" + file_id);
    EXPECT_EQ(res.status, 200u);
    EXPECT_EQ(res.body, data);
}

// creation-with-upload: the POST body is the first chunk.
TEST_F(TusTest, CreationWithUpload) {
    const std::string data = random_text(5000);
    const RawResponse res =
        request("POST", "/files",
                "Tus-Resumable: 1.0.0\r\nUpload-Length: 5000\r\nContent-Type: application/offset+octet-stream\r\n",
                data);
    EXPECT_EQ(res.status, 201u);
    EXPECT_EQ(res.header("upload-offset"), "5000");
    const std::string file_id = res.header("satload-file-id");
    ASSERT_FALSE(file_id.empty());
    EXPECT_EQ(request("GET", "/d/" + file_id).body, data);
}

// A wrong Upload-Offset is refused with 409 and nothing changes.
TEST_F(TusTest, WrongOffsetIs409) {
    const std::string id = create_upload(100);
    const RawResponse res = patch(id, 10, "abc");
    EXPECT_EQ(res.status, 409u);
    EXPECT_EQ(res.header("content-type"), "application/problem+json");
    EXPECT_NE(res.body.find("upload-offset-mismatch"), std::string::npos);
    EXPECT_EQ(request("HEAD", "/files/" + id, "Tus-Resumable: 1.0.0\r\n").header("upload-offset"), "0");
}

// Without Tus-Resumable, or with another version, the server answers 412.
TEST_F(TusTest, MissingOrWrongTusResumableIs412) {
    EXPECT_EQ(request("POST", "/files", "Upload-Length: 10\r\n").status, 412u);
    EXPECT_EQ(request("POST", "/files", "Tus-Resumable: 0.2.2\r\nUpload-Length: 10\r\n").status, 412u);
    const std::string id = create_upload(10);
    EXPECT_EQ(request("PATCH", "/files/" + id,
                      "Upload-Offset: 0\r\nContent-Type: application/offset+octet-stream\r\n", "abc")
                  .status,
              412u);
}

// Upload-Length above the maximum is 413 and creates nothing.
TEST_F(TusTest, UploadLengthAboveMaximumIs413) {
    const RawResponse res = request(
        "POST", "/files",
        "Tus-Resumable: 1.0.0\r\nUpload-Length: " + std::to_string(m_options.max_upload_bytes + 1) + "\r\n");
    EXPECT_EQ(res.status, 413u);
    EXPECT_NE(res.body.find("upload-too-large"), std::string::npos);
    EXPECT_TRUE(res.header("location").empty());
}

// A PATCH past the declared length is refused before any byte is kept.
TEST_F(TusTest, PatchPastDeclaredLengthKeepsNothing) {
    const std::string id = create_upload(10);
    RawResponse res = patch(id, 0, "0123456789ABC");
    EXPECT_EQ(res.status, 413u);
    EXPECT_NE(res.body.find("upload-exceeds-length"), std::string::npos);
    EXPECT_EQ(request("HEAD", "/files/" + id, "Tus-Resumable: 1.0.0\r\n").header("upload-offset"), "0");
    res = patch(id, 0, "0123456789");
    EXPECT_EQ(res.status, 204u);
}

// Checksums: a mismatch is 460 and keeps nothing; a match is accepted; unknown algorithms 400.
TEST_F(TusTest, ChecksumMismatchIs460AndKeepsNothing) {
    const std::string id = create_upload(8);
    RawResponse res = patch(id, 0, "abcd", "Upload-Checksum: sha256 " + sha256_b64("abce") + "\r\n");
    EXPECT_EQ(res.status, 460u);
    EXPECT_NE(res.body.find("checksum-mismatch"), std::string::npos);
    EXPECT_EQ(request("HEAD", "/files/" + id, "Tus-Resumable: 1.0.0\r\n").header("upload-offset"), "0");
    res = patch(id, 0, "abcd", "Upload-Checksum: md5 AAAA\r\n");
    EXPECT_EQ(res.status, 400u);
    res = patch(id, 0, "abcd", "Upload-Checksum: sha256 " + sha256_b64("abcd") + "\r\n");
    EXPECT_EQ(res.status, 204u);
    EXPECT_EQ(res.header("upload-offset"), "4");
}

// Concatenation: two partial uploads joined by a final upload form one file, in order.
TEST_F(TusTest, ConcatenationJoinsPartsInOrder) {
    const std::string a = random_text(3000, 1), b = random_text(5000, 2);
    const std::string pa = create_upload(a.size(), "Upload-Concat: partial\r\n");
    const std::string pb = create_upload(b.size(), "Upload-Concat: partial\r\n");
    // Parts never become files by themselves.
    EXPECT_TRUE(patch(pb, 0, b).header("satload-file-id").empty());
    // A final over an incomplete part is refused.
    RawResponse res = request("POST", "/files",
                              "Tus-Resumable: 1.0.0\r\nUpload-Concat: final;/files/" + pa + " /files/" + pb + "\r\n");
    EXPECT_EQ(res.status, 409u);
    EXPECT_EQ(patch(pa, 0, a).status, 204u);
    res = request("POST", "/files",
                  "Tus-Resumable: 1.0.0\r\nUpload-Concat: final;http://127.0.0.1/files/" + pa + " /files/" + pb +
                      "\r\nUpload-Metadata: meta " + base64_encode(as_bytes("bWV0YQ")) + "\r\n");
    EXPECT_EQ(res.status, 201u) << res.body;
    const std::string file_id = res.header("satload-file-id");
    ASSERT_FALSE(file_id.empty());
    EXPECT_EQ(request("GET", "/d/" + file_id).body, a + b);
    const RawResponse api = request("GET", "/api/v1/files/" + file_id);
    EXPECT_EQ(api.status, 200u);
    EXPECT_NE(api.body.find("\"meta\":\"bWV0YQ\""), std::string::npos);
    EXPECT_NE(api.body.find("\"size_bytes\":8000"), std::string::npos);
    // A final names only partial uploads.
    const std::string plain = create_upload(5);
    res = request("POST", "/files", "Tus-Resumable: 1.0.0\r\nUpload-Concat: final;/files/" + plain + "\r\n");
    EXPECT_EQ(res.status, 400u);
}

// Termination removes a partial upload.
TEST_F(TusTest, DeleteTerminatesAnUpload) {
    const std::string id = create_upload(10);
    EXPECT_EQ(patch(id, 0, "abc").status, 204u);
    EXPECT_EQ(request("DELETE", "/files/" + id, "Tus-Resumable: 1.0.0\r\n").status, 204u);
    EXPECT_EQ(request("HEAD", "/files/" + id, "Tus-Resumable: 1.0.0\r\n").status, 404u);
    EXPECT_EQ(patch(id, 3, "def").status, 404u);
}

// An upload past its expiry answers 410 and its data is removed by the expiry sweep.
TEST_F(TusTest, ExpiredUploadsAreGoneAndCleaned) {
    const std::string id = create_upload(10);
    EXPECT_EQ(patch(id, 0, "abc").status, 204u);
    const std::string other = create_upload(10);
    m_clock.advance(3601);
    EXPECT_EQ(request("HEAD", "/files/" + id, "Tus-Resumable: 1.0.0\r\n").status, 410u);
    EXPECT_EQ(m_uploads->expire(), 1u);  // `other` was never touched; the sweep removes it
    EXPECT_FALSE(std::filesystem::exists(m_dir / "blobs" / "partial" / other));
    EXPECT_EQ(request("HEAD", "/files/" + other, "Tus-Resumable: 1.0.0\r\n").status, 404u);
}

// A body cut off mid-way keeps (syncs and records) what arrived, so the client resumes there.
TEST_F(TusTest, CutBodyKeepsWhatArrived) {
    const std::string data = random_text(1000);
    const std::string id = create_upload(data.size());
    {
        boost::asio::io_context io;
        boost::asio::ip::tcp::socket socket(io);
        socket.connect({boost::asio::ip::make_address("127.0.0.1"), port()});
        const std::string head = "PATCH /files/" + id +
                                 " HTTP/1.1\r\nHost: x\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\n"
                                 "Content-Type: application/offset+octet-stream\r\nContent-Length: 1000\r\n\r\n";
        boost::asio::write(socket, boost::asio::buffer(head + data.substr(0, 600)));
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }  // closed
    EXPECT_EQ(offset_when(id, "600"), "600");
    resume_and_check(id, 600, data);
}

// A chunked body whose framing turns malformed (a chunk size that is not hex) ends the
// request and the connection, and keeps the bytes of the chunks that came whole before it,
// as a cut body does: the client resumes from there.
TEST_F(TusTest, MalformedChunkFramingKeepsTheChunksBeforeIt) {
    const std::string data = random_text(1000);
    const std::string id = create_upload(data.size());
    const RawResponse res =
        send_raw("PATCH /files/" + id +
                 " HTTP/1.1\r\nHost: x\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\n"
                 "Content-Type: application/offset+octet-stream\r\n"
                 "Transfer-Encoding: chunked\r\n\r\n190\r\n" +
                 data.substr(0, 400) + "\r\nzz\r\n" + data.substr(400) + "\r\n0\r\n\r\n");
    EXPECT_TRUE(res.connection_closed);
    EXPECT_NE(res.status, 204u);
    EXPECT_EQ(offset_when(id, "400"), "400");
    resume_and_check(id, 400, data);
}

// An empty file is complete at creation.
TEST_F(TusTest, EmptyUploadIsCompleteAtCreation) {
    const RawResponse res = request("POST", "/files", "Tus-Resumable: 1.0.0\r\nUpload-Length: 0\r\n");
    EXPECT_EQ(res.status, 201u);
    const std::string file_id = res.header("satload-file-id");
    ASSERT_FALSE(file_id.empty());
    const RawResponse get = request("GET", "/d/" + file_id);
    EXPECT_EQ(get.status, 200u);
    EXPECT_EQ(get.body, "");
}

}  // namespace
}  // namespace satload::server::testing

namespace satload::server::testing {
namespace {

// On a kept-alive connection every response must be framed (Content-Length), or a client
// reads the next response as this one's body: several requests on one connection all work.
TEST_F(TusTest, KeepAliveConnectionCarriesSeveralRequests) {
    boost::asio::io_context io;
    boost::asio::ip::tcp::socket socket(io);
    socket.connect({boost::asio::ip::make_address("127.0.0.1"), port()});
    timeval tv{5, 0};
    ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    auto send = [&](const std::string& raw) {
        boost::asio::write(socket, boost::asio::buffer(raw));
        return read_response(socket, raw.rfind("HEAD", 0) == 0);
    };
    RawResponse res = send("POST /files HTTP/1.1\r\nHost: x\r\nTus-Resumable: 1.0.0\r\nUpload-Length: 3\r\n\r\n");
    ASSERT_EQ(res.status, 201u);
    EXPECT_EQ(res.header("content-length"), "0");
    const std::string id = res.header("location").substr(res.header("location").rfind('/') + 1);
    res = send("HEAD /files/" + id + " HTTP/1.1\r\nHost: x\r\nTus-Resumable: 1.0.0\r\n\r\n");
    EXPECT_EQ(res.status, 200u);
    res = send("PATCH /files/" + id +
               " HTTP/1.1\r\nHost: x\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\n"
               "Content-Type: application/offset+octet-stream\r\nContent-Length: 3\r\n\r\nabc");
    EXPECT_EQ(res.status, 204u);
    res = send("GET /d/" + res.header("satload-file-id") + " HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(res.status, 200u);
    EXPECT_EQ(res.body, "abc");
    EXPECT_FALSE(res.connection_closed);
}

// Request bodies are framed by the parser whatever pieces they arrive in: a chunked PATCH in
// uneven chunks (one larger than a socket read), written in slices that split chunk headers,
// then a PATCH with Content-Length and a HEAD pipelined behind it in the same write, so the
// body's last read also holds the next request. Every byte lands once, in order.
TEST_F(TusTest, BodiesAreFramedWhateverPiecesTheyArriveIn) {
    const std::string data = random_text(1'000'000);
    const std::string id = create_upload(data.size());
    boost::asio::io_context io;
    boost::asio::ip::tcp::socket socket(io);
    socket.connect({boost::asio::ip::make_address("127.0.0.1"), port()});
    timeval tv{10, 0};
    ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    // The responses are read through one buffer: the pipelined ones may arrive together.
    namespace http = boost::beast::http;
    boost::beast::flat_buffer buffer;
    const auto next_response = [&](bool head) {
        http::response_parser<http::string_body> parser;
        if (head) parser.skip(true);
        http::read(socket, buffer, parser);
        return parser.release();
    };

    std::string chunked =
        "PATCH /files/" + id +
        " HTTP/1.1\r\nHost: x\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\n"
        "Content-Type: application/offset+octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n";
    std::size_t at = 0;
    for (const std::size_t n :
         {std::size_t{1}, std::size_t{65'535}, std::size_t{300'000}, std::size_t{114'464}}) {
        char hex[16];
        const auto end = std::to_chars(hex, hex + sizeof hex, n, 16).ptr;
        chunked += std::string(hex, end) + "\r\n" + data.substr(at, n) + "\r\n";
        at += n;
    }
    chunked += "0\r\n\r\n";
    for (std::size_t from = 0; from < chunked.size(); from += 7'777) {
        boost::asio::write(socket, boost::asio::buffer(chunked.substr(from, 7'777)));
    }
    auto res = next_response(false);
    ASSERT_EQ(res.result_int(), 204u);
    EXPECT_EQ(res["upload-offset"], "480000");

    const std::string rest = data.substr(at);
    boost::asio::write(
        socket, boost::asio::buffer(
                    "PATCH /files/" + id +
                    " HTTP/1.1\r\nHost: x\r\nTus-Resumable: 1.0.0\r\n"
                    "Upload-Offset: 480000\r\nContent-Type: application/offset+octet-stream\r\n"
                    "Content-Length: " +
                    std::to_string(rest.size()) + "\r\n\r\n" + rest + "HEAD /files/" + id +
                    " HTTP/1.1\r\nHost: x\r\nTus-Resumable: 1.0.0\r\n\r\n"));
    res = next_response(false);
    ASSERT_EQ(res.result_int(), 204u);
    EXPECT_EQ(res["upload-offset"], "1000000");
    const std::string file_id(res["satload-file-id"]);
    ASSERT_FALSE(file_id.empty());
    res = next_response(true);
    EXPECT_EQ(res.result_int(), 200u);
    EXPECT_EQ(res["upload-offset"], "1000000");
    EXPECT_TRUE(res.keep_alive());
    EXPECT_EQ(request("GET", "/d/" + file_id).body, data);
}

}  // namespace
}  // namespace satload::server::testing
