// An in-process HTTP server on 127.0.0.1 (port 0) that speaks just enough tus (creation,
// concatenation, checksum, HEAD offsets) and ranged downloads to exercise the client, with
// knobs that inject the failures the client must survive: cut connections, a server that is
// down, damaged chunks, flipped ciphertext bytes and changed ETags. Header-only because the
// unit test build globs *_test.cpp only.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <sys/socket.h>

#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/encoding.h"
#include "crypto/primitives.h"

namespace satload::client::testing {

namespace fake_asio = boost::asio;
namespace fake_beast = boost::beast;
namespace fake_http = fake_beast::http;

class FakeServer {
public:
    struct Upload {
        std::uint64_t length = 0;
        Bytes data;
        bool partial = false;
        std::string meta;     // the encrypted metadata text
        std::string file_id;  // set once complete (not for partial uploads)
    };
    struct File {
        Bytes blob;
        std::string meta;
        std::string etag;
    };

    // Knobs, set by tests before or between client runs.
    std::atomic<bool> down{false};  // close every connection without answering
    // PATCH bytes the server stores in total before it "crashes": the crossing PATCH keeps
    // its head, its connection is cut, and the server goes down.
    std::atomic<std::int64_t> store_limit_bytes{-1};
    // Cut the next PATCH after this many of its bytes (kept), then carry on healthy.
    std::atomic<std::int64_t> cut_next_patch_at{-1};
    std::atomic<int> corrupt_next_patches{0};   // flip a byte before checking the checksum
    // The ranged GET whose number (counting from 1) is cut_range_index sends cut_range_bytes of
    // its body and then drops the connection.
    std::atomic<std::uint64_t> cut_range_index{0};
    std::atomic<std::uint64_t> cut_range_bytes{0};
    std::atomic<bool> change_etag_after_first_range{false};
    std::atomic<int> patch_delay_ms{0};

    // Counters.
    std::atomic<std::uint64_t> patch_requests{0};
    std::atomic<std::uint64_t> patch_bytes_received{0};  // bodies read, stored or not
    std::atomic<std::uint64_t> patch_bytes_stored{0};
    std::atomic<std::uint64_t> checksum_headers{0};
    std::atomic<std::uint64_t> checksum_mismatches{0};
    std::atomic<std::uint64_t> head_requests{0};
    std::atomic<std::uint64_t> partial_creations{0};
    std::atomic<std::uint64_t> final_creations{0};
    std::atomic<std::uint64_t> plain_creations{0};
    std::atomic<std::uint64_t> range_requests{0};
    std::atomic<std::uint64_t> range_bytes_sent{0};
    std::atomic<int> patches_in_flight{0};
    std::atomic<int> max_patches_in_flight{0};

    FakeServer() : m_acceptor(m_ioc) {
        const fake_asio::ip::tcp::endpoint ep(fake_asio::ip::make_address("127.0.0.1"), 0);
        m_acceptor.open(ep.protocol());
        m_acceptor.set_option(fake_asio::socket_base::reuse_address(true));
        m_acceptor.bind(ep);
        m_acceptor.listen();
        m_port = m_acceptor.local_endpoint().port();
        accept_next();
        m_accept_thread = std::thread([this] { m_ioc.run(); });
    }

    ~FakeServer() {
        m_stopping = true;
        m_ioc.stop();
        m_accept_thread.join();
        {
            std::lock_guard lock(m_mutex);
            for (const int fd : m_open_fds) ::shutdown(fd, SHUT_RDWR);
        }
        for (auto& t : m_threads) t.join();
    }

    [[nodiscard]] std::string base_url() const {
        return "http://127.0.0.1:" + std::to_string(m_port);
    }
    [[nodiscard]] std::uint16_t port() const { return m_port; }

    // Registers a finished file directly (for download tests with crafted content).
    std::string add_file(Bytes blob, std::string meta) {
        std::lock_guard lock(m_mutex);
        const std::string id = new_id(16);
        m_files[id] = File{std::move(blob), std::move(meta), etag_of(id, 0)};
        return id;
    }
    void flip_byte(const std::string& file_id, std::uint64_t offset) {
        std::lock_guard lock(m_mutex);
        m_files.at(file_id).blob.at(offset) ^= 0x01;
    }
    [[nodiscard]] std::optional<File> file(const std::string& id) {
        std::lock_guard lock(m_mutex);
        const auto it = m_files.find(id);
        if (it == m_files.end()) return std::nullopt;
        return it->second;
    }
    [[nodiscard]] std::size_t upload_count() {
        std::lock_guard lock(m_mutex);
        return m_uploads.size();
    }

private:
    using Request = fake_http::request<fake_http::string_body>;
    using Response = fake_http::response<fake_http::string_body>;

