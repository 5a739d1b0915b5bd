// Pins down the S3 client: against a scripted HTTP peer on 127.0.0.1 (connection refused,
// a server that stalls, a kept-alive connection the server closed, error documents) and
// against a real S3 service when SATLOAD_S3_URL is set (keep-alive reuse, keys that need
// encoding, ranged GETs, and the S3 error codes mapped to the enum). The real-service tests
// report SKIPPED without it.
#include "s3/s3_client.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <thread>

#include <gtest/gtest.h>

#include "core/check.h"
#include "s3_test_env.h"

namespace satload::s3 {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace satload::s3::testing;

// A peer on 127.0.0.1 that accepts connections one after another and hands each socket to
// the script (as many connections as the script has steps).
class ScriptedPeer {
public:
    using Step = std::function<void(tcp::socket&)>;
    explicit ScriptedPeer(std::vector<Step> steps)
        : m_acceptor(m_ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
        m_remaining = steps.size();
        m_thread = std::thread([this, steps = std::move(steps)] {
            for (const auto& step : steps) {
                tcp::socket socket(m_ioc);
                boost::system::error_code ec;
                m_acceptor.accept(socket, ec);
                if (ec) return;
                step(socket);
                --m_remaining;
            }
        });
    }
    // Steps the client never reached get an empty connection each, so the thread ends.
    ~ScriptedPeer() {
        const tcp::endpoint at = m_acceptor.local_endpoint();
        while (m_remaining > 0) {
            asio::io_context ioc;
            tcp::socket poke(ioc);
            boost::system::error_code ignored;
            poke.connect(at, ignored);
            poke.close(ignored);
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        m_thread.join();
    }
    [[nodiscard]] std::uint16_t port() const { return m_acceptor.local_endpoint().port(); }

private:
    asio::io_context m_ioc;
    tcp::acceptor m_acceptor;
    std::atomic<std::size_t> m_remaining{0};
    std::thread m_thread;
};

// Reads one request head (these tests send no bodies); false when the peer closed.
bool read_request(tcp::socket& socket) {
    asio::streambuf buffer;
    boost::system::error_code ec;
    asio::read_until(socket, buffer, "\r\n\r\n", ec);
    return !ec;
}

void answer(tcp::socket& socket, std::string_view response) {
    boost::system::error_code ec;
    asio::write(socket, asio::buffer(response.data(), response.size()), ec);
}

constexpr std::string_view kNoContent = "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n";

S3Endpoint local_endpoint(std::uint16_t port) {
    return S3Endpoint{"127.0.0.1", port, "us-east-1", "bucket"};
}

// Nothing listens: connect.
TEST(S3Client, ConnectRefused) {
    std::uint16_t port = 0;
    {
        asio::io_context ioc;
        tcp::acceptor a(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
        port = a.local_endpoint().port();
    }
    S3Client client(local_endpoint(port), Credentials("id", "secret"));
    auto r = client.delete_object("k");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, S3Error::connect);
}

// A server that accepts and never answers is cut off after the I/O timeout.
TEST(S3Client, StalledServerTimesOut) {
    ScriptedPeer peer({[](tcp::socket& s) {
        read_request(s);
        std::this_thread::sleep_for(std::chrono::milliseconds(600));
    }});
    S3Client client(local_endpoint(peer.port()), Credentials("id", "secret"),
                    S3Timeouts{std::chrono::milliseconds(1000), std::chrono::milliseconds(150)});
    const auto start = std::chrono::steady_clock::now();
    auto r = client.delete_object("k");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, S3Error::timeout);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(550));
}

