// Fuzzes the whole server as a hostile client reaches it: a real server on 127.0.0.1 (port 0)
// over real stores in a temporary directory, the input sent as raw bytes on a fresh
// connection, then the write side closed. No crash or sanitizer report in any handler; the
// first answer, if any, is well-formed HTTP/1.1 with a Content-Length (every response must
// carry one) and is never a 500 (an internal error is a bug for input alone to cause); the
// server keeps answering /healthz.
#include <sys/socket.h>
#include <sys/time.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "crypto/primitives.h"
#include "files/clock.h"
#include "files/file_service.h"
#include "files/upload_service.h"
#include "server/server.h"
#include "store/local_blob_store.h"
#include "store/sqlite_meta_store.h"

namespace asio = boost::asio;
namespace http = boost::beast::http;
namespace server = satload::server;

namespace {

// How long one exchange may take before the server counts as hung.
constexpr int kReceiveTimeoutS = 5;
// Liveness is checked once every this many inputs.
constexpr std::uint64_t kHealthEvery = 64;

// One server for the whole run, never torn down (libFuzzer exits the process).
struct Harness {
    Harness() {
        char pattern[] = "/tmp/satload-server-fuzz-XXXXXX";
        if (::mkdtemp(pattern) == nullptr) std::abort();
        dir = pattern;
        options.listen = "127.0.0.1:0";
        options.data_dir = dir.string();
        options.max_upload_bytes = 1 << 20;
        options.max_chunk_bytes = 256 * 1024;
        options.header_timeout = std::chrono::seconds(2);
        options.idle_timeout = std::chrono::seconds(2);
        options.body_stall_timeout = std::chrono::seconds(2);
        options.shutdown_grace = std::chrono::seconds(1);
        options.threads = 1;
        auto b = satload::store::LocalBlobStore::open(dir / "blobs");
        auto m = satload::store::SqliteMetaStore::open(dir / "meta.sqlite");
        if (!b || !m) std::abort();
        blobs = std::move(*b);
        meta = std::move(*m);
        satload::files::UploadLimits limits;
        limits.max_upload_bytes = options.max_upload_bytes;
        limits.upload_expiry_s = 3600;
        uploads = std::make_unique<satload::files::UploadService>(*blobs, *meta, clock, satload::crypto::random_bytes,
                                                                  limits);
        files = std::make_unique<satload::files::FileService>(*blobs, *meta);
        srv = std::make_unique<server::Server>(options, *uploads, *files);
        if (srv->start()) std::abort();
        thread = std::thread([this] { srv->run(); });
    }

    std::filesystem::path dir;
    server::ServerOptions options;
    satload::files::SystemClock clock;
    std::unique_ptr<satload::store::LocalBlobStore> blobs;
    std::unique_ptr<satload::store::SqliteMetaStore> meta;
    std::unique_ptr<satload::files::UploadService> uploads;
    std::unique_ptr<satload::files::FileService> files;
    std::unique_ptr<server::Server> srv;
    std::thread thread;
};

Harness& harness() {
    static Harness* h = new Harness();
    return *h;
}

// Sends `bytes`, closes the write side and returns everything the server sends until it closes.
std::string exchange(std::string_view bytes) {
    asio::io_context io;
    asio::ip::tcp::socket socket(io);
    boost::system::error_code ec;
    socket.connect({asio::ip::make_address("127.0.0.1"), harness().srv->port()}, ec);
    if (ec) std::abort();  // the server stopped accepting
    timeval tv{kReceiveTimeoutS, 0};
    ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    socket.set_option(asio::ip::tcp::no_delay(true), ec);
    // The server may answer and close before reading everything: a failed write is fine.
    std::size_t sent = 0;
    while (sent < bytes.size()) {
        const ssize_t n = ::send(socket.native_handle(), bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) break;
        sent += static_cast<std::size_t>(n);
    }
    ::shutdown(socket.native_handle(), SHUT_WR);
    std::string got;
    char buf[16384];
    for (;;) {
        const ssize_t n = ::recv(socket.native_handle(), buf, sizeof buf, 0);
        if (n == 0) break;
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) std::abort();  // hung: no answer, no close
            break;                                                      // reset by the server
        }
        got.append(buf, static_cast<std::size_t>(n));
    }
    return got;
}

void check_first_response(std::string_view input, std::string_view got) {
    if (got.empty()) return;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 << 20);
    parser.eager(true);
    if (input.starts_with("HEAD")) parser.skip(true);
    boost::system::error_code ec;
    parser.put(asio::buffer(got.data(), got.size()), ec);
    if (ec && ec != http::error::need_more) std::abort();  // not HTTP
    if (!parser.is_header_done()) std::abort();
    const auto& res = parser.get();
    const unsigned status = res.result_int();
    if (status == 500) std::abort();
    const bool bodyless = status / 100 == 1 || status == 204 || status == 304;
    if (!bodyless && res.find(http::field::content_length) == res.end()) std::abort();
}

void check_alive() {
    const std::string got = exchange("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    if (!got.starts_with("HTTP/1.1 200")) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static std::uint64_t runs = 0;
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    check_first_response(input, exchange(input));
    if (++runs % kHealthEvery == 0) check_alive();
    return 0;
}