    void accept_next() {
        m_acceptor.async_accept([this](boost::system::error_code ec,
                                       fake_asio::ip::tcp::socket socket) {
            if (ec || m_stopping) return;
            std::lock_guard lock(m_mutex);
            m_open_fds.insert(socket.native_handle());
            m_threads.emplace_back([this, s = std::move(socket)]() mutable { serve(std::move(s)); });
            accept_next();
        });
    }

    void forget(int fd) {
        std::lock_guard lock(m_mutex);
        m_open_fds.erase(fd);
    }

    void serve(fake_asio::ip::tcp::socket socket) {
        const int fd = socket.native_handle();
        fake_beast::flat_buffer buffer;
        while (!m_stopping) {
            fake_http::request_parser<fake_http::string_body> parser;
            parser.body_limit(1ull << 30);
            boost::system::error_code ec;
            fake_http::read(socket, buffer, parser, ec);
            if (ec) break;
            Request req = parser.release();
            if (down) break;
            std::optional<Response> res = handle(req, socket);
            if (!res) break;  // the handler cut the connection
            res->version(11);
            res->keep_alive(req.keep_alive());
            if (req.method() != fake_http::verb::head) res->prepare_payload();
            fake_http::write(socket, *res, ec);
            if (ec || !req.keep_alive()) break;
        }
        forget(fd);
        boost::system::error_code ignored;
        socket.shutdown(fake_asio::ip::tcp::socket::shutdown_both, ignored);
    }

    static Response problem(unsigned status, std::string_view title) {
        Response r{static_cast<fake_http::status>(status), 11};
        r.set(fake_http::field::content_type, "application/problem+json");
        r.body() = "{\"type\":\"https://satload.dev/problems/x\",\"title\":\"" + std::string(title) +
                   "\",\"status\":" + std::to_string(status) + "}";
        return r;
    }

    std::string new_id(std::size_t bytes) {
        Bytes b(bytes);
        crypto::random_bytes(b);
        return base64url_encode(b);
    }

    static std::string etag_of(const std::string& id, int generation) {
        return "\"" + id.substr(0, 8) + "-" + std::to_string(generation) + "\"";
    }

    std::optional<Response> handle(Request& req, fake_asio::ip::tcp::socket& socket) {
        const std::string target(req.target());
        if (target == "/files" && req.method() == fake_http::verb::post) return create(req);
        if (target.rfind("/files/", 0) == 0) {
            const std::string id = target.substr(7);
            if (req["Tus-Resumable"] != "1.0.0") return problem(412, "Tus-Resumable missing");
            if (req.method() == fake_http::verb::head) return head(id);
            if (req.method() == fake_http::verb::patch) return patch(id, req, socket);
            if (req.method() == fake_http::verb::delete_) {
                std::lock_guard lock(m_mutex);
                m_uploads.erase(id);
                return Response{fake_http::status::no_content, 11};
            }
        }
        if (target.rfind("/api/v1/files/", 0) == 0) return api_file(target.substr(14));
        if (target.rfind("/d/", 0) == 0) return download(target.substr(3), req, socket);
        return problem(404, "Not found");
    }

    Response created(const std::string& id, const std::string& file_id) {
        Response r{fake_http::status::created, 11};
        r.set(fake_http::field::location, base_url() + "/files/" + id);
        if (!file_id.empty()) r.set("Satload-File-Id", file_id);
        return r;
    }

    std::string meta_of(const Request& req) {
        const std::string value(req["Upload-Metadata"]);
        if (value.rfind("meta ", 0) != 0) return "";
        const auto decoded = base64_decode(value.substr(5));
        return decoded ? std::string(as_chars(*decoded)) : std::string("?bad base64");
    }