// Requests share one connection while the server keeps it; when the server has closed the
// idle connection, the next request goes again on a new one, once.
TEST(S3Client, KeepAliveAndReconnectAfterServerClose) {
    ScriptedPeer peer({
        [](tcp::socket& s) {
            for (int i = 0; i < 2; ++i) {
                if (read_request(s)) answer(s, kNoContent);
            }
            // Closes the kept-alive connection without a word.
        },
        [](tcp::socket& s) {
            if (read_request(s)) answer(s, kNoContent);
        },
    });
    S3Client client(local_endpoint(peer.port()), Credentials("id", "secret"));
    ASSERT_TRUE(client.delete_object("a"));
    ASSERT_TRUE(client.delete_object("b"));
    EXPECT_EQ(client.connections_opened(), 1u);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    auto third = client.delete_object("c");
    ASSERT_TRUE(third) << third.error().message;
    EXPECT_EQ(client.connections_opened(), 2u);
}

// A fresh connection closed before any answer is not retried (the request may have run).
TEST(S3Client, NoRetryOnFreshConnection) {
    ScriptedPeer peer({[](tcp::socket& s) { read_request(s); },
                       [](tcp::socket& s) {
                           if (read_request(s)) answer(s, kNoContent);
                       }});
    S3Client client(local_endpoint(peer.port()), Credentials("id", "secret"));
    auto r = client.delete_object("a");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, S3Error::network);
    EXPECT_EQ(client.connections_opened(), 1u);
}

// Error documents are read into the enum with their S3 code; an unreadable answer is a
// protocol error, and an oversized one is refused.
TEST(S3Client, ErrorDocuments) {
    const std::string no_upload =
        "<?xml version=\"1.0\"?><Error><Code>NoSuchUpload</Code><Message>gone</Message></Error>";
    const std::string not_xml = "<html>hi</html>";
    auto respond = [](std::string status, std::string body) {
        return [status, body](tcp::socket& s) {
            if (!read_request(s)) return;
            answer(s, "HTTP/1.1 " + status + "\r\nContent-Length: " + std::to_string(body.size()) +
                          "\r\nConnection: close\r\n\r\n" + body);
        };
    };
    ScriptedPeer peer({respond("404 Not Found", no_upload), respond("200 OK", not_xml),
                       respond("503 Slow Down", ""), respond("503 Slow Down", ""),
                       respond("503 Slow Down", "")});
    S3Client client(local_endpoint(peer.port()), Credentials("id", "secret"));
    auto aborted = client.abort_multipart_upload("k", "u");
    ASSERT_FALSE(aborted);
    EXPECT_EQ(aborted.error().code, S3Error::no_such_upload);
    EXPECT_EQ(aborted.error().s3_code, "NoSuchUpload");
    EXPECT_EQ(aborted.error().http_status, 404u);
    EXPECT_NE(aborted.error().message.find("gone"), std::string::npos);
    auto created = client.create_multipart_upload("k");
    ASSERT_FALSE(created);
    EXPECT_EQ(created.error().code, S3Error::protocol);
    auto busy = client.delete_object("k");  // three 503s: every attempt used
    ASSERT_FALSE(busy);
    EXPECT_EQ(busy.error().code, S3Error::server);
    EXPECT_EQ(client.connections_opened(), 2u + kServerErrorAttempts);
}

// A 5xx is tried again (idempotent requests) and the retry's answer counts; a POST is not.
TEST(S3Client, ServerErrorsRetried) {
    const std::string busy = "HTTP/1.1 503 Slow Down\r\nContent-Length: 0\r\n\r\n";
    ScriptedPeer peer({
        [&](tcp::socket& s) {
            if (read_request(s)) answer(s, busy);
            if (read_request(s)) answer(s, kNoContent);  // the retry, same connection
            if (read_request(s)) answer(s, busy);        // the POST: not retried
        },
    });
    S3Client client(local_endpoint(peer.port()), Credentials("id", "secret"));
    auto deleted = client.delete_object("k");
    ASSERT_TRUE(deleted) << deleted.error().message;
    auto created = client.create_multipart_upload("k");
    ASSERT_FALSE(created);
    EXPECT_EQ(created.error().code, S3Error::server);
    EXPECT_EQ(client.connections_opened(), 1u);
}

