// Pins down the HTTP client's limits and failure handling against raw sockets on 127.0.0.1:
// oversized response headers and bodies are refused, a silent server times out, a kept-alive
// connection the server dropped is replaced transparently, problem+json becomes one safe
// line, and https verifies the certificate chain and the host name.
#include "client/http.h"

#include <gtest/gtest.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include <atomic>
#include <functional>
#include <thread>

#include "client/test_util.h"

namespace satload::client {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// Accepts connections on 127.0.0.1:0 and hands each to `serve` on the accepting thread.
class RawServer {
public:
    explicit RawServer(std::function<void(tcp::socket&)> serve, int connections = 1)
        : m_acceptor(m_ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
        m_thread = std::thread([this, serve = std::move(serve), connections] {
            for (int i = 0; i < connections; ++i) {
                boost::system::error_code ec;
                tcp::socket socket(m_ioc);
                m_acceptor.accept(socket, ec);
                if (ec) return;
                serve(socket);
            }
        });
    }
    ~RawServer() { m_thread.join(); }
    [[nodiscard]] Endpoint endpoint() const {
        return Endpoint{false, "127.0.0.1", m_acceptor.local_endpoint().port()};
    }

private:
    asio::io_context m_ioc;
    tcp::acceptor m_acceptor;
    std::thread m_thread;
};

// Reads one request head (our requests here have no body).
template <class Stream>
std::string read_head(Stream& s) {
    asio::streambuf buf;
    boost::system::error_code ec;
    asio::read_until(s, buf, "\r\n\r\n", ec);
    return std::string(asio::buffers_begin(buf.data()), asio::buffers_end(buf.data()));
}

template <class Stream>
void write_text(Stream& s, const std::string& text) {
    boost::system::error_code ec;
    asio::write(s, asio::buffer(text), ec);
}

HttpRequest get(std::string target) {
    HttpRequest r;
    r.target = std::move(target);
    return r;
}

// A response header block beyond kMaxResponseHeaderBytes is a protocol error, not a
// memory sink.
TEST(Http, RefusesOversizedHeaders) {
    RawServer server([](tcp::socket& s) {
        read_head(s);
        write_text(s, "HTTP/1.1 200 OK\r\nX-Big: " + std::string(kMaxResponseHeaderBytes, 'a') +
                          "\r\nContent-Length: 0\r\n\r\n");
    });
    HttpClient client;
    auto r = client.send(server.endpoint(), get("/"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::protocol);
}

// A body read whole is capped at kMaxSmallBodyBytes.
TEST(Http, RefusesOversizedBodies) {
    RawServer server([](tcp::socket& s) {
        read_head(s);
        const std::size_t n = kMaxSmallBodyBytes + 1;
        write_text(s, "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(n) + "\r\n\r\n" +
                          std::string(n, 'b'));
    });
    HttpClient client;
    auto r = client.send(server.endpoint(), get("/"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::protocol);
}

// A server that accepts and then says nothing is given up on after the I/O timeout.
TEST(Http, TimesOutASilentServer) {
    std::atomic<bool> done{false};
    RawServer server([&](tcp::socket& s) {
        read_head(s);
        while (!done) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    });
    HttpOptions options;
    options.io_timeout_ms = std::chrono::milliseconds(200);
    HttpClient client(options);
    const auto start = std::chrono::steady_clock::now();
    auto r = client.send(server.endpoint(), get("/"));
    const auto elapsed = std::chrono::steady_clock::now() - start;
    done = true;
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::network);
    EXPECT_NE(r.error().message.find("timed out"), std::string::npos) << r.error().message;
    EXPECT_LT(elapsed, std::chrono::seconds(5));
}

// The server closes a kept-alive connection between requests: the next request notices
// before any answer arrived and is sent again on a fresh connection.
TEST(Http, ReconnectsWhenAKeptAliveConnectionWasDropped) {
    std::atomic<int> served{0};
    RawServer server(
        [&](tcp::socket& s) {
            read_head(s);
            write_text(s, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
            ++served;
            s.close();  // without Connection: close, as an idle timeout would
        },
        2);
    HttpClient client;
    for (int i = 0; i < 2; ++i) {
        auto r = client.send(server.endpoint(), get("/"));
        ASSERT_TRUE(r) << i << ": " << r.error().message;
        EXPECT_EQ(r->status, 200u);
        EXPECT_EQ(r->body, "ok");
    }
    EXPECT_EQ(served, 2);
}

// problem+json becomes "HTTP <status>: <title>: <detail>" with control characters removed
// and a length cap; other bodies give the status line.
TEST(Http, DescribesProblemsSafely) {
    HttpResponse r;
    r.status = 409;
    r.headers.set("Content-Type", "application/problem+json");
    r.body = R"({"type":"x","title":"Conflict","detail":"offset \u001b[31m is 5\nnot 7"})";
    EXPECT_EQ(describe_response(r), "HTTP 409: Conflict: offset  [31m is 5 not 7");
    r.body = R"({"title":")" + std::string(1000, 'x') + R"("})";
    EXPECT_EQ(describe_response(r).size(), kMaxProblemTextChars);
    r.headers.set("Content-Type", "text/html");
    r.body = "<h1>oops</h1>";
    r.status = 502;
    EXPECT_EQ(describe_response(r), "HTTP 502 Bad Gateway");
    EXPECT_EQ(status_error("upload", r).code, ErrorCode::http_status);
    r.status = 410;
    EXPECT_EQ(status_error("upload", r).code, ErrorCode::not_found);
    r.status = 402;
    EXPECT_EQ(status_error("download", r).code, ErrorCode::payment_required);
}

// --- https --------------------------------------------------------------------------------

struct Pem {
    std::string cert;
    std::string key;
};

// A self-signed P-256 certificate for the given subjectAltName ("IP:127.0.0.1", ...).
Pem make_certificate(const std::string& san) {
    EVP_PKEY* key = EVP_EC_gen("P-256");
    X509* cert = X509_new();
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), -60);
    X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
    X509_set_pubkey(cert, key);
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("satload test"), -1, -1, 0);
    X509_set_issuer_name(cert, name);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
    for (const auto& [nid, value] : {std::pair{NID_subject_alt_name, san},
                                     std::pair{NID_basic_constraints, std::string("critical,CA:TRUE")}}) {
        X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
        X509_add_ext(cert, ext, -1);
        X509_EXTENSION_free(ext);
    }
    X509_sign(cert, key, EVP_sha256());
    const auto to_text = [](auto write) {
        BIO* bio = BIO_new(BIO_s_mem());
        write(bio);
        char* data = nullptr;
        const long n = BIO_get_mem_data(bio, &data);
        std::string out(data, static_cast<std::size_t>(n));
        BIO_free(bio);
        return out;
    };
    Pem pem;
    pem.cert = to_text([&](BIO* b) { PEM_write_bio_X509(b, cert); });
    pem.key = to_text([&](BIO* b) { PEM_write_bio_PrivateKey(b, key, nullptr, nullptr, 0, nullptr, nullptr); });
    X509_free(cert);
    EVP_PKEY_free(key);
    return pem;
}

// Serves one TLS connection with the given certificate, answering "ok".
class TlsServer {
public:
    explicit TlsServer(const Pem& pem)
        : m_ssl(asio::ssl::context::tls_server),
          m_acceptor(m_ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
        m_ssl.use_certificate_chain(asio::buffer(pem.cert));
        m_ssl.use_private_key(asio::buffer(pem.key), asio::ssl::context::pem);
        m_thread = std::thread([this] {
            boost::system::error_code ec;
            asio::ssl::stream<tcp::socket> stream(m_ioc, m_ssl);
            m_acceptor.accept(stream.next_layer(), ec);
            if (ec) return;
            stream.handshake(asio::ssl::stream_base::server, ec);
            if (ec) return;  // the client refused our certificate
            read_head(stream);
            write_text(stream, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
            stream.shutdown(ec);
        });
    }
    ~TlsServer() { m_thread.join(); }
    [[nodiscard]] Endpoint endpoint(std::string host = "127.0.0.1") const {
        return Endpoint{true, std::move(host), m_acceptor.local_endpoint().port()};
    }

private:
    asio::io_context m_ioc;
    asio::ssl::context m_ssl;
    tcp::acceptor m_acceptor;
    std::thread m_thread;
};

// With the certificate trusted, https works end to end.
TEST(Https, TalksToATrustedServer) {
    testing::TempDir dir;
    const Pem pem = make_certificate("IP:127.0.0.1");
    testing::write_bytes(dir.path() / "ca.pem", Bytes(pem.cert.begin(), pem.cert.end()));
    TlsServer server(pem);
    HttpOptions options;
    options.ca_file = (dir.path() / "ca.pem").string();
    HttpClient client(options);
    auto r = client.send(server.endpoint(), get("/healthz"));
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->status, 200u);
    EXPECT_EQ(r->body, "ok");
}

// An unknown issuer is refused.
TEST(Https, RefusesAnUntrustedCertificate) {
    TlsServer server(make_certificate("IP:127.0.0.1"));
    HttpClient client;
    auto r = client.send(server.endpoint(), get("/healthz"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::network);
    EXPECT_NE(r.error().message.find("TLS"), std::string::npos) << r.error().message;
}

// A trusted certificate for another name is refused: the host name is verified.
TEST(Https, RefusesACertificateForAnotherHost) {
    testing::TempDir dir;
    const Pem pem = make_certificate("DNS:other.example");
    testing::write_bytes(dir.path() / "ca.pem", Bytes(pem.cert.begin(), pem.cert.end()));
    TlsServer server(pem);
    HttpOptions options;
    options.ca_file = (dir.path() / "ca.pem").string();
    HttpClient client(options);
    auto r = client.send(server.endpoint(), get("/healthz"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::network);
}

}  // namespace
}  // namespace satload::client