    Response create(const Request& req) {
        if (req["Tus-Resumable"] != "1.0.0") return problem(412, "Tus-Resumable missing");
        const std::string concat(req["Upload-Concat"]);
        std::lock_guard lock(m_mutex);
        if (concat.rfind("final;", 0) == 0) {
            ++final_creations;
            Upload up;
            std::string rest = concat.substr(6);
            while (!rest.empty()) {
                const std::size_t space = rest.find(' ');
                const std::string url = rest.substr(0, space);
                rest = space == std::string::npos ? "" : rest.substr(space + 1);
                const std::size_t slash = url.rfind('/');
                const auto it = m_uploads.find(url.substr(slash + 1));
                if (it == m_uploads.end() || !it->second.partial ||
                    it->second.data.size() != it->second.length) {
                    return problem(409, "A partial upload is not complete");
                }
                up.data.insert(up.data.end(), it->second.data.begin(), it->second.data.end());
            }
            up.length = up.data.size();
            up.meta = meta_of(req);
            const std::string id = new_id(32);
            finish(id, up);
            m_uploads[id] = up;
            return created(id, up.file_id);
        }
        const std::string length(req["Upload-Length"]);
        if (length.empty()) return problem(400, "Upload-Length missing");
        Upload up;
        up.length = std::stoull(length);
        up.partial = concat == "partial";
        up.meta = meta_of(req);
        (up.partial ? partial_creations : plain_creations)++;
        const std::string id = new_id(32);
        m_uploads[id] = up;
        return created(id, "");
    }

    // Called with m_mutex held when an upload's last byte arrived.
    void finish(const std::string& id, Upload& up) {
        if (up.partial) return;
        up.file_id = new_id(16);
        m_files[up.file_id] = File{up.data, up.meta, etag_of(up.file_id, 0)};
        (void)id;
    }

    Response head(const std::string& id) {
        ++head_requests;
        std::lock_guard lock(m_mutex);
        const auto it = m_uploads.find(id);
        if (it == m_uploads.end()) return problem(404, "Not found");
        Response r{fake_http::status::ok, 11};
        r.set("Upload-Offset", std::to_string(it->second.data.size()));
        r.set("Upload-Length", std::to_string(it->second.length));
        r.set(fake_http::field::cache_control, "no-store");
        if (!it->second.file_id.empty()) r.set("Satload-File-Id", it->second.file_id);
        r.content_length(0);
        return r;
    }

    std::optional<Response> patch(const std::string& id, Request& req,
                                  fake_asio::ip::tcp::socket&) {
        ++patch_requests;
        const int now = ++patches_in_flight;
        int seen = max_patches_in_flight.load();
        while (now > seen && !max_patches_in_flight.compare_exchange_weak(seen, now)) {
        }
        struct Leave {
            std::atomic<int>& n;
            ~Leave() { --n; }
        } leave{patches_in_flight};
        if (patch_delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(patch_delay_ms));
        std::string& body = req.body();
        patch_bytes_received += body.size();
        bool corrupted = false;
        if (corrupt_next_patches > 0 && !body.empty()) {
            --corrupt_next_patches;
            body[body.size() / 2] ^= 0x40;
            corrupted = true;
        }
        std::lock_guard lock(m_mutex);
        const auto it = m_uploads.find(id);
        if (it == m_uploads.end()) return problem(404, "Not found");
        Upload& up = it->second;
        if (req["Upload-Offset"] != std::to_string(up.data.size())) {
            return problem(409, "Upload-Offset does not match");
        }
        if (up.data.size() + body.size() > up.length) return problem(413, "Past Upload-Length");
        // A cut connection keeps what arrived (as the real server does), then no answer.
        std::int64_t cut = corrupted ? -1 : cut_next_patch_at.exchange(-1);
        const std::int64_t limit = store_limit_bytes;
        if (limit >= 0 && static_cast<std::int64_t>(patch_bytes_stored + body.size()) > limit) {
            cut = limit - static_cast<std::int64_t>(patch_bytes_stored.load());
            down = true;
        }
        if (cut >= 0) {
            const std::size_t keep = std::min<std::size_t>(static_cast<std::size_t>(cut), body.size());
            up.data.insert(up.data.end(), body.begin(), body.begin() + static_cast<std::ptrdiff_t>(keep));
            patch_bytes_stored += keep;
            if (up.data.size() == up.length) finish(id, up);
            return std::nullopt;
        }
        const std::string checksum(req["Upload-Checksum"]);
        if (!checksum.empty()) {
            ++checksum_headers;
            const auto digest = crypto::sha256(as_bytes(body));
            if (checksum != "sha256 " + base64_encode(digest)) {
                ++checksum_mismatches;
                return problem(460, "Checksum mismatch");
            }
        }
        up.data.insert(up.data.end(), body.begin(), body.end());
        patch_bytes_stored += body.size();
        Response r{fake_http::status::no_content, 11};
        if (up.data.size() == up.length) {
            finish(id, up);
            if (!up.file_id.empty()) r.set("Satload-File-Id", up.file_id);
        }
        r.set("Upload-Offset", std::to_string(up.data.size()));
        return r;
    }