// A connection cut in the middle of a ranged body is a network error, never a short read:
// bytes that did not all arrive are not reported as read.
TEST(S3Client, BodyCutMidwayIsAnError) {
    ScriptedPeer peer({[](tcp::socket& s) {
        if (!read_request(s)) return;
        answer(s,
               "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-99/1000\r\n"
               "Content-Length: 100\r\n\r\n" +
                   std::string(50, 'x'));
    }});
    S3Client client(local_endpoint(peer.port()), Credentials("id", "secret"));
    Bytes out(100);
    auto n = client.get_object_range("k", 0, out);
    ASSERT_FALSE(n);
    EXPECT_EQ(n.error().code, S3Error::network);
}

// A streamed range (start_object_range + read_object_range) gives the body in the caller's
// pieces, bytes that came with the header first, then 0 at its end; the connection then serves
// the next request. A cut body is a network error, a stream left half read makes the next
// request open a new connection (never read the rest as an answer), and a 200 (Range ignored)
// or a longer answer than asked for is refused.
TEST(S3Client, StreamedRange) {
    const std::string body = "0123456789abcdefghijklmnopqrstuvwxyz";
    const std::string head = "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 4-39/100\r\n"
                             "Content-Length: 36\r\n\r\n";
    ScriptedPeer peer({
        [&](tcp::socket& s) {
            // Header and the first bytes in one write, the rest later; then a second request.
            if (!read_request(s)) return;
            answer(s, head + body.substr(0, 5));
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
            answer(s, body.substr(5));
            if (read_request(s)) answer(s, kNoContent);
            // A third request, whose body the client abandons after 10 bytes.
            if (read_request(s)) answer(s, head + body);
            read_request(s);  // never comes on this connection
        },
        [&](tcp::socket& s) {
            if (read_request(s)) answer(s, kNoContent);
            if (read_request(s)) answer(s, "HTTP/1.1 200 OK\r\nContent-Length: 36\r\n\r\n" + body);
        },
        [&](tcp::socket& s) {
            if (read_request(s)) answer(s, head + body);
        },
        [&](tcp::socket& s) {
            if (!read_request(s)) return;
            answer(s, head + body.substr(0, 20));  // then the connection ends
        },
    });
    S3Client client(local_endpoint(peer.port()), Credentials("id", "secret"));
    ASSERT_TRUE(client.start_object_range("k", 4, 36));
    std::string got;
    for (;;) {
        Bytes piece(7);
        auto n = client.read_object_range(piece);
        ASSERT_TRUE(n) << n.error().message;
        if (*n == 0) break;
        got.append(piece.begin(), piece.begin() + static_cast<std::ptrdiff_t>(*n));
    }
    EXPECT_EQ(got, body);
    ASSERT_TRUE(client.delete_object("a"));
    EXPECT_EQ(client.connections_opened(), 1u);

    ASSERT_TRUE(client.start_object_range("k", 4, 36));
    Bytes ten(10);
    ASSERT_EQ(client.read_object_range(ten).value_or(0), 10u);
    auto next = client.delete_object("b");  // on a new connection, not the rest of the body
    ASSERT_TRUE(next) << next.error().message;
    EXPECT_EQ(client.connections_opened(), 2u);

    auto ignored_range = client.start_object_range("k", 4, 36);
    ASSERT_FALSE(ignored_range);
    EXPECT_EQ(ignored_range.error().code, S3Error::protocol);

    auto longer = client.start_object_range("k", 4, 20);
    ASSERT_FALSE(longer);
    EXPECT_EQ(longer.error().code, S3Error::protocol);

    ASSERT_TRUE(client.start_object_range("k", 4, 36));
    Bytes all(36);
    auto cut = client.read_object_range(all);
    ASSERT_FALSE(cut);
    EXPECT_EQ(cut.error().code, S3Error::network);
    EXPECT_EQ(client.read_object_range(all).value_or(1), 0u);  // nothing is left started
}

