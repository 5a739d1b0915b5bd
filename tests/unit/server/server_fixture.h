// A real server on 127.0.0.1 (port 0) over real stores in a temporary directory, and a raw
// HTTP client, so the server tests speak bytes on a socket exactly as a hostile client can.
#pragma once

#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <thread>

#include "crypto/primitives.h"
#include "files/clock.h"
#include "files/file_service.h"
#include "files/upload_service.h"
#include "server/server.h"
#include "store/local_blob_store.h"
#include "store/sqlite_meta_store.h"

namespace satload::server::testing {

struct RawResponse {
    unsigned status = 0;
    std::map<std::string, std::string> headers;  // lowercase names
    std::string body;
    bool connection_closed = false;  // the server closed before a full response arrived

    [[nodiscard]] std::string header(const std::string& name) const {
        const auto it = headers.find(name);
        return it == headers.end() ? std::string() : it->second;
    }
};

class ServerFixture : public ::testing::Test {
protected:
    void SetUp() override {
        const char* base = std::getenv("SATLOAD_TEST_TMP");
        std::filesystem::path root = base ? base : std::filesystem::temp_directory_path();
        std::filesystem::create_directories(root);
        m_dir = root / ("server-" + std::to_string(::getpid()) + "-" + std::to_string(std::random_device{}()));
        std::filesystem::create_directories(m_dir);
        m_options.listen = "127.0.0.1:0";
        m_options.data_dir = m_dir.string();
        m_options.max_upload_bytes = 1 << 20;
        m_options.max_chunk_bytes = 512 * 1024;
        m_options.header_timeout = std::chrono::seconds(1);
        m_options.idle_timeout = std::chrono::seconds(2);
        m_options.body_stall_timeout = std::chrono::seconds(1);
        m_options.shutdown_grace = std::chrono::seconds(1);
        m_options.threads = 2;
        customize(m_options);
        start();
    }

    void TearDown() override {
        stop();
        std::error_code ec;
        std::filesystem::remove_all(m_dir, ec);
    }

    virtual void customize(ServerOptions&) {}

    void start() {
        auto blobs = store::LocalBlobStore::open(m_dir / "blobs");
        ASSERT_TRUE(blobs) << blobs.error().message;
        m_blobs = std::move(*blobs);
        auto meta = store::SqliteMetaStore::open(m_dir / "meta.sqlite");
        ASSERT_TRUE(meta) << meta.error().message;
        m_meta = std::move(*meta);
        files::UploadLimits limits;
        limits.max_upload_bytes = m_options.max_upload_bytes;
        limits.upload_expiry_s = 3600;
        m_uploads = std::make_unique<files::UploadService>(*m_blobs, *m_meta, m_clock,
                                                            crypto::random_bytes, limits);
        m_files = std::make_unique<files::FileService>(*m_blobs, *m_meta);
        m_server = std::make_unique<Server>(m_options, *m_uploads, *m_files);
        ASSERT_FALSE(m_server->start());
        m_thread = std::thread([this] { m_server->run(); });
    }

    void stop() {
        if (!m_server) return;
        m_server->stop();
        m_thread.join();
        m_server.reset();
        m_files.reset();
        m_uploads.reset();
        m_meta.reset();
        m_blobs.reset();
    }

    [[nodiscard]] std::uint16_t port() const { return m_server->port(); }

    // Sends `raw` on a fresh connection and reads one response (header only for HEAD).
    RawResponse send_raw(const std::string& raw, bool head = false) {
        namespace asio = boost::asio;
        namespace http = boost::beast::http;
        asio::io_context io;
        asio::ip::tcp::socket socket(io);
        socket.connect({asio::ip::make_address("127.0.0.1"), port()});
        timeval tv{5, 0};
        ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        asio::write(socket, asio::buffer(raw));
        return read_response(socket, head);
    }

    static RawResponse read_response(boost::asio::ip::tcp::socket& socket, bool head) {
        namespace http = boost::beast::http;
        RawResponse out;
        boost::beast::flat_buffer buffer;
        http::response_parser<http::string_body> parser;
        parser.body_limit(64ull << 20);
        if (head) parser.skip(true);
        boost::beast::error_code ec;
        http::read(socket, buffer, parser, ec);
        if (ec) {
            out.connection_closed = true;
            if (!parser.is_header_done()) return out;
        }
        const auto& res = parser.get();
        out.status = res.result_int();
        for (const auto& field : res) {
            std::string name(field.name_string());
            for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            out.headers[name] = std::string(field.value());
        }
        out.body = res.body();
        return out;
    }

    // A request with the standard headers; `extra` is "Name: value\r\n" lines.
    RawResponse request(const std::string& method, const std::string& target,
                        const std::string& extra = "", const std::string& body = "") {
        std::string raw = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" +
                          extra;
        if (!body.empty() || method == "PATCH" || method == "POST") {
            raw += "Content-Length: " + std::to_string(body.size()) + "\r\n";
        }
        raw += "\r\n" + body;
        return send_raw(raw, method == "HEAD");
    }

    // Creates an upload of `length` bytes; returns its upload id (path tail of Location).
    std::string create_upload(std::uint64_t length, const std::string& extra = "") {
        const RawResponse res = request(
            "POST", "/files", "Tus-Resumable: 1.0.0\r\nUpload-Length: " + std::to_string(length) + "\r\n" + extra);
        EXPECT_EQ(res.status, 201u) << res.body;
        const std::string location = res.header("location");
        const auto pos = location.rfind('/');
        return pos == std::string::npos ? std::string() : location.substr(pos + 1);
    }

    RawResponse patch(const std::string& upload_id, std::uint64_t offset, const std::string& data,
                      const std::string& extra = "") {
        return request("PATCH", "/files/" + upload_id,
                       "Tus-Resumable: 1.0.0\r\nUpload-Offset: " + std::to_string(offset) +
                           "\r\nContent-Type: application/offset+octet-stream\r\n" + extra,
                       data);
    }

    // Uploads `data` in one PATCH and returns the public file id.
    std::string upload(const std::string& data) {
        const std::string id = create_upload(data.size());
        const RawResponse res = patch(id, 0, data);
        EXPECT_EQ(res.status, 204u) << res.body;
        return res.header("satload-file-id");
    }

    static std::string random_text(std::size_t n, unsigned seed = 7) {
        std::mt19937 rng(seed);
        std::string s(n, '\0');
        for (auto& c : s) c = static_cast<char>(rng() & 0xff);
        return s;
    }

    void expect_healthy() {
        const RawResponse res = request("GET", "/healthz");
        EXPECT_EQ(res.status, 200u);
        EXPECT_EQ(res.body, "ok\n");
    }

    std::filesystem::path m_dir;
    ServerOptions m_options;
    files::ManualClock m_clock{1'700'000'000};
    std::unique_ptr<store::LocalBlobStore> m_blobs;
    std::unique_ptr<store::SqliteMetaStore> m_meta;
    std::unique_ptr<files::UploadService> m_uploads;
    std::unique_ptr<files::FileService> m_files;
    std::unique_ptr<Server> m_server;
    std::thread m_thread;
};

}  // namespace satload::server::testing