    Response api_file(const std::string& id) {
        std::lock_guard lock(m_mutex);
        const auto it = m_files.find(id);
        if (it == m_files.end()) return problem(404, "Not found");
        Response r{fake_http::status::ok, 11};
        r.set(fake_http::field::content_type, "application/json");
        r.body() = "{\"id\":\"" + id + "\",\"size_bytes\":" + std::to_string(it->second.blob.size()) +
                   ",\"meta\":\"" + it->second.meta + "\",\"created\":1700000000}";
        return r;
    }

    std::optional<Response> download(const std::string& id, const Request& req,
                                     fake_asio::ip::tcp::socket& socket) {
        File f;
        {
            std::lock_guard lock(m_mutex);
            const auto it = m_files.find(id);
            if (it == m_files.end()) return problem(404, "Not found");
            f = it->second;
        }
        const std::uint64_t size = f.blob.size();
        Response r{fake_http::status::ok, 11};
        r.set(fake_http::field::etag, f.etag);
        r.set(fake_http::field::accept_ranges, "bytes");
        r.set(fake_http::field::content_type, "application/octet-stream");
        std::uint64_t first = 0, last = size - 1;
        const std::string range(req[fake_http::field::range]);
        const std::string if_range(req[fake_http::field::if_range]);
        bool cut_this = false;
        if (!range.empty() && (if_range.empty() || if_range == f.etag)) {
            cut_this = ++range_requests == cut_range_index;
            const std::size_t dash = range.find('-');
            first = std::stoull(range.substr(6, dash - 6));
            last = std::min<std::uint64_t>(std::stoull(range.substr(dash + 1)), size - 1);
            r.result(fake_http::status::partial_content);
            r.set(fake_http::field::content_range, "bytes " + std::to_string(first) + "-" +
                                                       std::to_string(last) + "/" + std::to_string(size));
            if (change_etag_after_first_range.exchange(false)) {
                std::lock_guard lock(m_mutex);
                m_files[id].etag = etag_of(id, 1);
            }
        }
        if (req.method() == fake_http::verb::head) {
            r.content_length(size);
            return r;
        }
        r.body().assign(reinterpret_cast<const char*>(f.blob.data()) + first, last - first + 1);
        if (cut_this && req.method() == fake_http::verb::get) {
            const std::size_t cut = std::min<std::size_t>(cut_range_bytes, r.body().size());
            // Announce the whole range, send only its head, and drop the connection.
            std::string head = "HTTP/1.1 206 Partial Content\r\nContent-Length: " +
                               std::to_string(r.body().size()) + "\r\nContent-Range: " +
                               std::string(r[fake_http::field::content_range]) + "\r\nETag: " +
                               f.etag + "\r\n\r\n" +
                               r.body().substr(0, cut);
            boost::system::error_code ec;
            fake_asio::write(socket, fake_asio::buffer(head), ec);
            range_bytes_sent += cut;
            return std::nullopt;
        }
        range_bytes_sent += r.body().size();
        return r;
    }

    fake_asio::io_context m_ioc;
    fake_asio::ip::tcp::acceptor m_acceptor;
    std::uint16_t m_port = 0;
    std::atomic<bool> m_stopping{false};
    std::thread m_accept_thread;
    std::mutex m_mutex;
    std::vector<std::thread> m_threads;
    std::set<int> m_open_fds;
    std::map<std::string, Upload> m_uploads;
    std::map<std::string, File> m_files;
};

}  // namespace satload::client::testing