// A pipe for the splice tests; drains what a splice put in it.
class TestPipe {
public:
    TestPipe() { SATLOAD_ASSERT(::pipe2(m_fds, O_CLOEXEC) == 0); }
    ~TestPipe() {
        ::close(m_fds[0]);
        ::close(m_fds[1]);
    }
    TestPipe(const TestPipe&) = delete;
    TestPipe& operator=(const TestPipe&) = delete;
    [[nodiscard]] int write_fd() const { return m_fds[1]; }
    // Reads exactly n bytes (what the last splice reported) and appends them to `out`.
    void drain(std::size_t n, std::string& out) const {
        std::string chunk(n, '\0');
        std::size_t done = 0;
        while (done < n) {
            const ssize_t r = ::read(m_fds[0], chunk.data() + done, n - done);
            ASSERT_GT(r, 0);
            done += static_cast<std::size_t>(r);
        }
        out += chunk;
    }

private:
    int m_fds[2];
};

// A streamed range passed on through a pipe (splice_object_range): the bytes that came with
// the header first, then the rest from the socket, in pieces no larger than asked, 0 at the
// end; the connection then serves the next request. A body cut short is a network error.
TEST(S3Client, SplicedRange) {
    const std::string body = "0123456789abcdefghijklmnopqrstuvwxyz";
    const std::string head = "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 4-39/100\r\n"
                             "Content-Length: 36\r\n\r\n";
    ScriptedPeer peer({
        [&](tcp::socket& s) {
            if (!read_request(s)) return;
            answer(s, head + body.substr(0, 5));
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
            answer(s, body.substr(5));
            if (read_request(s)) answer(s, kNoContent);
        },
        [&](tcp::socket& s) {
            if (!read_request(s)) return;
            answer(s, head + body.substr(0, 20));  // then the connection ends
        },
    });
    S3Client client(local_endpoint(peer.port()), Credentials("id", "secret"));
    TestPipe pipe;
    ASSERT_TRUE(client.start_object_range("k", 4, 36));
    std::string got;
    std::vector<std::size_t> pieces;
    for (;;) {
        auto n = client.splice_object_range(pipe.write_fd(), 16);
        ASSERT_TRUE(n) << n.error().message;
        if (*n == 0) break;
        EXPECT_LE(*n, 16u);
        pieces.push_back(*n);
        pipe.drain(*n, got);
    }
    EXPECT_EQ(got, body);
    ASSERT_FALSE(pieces.empty());
    EXPECT_EQ(pieces.front(), 5u);  // the bytes that came with the header, on their own
    ASSERT_TRUE(client.delete_object("a"));
    EXPECT_EQ(client.connections_opened(), 1u);

    ASSERT_TRUE(client.start_object_range("k", 4, 36));
    std::string partial;
    S3Result<std::size_t> n = std::size_t{0};
    do {
        n = client.splice_object_range(pipe.write_fd(), 36);
        if (n && *n > 0) pipe.drain(*n, partial);
    } while (n && *n > 0);
    ASSERT_FALSE(n);
    EXPECT_EQ(n.error().code, S3Error::network);
    EXPECT_EQ(partial, body.substr(0, 20));
    EXPECT_EQ(client.splice_object_range(pipe.write_fd(), 36).value_or(1), 0u);  // nothing left started
}

// A part sent as it arrives (begin/write/finish_upload_part): the head declares the whole
// length, the body arrives in the caller's pieces and the answer's ETag is returned; a part
// abandoned half way (another request first) is cut off with its connection, so the service
// sees a short body and then the end of the connection, never a second request in its body.
TEST(S3Client, StreamedPart) {
    std::atomic<bool> declared{false};
    std::string received;
    std::atomic<std::size_t> abandoned_bytes{0};
    ScriptedPeer peer({
        [&](tcp::socket& s) {
            asio::streambuf buffer;
            boost::system::error_code ec;
            const std::size_t head_bytes = asio::read_until(s, buffer, "\r\n\r\n", ec);
            if (ec) return;
            const std::string head(asio::buffers_begin(buffer.data()),
                                   asio::buffers_begin(buffer.data()) + static_cast<std::ptrdiff_t>(head_bytes));
            buffer.consume(head_bytes);
            declared = head.find("Content-Length: 10\r\n") != std::string::npos &&
                       head.find("partNumber=3") != std::string::npos;
            asio::read(s, buffer, asio::transfer_exactly(10 - std::min<std::size_t>(buffer.size(), 10)), ec);
            received.assign(asio::buffers_begin(buffer.data()), asio::buffers_end(buffer.data()));
            answer(s, "HTTP/1.1 200 OK\r\nETag: \"abc\"\r\nContent-Length: 0\r\n\r\n");
            // The next part is abandoned after 4 of its 10 bytes.
            asio::streambuf second;
            const std::size_t second_head = asio::read_until(s, second, "\r\n\r\n", ec);
            if (ec) return;
            second.consume(second_head);
            asio::read(s, second, asio::transfer_all(), ec);  // to the end of the connection
            abandoned_bytes = second.size();
        },
        [&](tcp::socket& s) {
            if (read_request(s)) answer(s, kNoContent);
        },
    });
    S3Client client(local_endpoint(peer.port()), Credentials("id", "secret"));
    ASSERT_TRUE(client.begin_upload_part("k", "u", 3, 10));
    ASSERT_TRUE(client.write_upload_part(as_bytes(std::string_view("0123"))));
    ASSERT_TRUE(client.write_upload_part(as_bytes(std::string_view("456789"))));
    auto etag = client.finish_upload_part();
    ASSERT_TRUE(etag) << etag.error().message;
    EXPECT_EQ(*etag, "\"abc\"");
    EXPECT_TRUE(declared);
    EXPECT_EQ(received, "0123456789");

    ASSERT_TRUE(client.begin_upload_part("k", "u", 4, 10));
    ASSERT_TRUE(client.write_upload_part(as_bytes(std::string_view("abcd"))));
    auto next = client.delete_object("k");
    ASSERT_TRUE(next) << next.error().message;
    EXPECT_EQ(client.connections_opened(), 2u);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_EQ(abandoned_bytes, 4u);
}

// A part's answer read long after its body was sent (the next part streamed meanwhile on the
// other connection, at a slow client's pace) does not make the connection look fresh: the
// next part goes on a new connection, since the service may have closed this one while it
// waited (RGW closes idle connections after 65 s) and a streamed part cannot be sent again.
TEST(S3Client, PartAfterALateAnswerTakesANewConnection) {
    const auto take_part = [](tcp::socket& s) {
        asio::streambuf buffer;
        boost::system::error_code ec;
        const std::size_t head = asio::read_until(s, buffer, "\r\n\r\n", ec);
        if (ec) return false;
        buffer.consume(head);
        asio::read(s, buffer, asio::transfer_exactly(4 - std::min<std::size_t>(buffer.size(), 4)), ec);
        if (ec) return false;
        answer(s, "HTTP/1.1 200 OK\r\nETag: \"p\"\r\nContent-Length: 0\r\n\r\n");
        return true;
    };
    ScriptedPeer peer({
        [&](tcp::socket& s) {
            // A second part here would mean the kept connection was used again.
            if (take_part(s)) take_part(s);
        },
        [&](tcp::socket& s) { take_part(s); },
    });
    S3Client client(local_endpoint(peer.port()), Credentials("id", "secret"));
    ASSERT_TRUE(client.begin_upload_part("k", "u", 1, 4));
    ASSERT_TRUE(client.write_upload_part(as_bytes(std::string_view("abcd"))));
    std::this_thread::sleep_for(std::chrono::milliseconds(1'200));  // past kStreamedPartMaxIdle
    auto first = client.finish_upload_part();
    ASSERT_TRUE(first) << first.error().message;
    ASSERT_TRUE(client.begin_upload_part("k", "u", 2, 4));
    ASSERT_TRUE(client.write_upload_part(as_bytes(std::string_view("efgh"))));
    auto second = client.finish_upload_part();
    ASSERT_TRUE(second) << second.error().message;
    EXPECT_EQ(client.connections_opened(), 2u);
}

// The status and S3 code classify as documented.
TEST(S3Client, Classification) {
    EXPECT_EQ(classify_s3_error(404, "NoSuchKey"), S3Error::not_found);
    EXPECT_EQ(classify_s3_error(404, ""), S3Error::not_found);
    EXPECT_EQ(classify_s3_error(404, "NoSuchBucket"), S3Error::no_such_bucket);
    EXPECT_EQ(classify_s3_error(403, "SignatureDoesNotMatch"), S3Error::access_denied);
    EXPECT_EQ(classify_s3_error(403, "RequestTimeTooSkewed"), S3Error::access_denied);
    EXPECT_EQ(classify_s3_error(400, "EntityTooSmall"), S3Error::invalid_request);
    EXPECT_EQ(classify_s3_error(416, ""), S3Error::invalid_range);
    EXPECT_EQ(classify_s3_error(409, "BucketAlreadyExists"), S3Error::conflict);
    EXPECT_EQ(classify_s3_error(500, "InternalError"), S3Error::server);
    EXPECT_EQ(classify_s3_error(302, ""), S3Error::protocol);
}

class S3ClientLive : public ::testing::Test {
protected:
    void SetUp() override {
        if (!s3_configured()) GTEST_SKIP() << kNeedsS3;
        auto config = env_config();
        ASSERT_TRUE(config);
        m_endpoint = config->endpoint;
        m_client = std::make_unique<S3Client>(m_endpoint, env_credentials());
        ASSERT_TRUE(m_client->create_bucket());
    }
    S3Endpoint m_endpoint;
    std::unique_ptr<S3Client> m_client;
};

// Many requests, one TCP connection; keys with spaces, '$', '+' and UTF-8 are signed and
// addressed consistently (put, head, ranged get, list, delete).
TEST_F(S3ClientLive, KeepAliveAndEncodedKeys) {
    const std::string prefix = "client-test/" + random_file_id() + "/";
    const std::string key = prefix + "a b$c+d=\xc3\xa9~.txt";
    const auto body = pseudo_random_bytes(100'000, 71);
    ASSERT_TRUE(m_client->put_object(key, body));
    auto info = m_client->head_object(key);
    ASSERT_TRUE(info) << info.error().message;
    EXPECT_EQ(info->size_bytes, body.size());
    Bytes got(1000);
    auto n = m_client->get_object_range(key, 99'500, got);
    ASSERT_TRUE(n) << n.error().message;
    ASSERT_EQ(*n, 500u);  // only what is left
    EXPECT_EQ(Bytes(got.begin(), got.begin() + 500), Bytes(body.begin() + 99'500, body.end()));
    auto listed = m_client->list_objects(prefix);
    ASSERT_TRUE(listed) << listed.error().message;
    ASSERT_EQ(listed->size(), 1u);
    EXPECT_EQ(listed->front().key, key);
    EXPECT_EQ(listed->front().size_bytes, body.size());
    ASSERT_TRUE(m_client->delete_object(key));
    EXPECT_EQ(m_client->head_object(key).error().code, S3Error::not_found);
    EXPECT_EQ(m_client->connections_opened(), 1u);
}

// A streamed range of a real object: the bytes asked for in uneven pieces, fewer where the
// object ends first, 0 after; a range past the end is invalid_range; one connection for all.
TEST_F(S3ClientLive, StreamedRange) {
    const std::string key = "client-test/" + random_file_id();
    const auto body = pseudo_random_bytes(3'000'000, 74);
    ASSERT_TRUE(m_client->put_object(key, body));
    for (const auto& [offset, length] : {std::pair<std::uint64_t, std::uint64_t>{0, 3'000'000},
                                         {1'234'567, 1'000'000},
                                         {2'999'000, 5'000}}) {
        ASSERT_TRUE(m_client->start_object_range(key, offset, length));
        Bytes got;
        Bytes piece(65'537);
        for (;;) {
            auto n = m_client->read_object_range(piece);
            ASSERT_TRUE(n) << n.error().message;
            if (*n == 0) break;
            got.insert(got.end(), piece.begin(), piece.begin() + static_cast<std::ptrdiff_t>(*n));
        }
        const auto end = std::min<std::uint64_t>(offset + length, body.size());
        EXPECT_EQ(got, Bytes(body.begin() + static_cast<std::ptrdiff_t>(offset),
                             body.begin() + static_cast<std::ptrdiff_t>(end)))
            << offset;
    }
    auto past_end = m_client->start_object_range(key, body.size(), 10);
    ASSERT_FALSE(past_end);
    EXPECT_EQ(past_end.error().code, S3Error::invalid_range);
    ASSERT_TRUE(m_client->delete_object(key));
    EXPECT_EQ(m_client->connections_opened(), 1u);
}

// A range of a real object passed on through a pipe (splice): byte for byte what was
// stored, on the one kept connection.
TEST_F(S3ClientLive, SplicedRange) {
    const std::string key = "client-test/" + random_file_id();
    const auto body = pseudo_random_bytes(3'000'000, 75);
    ASSERT_TRUE(m_client->put_object(key, body));
    TestPipe pipe;
    ASSERT_TRUE(m_client->start_object_range(key, 1'000, 2'500'000));
    std::string got;
    for (;;) {
        auto n = m_client->splice_object_range(pipe.write_fd(), 65'536);
        ASSERT_TRUE(n) << n.error().message;
        if (*n == 0) break;
        pipe.drain(*n, got);
    }
    EXPECT_EQ(Bytes(got.begin(), got.end()), Bytes(body.begin() + 1'000, body.begin() + 2'501'000));
    ASSERT_TRUE(m_client->delete_object(key));
    EXPECT_EQ(m_client->connections_opened(), 1u);
}

// Parts streamed to a real service: a part sent in pieces is stored whole (the completed
// object reads back byte for byte), and a part abandoned half way is not stored at all.
TEST_F(S3ClientLive, StreamedParts) {
    const std::string key = "client-test/" + random_file_id();
    const auto first = pseudo_random_bytes(static_cast<std::size_t>(kMinPartBytes), 75);
    const auto last = pseudo_random_bytes(1'000, 76);
    auto upload = m_client->create_multipart_upload(key);
    ASSERT_TRUE(upload) << upload.error().message;
    ASSERT_TRUE(m_client->begin_upload_part(key, *upload, 1, first.size()));
    for (std::size_t at = 0; at < first.size(); at += 300'001) {
        const std::size_t n = std::min<std::size_t>(300'001, first.size() - at);
        ASSERT_TRUE(m_client->write_upload_part(ByteSpan(first).subspan(at, n)));
    }
    auto etag = m_client->finish_upload_part();
    ASSERT_TRUE(etag) << etag.error().message;

    ASSERT_TRUE(m_client->begin_upload_part(key, *upload, 2, last.size()));
    ASSERT_TRUE(m_client->write_upload_part(ByteSpan(last).first(500)));
    auto listed = m_client->list_parts(key, *upload);  // abandons part 2
    ASSERT_TRUE(listed) << listed.error().message;
    ASSERT_EQ(listed->size(), 1u);
    EXPECT_EQ(listed->front().part_number, 1);
    EXPECT_EQ(listed->front().size_bytes, first.size());

    auto last_etag = m_client->upload_part(key, *upload, 2, last);
    ASSERT_TRUE(last_etag) << last_etag.error().message;
    const std::vector<PartInfo> parts{{1, first.size(), *etag}, {2, last.size(), *last_etag}};
    ASSERT_TRUE(m_client->complete_multipart_upload(key, *upload, parts));
    Bytes got(first.size() + last.size());
    ASSERT_TRUE(m_client->start_object_range(key, 0, got.size()));
    std::size_t done = 0;
    while (done < got.size()) {
        auto n = m_client->read_object_range(std::span(got).subspan(done));
        ASSERT_TRUE(n && *n > 0);
        done += *n;
    }
    Bytes want = first;
    want.insert(want.end(), last.begin(), last.end());
    EXPECT_EQ(got, want);
    ASSERT_TRUE(m_client->delete_object(key));
}

// S3's own errors reach the caller as the enum: a missing key or bucket, a range past the end, a
// wrong secret, a too-small non-last part at completion, and a part for an aborted upload.
TEST_F(S3ClientLive, ErrorsFromTheService) {
    const std::string key = "client-test/" + random_file_id();
    Bytes out(10);
    auto missing = m_client->get_object_range(key, 0, out);
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, S3Error::not_found);
    EXPECT_EQ(missing.error().s3_code, "NoSuchKey");

    EXPECT_TRUE(m_client->head_bucket());
    S3Endpoint elsewhere = m_endpoint;
    elsewhere.bucket += random_suffix();
    auto no_bucket = S3Client(elsewhere, env_credentials()).head_bucket();
    ASSERT_FALSE(no_bucket);
    EXPECT_EQ(no_bucket.error().code, S3Error::not_found);

    ASSERT_TRUE(m_client->put_object(key, pseudo_random_bytes(10, 72)));
    auto past_end = m_client->get_object_range(key, 10, out);
    ASSERT_FALSE(past_end);
    EXPECT_EQ(past_end.error().code, S3Error::invalid_range);

    S3Client wrong(m_endpoint, Credentials(env_credentials().access_key_id, "not-the-secret"));
    auto denied = wrong.head_object(key);
    ASSERT_FALSE(denied);
    EXPECT_EQ(denied.error().code, S3Error::access_denied);
    auto denied_put = wrong.put_object(key, pseudo_random_bytes(1, 1));
    ASSERT_FALSE(denied_put);
    EXPECT_EQ(denied_put.error().s3_code, "SignatureDoesNotMatch");
    ASSERT_TRUE(m_client->delete_object(key));

    auto upload = m_client->create_multipart_upload(key);
    ASSERT_TRUE(upload) << upload.error().message;
    std::vector<PartInfo> parts;
    for (int n = 1; n <= 2; ++n) {
        auto etag = m_client->upload_part(key, *upload, n, pseudo_random_bytes(1000, 73));
        ASSERT_TRUE(etag) << etag.error().message;
        parts.push_back(PartInfo{n, 1000, *etag});
    }
    auto listed = m_client->list_parts(key, *upload);
    ASSERT_TRUE(listed) << listed.error().message;
    ASSERT_EQ(listed->size(), 2u);
    EXPECT_EQ((*listed)[1].etag, parts[1].etag);
    auto small = m_client->complete_multipart_upload(key, *upload, parts);
    ASSERT_FALSE(small);
    EXPECT_EQ(small.error().code, S3Error::invalid_request);
    EXPECT_EQ(small.error().s3_code, "EntityTooSmall");
    ASSERT_TRUE(m_client->abort_multipart_upload(key, *upload));
    auto gone = m_client->upload_part(key, *upload, 3, pseudo_random_bytes(10, 74));
    ASSERT_FALSE(gone);
    EXPECT_EQ(gone.error().code, S3Error::no_such_upload);
}

}  // namespace
}  // namespace satload::s3
