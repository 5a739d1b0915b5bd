// Connections and the server loop. One coroutine per connection on its own strand; every
// wait has a deadline (header, idle, body stall); shutdown drains before it cuts.
#include "server/server.h"

#include <array>
#include <cctype>
#include <cstring>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <fmt/format.h>
#include <algorithm>
#include <list>
#include <map>
#include <fcntl.h>
#include <sched.h>
#include <sys/socket.h>

namespace satload::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);

namespace {

// The one Host field of a request: host[:port], where host is a name or IPv4 address (letters,
// digits, '.', '-', '_', '~') or a bracketed IPv6 literal, and a port is 1 to 5 digits.
bool valid_host_field(const http::request_header<>& req) {
    if (req.count(http::field::host) != 1) return false;
    const std::string_view value = req[http::field::host];
    constexpr std::size_t kMaxHostChars = 255 + 1 + 5;  // a DNS name, ':', a port
    if (value.empty() || value.size() > kMaxHostChars) return false;
    std::string_view port;
    if (value.front() == '[') {
        const auto close = value.find(']');
        if (close == std::string_view::npos || close < 2) return false;
        const auto inside = value.substr(1, close - 1);
        if (!std::all_of(inside.begin(), inside.end(), [](char c) {
                return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.';
            })) {
            return false;
        }
        const auto after = value.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':' || after.size() == 1) return false;
            port = after.substr(1);
        }
    } else {
        std::string_view host = value;
        if (const auto colon = value.find(':'); colon != std::string_view::npos) {
            port = value.substr(colon + 1);
            host = value.substr(0, colon);
            if (port.empty()) return false;
        }
        if (host.empty() || !std::all_of(host.begin(), host.end(), [](char c) {
                return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' ||
                       c == '_' || c == '~';
            })) {
            return false;
        }
    }
    return port.size() <= 5 && std::all_of(port.begin(), port.end(), [](char c) {
               return std::isdigit(static_cast<unsigned char>(c));
           });
}

}  // namespace

class ConnectionBase {
public:
    virtual ~ConnectionBase() = default;
    virtual void drain() = 0;        // close if idle, else close after the current response
    virtual void force_close() = 0;  // cut now
};

// Allocates exactly what is asked, from the heap. Asio otherwise takes a handler's memory from
// its per-thread recycling cache, whose blocks keep the size of whatever first used them (a
// write's state, several times a readiness wait's): parked waits then held ~600 bytes each.
template <class T>
struct ExactAllocator {
    using value_type = T;
    ExactAllocator() noexcept = default;
    template <class U>
    ExactAllocator(const ExactAllocator<U>&) noexcept {}
    T* allocate(std::size_t n) { return std::allocator<T>().allocate(n); }
    void deallocate(T* p, std::size_t n) noexcept { std::allocator<T>().deallocate(p, n); }
    friend bool operator==(const ExactAllocator&, const ExactAllocator&) noexcept { return true; }
};

// Idle keep-alive connections between requests, held as bare sockets: no coroutine, no
// parser, no buffer and no timer each (a few hundred bytes where a waiting coroutine with its
// stream took several KiB), one readiness wait apiece and one sweeper for the whole lot.
// A socket that becomes readable goes back to the server to be served by a new connection;
// one idle past its deadline, or still here when the server drains, is closed. Everything
// that touches the parked sockets runs on the lot's strand.
class ParkingLot {
public:
    using Clock = std::chrono::steady_clock;

    ParkingLot(asio::io_context& io, Server& server, std::chrono::milliseconds sweep_interval)
        : m_strand(asio::make_strand(io)), m_timer(m_strand), m_server(server), m_sweep_interval(sweep_interval) {}

    // Takes an idle connection's socket; callable from any thread. Counted at once, so a
    // connection is never in neither the server's registry nor the lot. `first`: no request
    // began on it yet, and `deadline` is also the one its first request's header must meet.
    void park(tcp::socket socket, std::string peer_address, Clock::time_point deadline,
              bool first) {
        ++m_count;
        ++m_server.metrics().connections_open;
        asio::post(m_strand, [this, s = std::move(socket), peer = std::move(peer_address), deadline,
                              first]() mutable {
            if (m_closing) {
                beast::error_code ignored;
                s.close(ignored);
                forget();
                return;
            }
            // One list per timeout (the header's for first requests, the idle one otherwise):
            // deadlines grow with the time of parking, so each list stays (nearly) in deadline
            // order and the sweeper looks only at their fronts. In one list, a new connection's
            // short deadline would wait behind the idle ones' longer deadlines.
            std::list<Slot>& slots = list_for(first);
            slots.push_back(Slot{std::move(s), std::move(peer), deadline, first});
            const auto it = std::prev(slots.end());
            it->socket.async_wait(
                tcp::socket::wait_read,
                asio::bind_executor(m_strand, asio::bind_allocator(ExactAllocator<void>(),
                                                                   [this, it](const beast::error_code& ec) {
                                                                       on_ready(it, ec);
                                                                   })));
            arm_sweeper();
        });
    }

    // Closes every parked socket, now and as they arrive (the server is draining).
    void close_all() {
        asio::post(m_strand, [this] {
            m_closing = true;
            for (auto& slots : m_slots) {
                for (Slot& slot : slots) {
                    beast::error_code ignored;
                    slot.socket.close(ignored);
                }
            }
            m_timer.cancel();
        });
    }

    [[nodiscard]] std::size_t size() const { return m_count.load(); }

private:
    struct Slot {
        tcp::socket socket;
        std::string peer_address;
        Clock::time_point deadline;
        bool first = false;
    };

    // Its wait ended: the next request began (or the peer left), or the socket was closed by
    // the sweeper or a drain. The slot goes either way.
    void on_ready(std::list<Slot>::iterator it, const beast::error_code& ec) {
        tcp::socket socket = std::move(it->socket);
        std::string peer = std::move(it->peer_address);
        const std::optional<Clock::time_point> header_deadline =
            it->first ? std::optional(it->deadline) : std::nullopt;
        list_for(it->first).erase(it);
        if (!ec && !m_closing && socket.is_open()) {
            m_server.resume(std::move(socket), std::move(peer), header_deadline);
        } else {
            beast::error_code ignored;
            socket.close(ignored);
        }
        forget();
    }

    std::list<Slot>& list_for(bool first) { return m_slots[first ? 1 : 0]; }

    void forget() {
        --m_server.metrics().connections_open;
        --m_count;
    }

    void arm_sweeper() {
        if (m_sweeping || m_closing) return;
        m_sweeping = true;
        m_timer.expires_after(m_sweep_interval);
        m_timer.async_wait(asio::bind_executor(m_strand, [this](const beast::error_code& ec) {
            m_sweeping = false;
            if (ec || m_closing) return;
            sweep();
            if (!m_slots[0].empty() || !m_slots[1].empty()) arm_sweeper();
        }));
    }

    // Closes the sockets past their deadline; their waits end and on_ready drops the slots.
    void sweep() {
        const auto now = Clock::now();
        for (auto& slots : m_slots) {
            for (Slot& slot : slots) {
                if (slot.deadline > now) break;
                if (!slot.socket.is_open()) continue;
                beast::error_code ignored;
                slot.socket.close(ignored);
                ++m_server.metrics().timeouts_total;
            }
        }
    }

    asio::strand<asio::io_context::executor_type> m_strand;
    asio::steady_timer m_timer;
    Server& m_server;
    const std::chrono::milliseconds m_sweep_interval;
    std::array<std::list<Slot>, 2> m_slots;  // [0] idle between requests, [1] first request
    std::atomic<std::size_t> m_count{0};
    bool m_sweeping = false;
    bool m_closing = false;
};

namespace {

// A connection made again from a parked socket: it already counts as accepted.
struct Resumed {
    std::string peer_address;
    // Set when no request began on the connection yet: its first header's deadline, counted
    // from the accept (not from the first byte, which would give it the timeout twice).
    std::optional<std::chrono::steady_clock::time_point> header_deadline;
};

// Scrub pacing: files checked per batch between checks for shutdown.
constexpr std::size_t kScrubBatchFiles = 64;
// Connection read buffer: large while a body streams in (as large as the handler's own buffer,
// up to this), released while the connection idles.
constexpr std::size_t kBodyReadBytes = 256 * 1024;
constexpr std::size_t kMinBodyReadBytes = 4 * 1024;
constexpr std::size_t kExpireBatch = 1000;
constexpr auto kExpireInterval = std::chrono::seconds(60);

template <class Stream>
class Connection final : public ConnectionBase,
                         public Exchange,
                         public std::enable_shared_from_this<Connection<Stream>> {
public:
    static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

    template <class... Args>
    Connection(Server& server, App& app, const ServerOptions& options, Args&&... args)
        : m_stream(std::forward<Args>(args)...), m_server(server), m_app(app), m_options(options) {
        ++m_server.metrics().connections_open;
        ++m_server.metrics().connections_total;
        beast::error_code ec;
        const auto remote = lowest().socket().remote_endpoint(ec);
        if (!ec) m_peer_address = remote.address().to_string();
    }
    Connection(Server& server, App& app, const ServerOptions& options, Resumed resumed,
               tcp::socket socket)
        : m_stream(std::move(socket)),
          m_server(server),
          m_app(app),
          m_options(options),
          m_resumed(true),
          m_header_deadline(resumed.header_deadline),
          m_peer_address(std::move(resumed.peer_address)) {
        ++m_server.metrics().connections_open;
    }
    ~Connection() override { --m_server.metrics().connections_open; }

    awaitable<void> run() {
        m_server.add(this);
        co_await serve();
        m_server.remove(this);
    }

    // ConnectionBase: called from other threads, so hop onto this connection's strand.
    void drain() override {
        asio::post(m_stream.get_executor(), [self = this->shared_from_this()] {
            self->m_close = true;
            if (self->m_idle) self->close_socket();
        });
    }
    void force_close() override {
        asio::post(m_stream.get_executor(), [self = this->shared_from_this()] { self->close_socket(); });
    }

    // Exchange.
    const Request& request() const override { return m_parser->get().base(); }
    std::optional<std::uint64_t> content_length() const override {
        const auto n = m_parser->content_length();
        return n ? std::optional<std::uint64_t>(*n) : std::nullopt;
    }
    bool body_done() const override { return m_parser->is_done(); }
    bool keep_alive() const override { return m_parser->keep_alive(); }

    bool expects_continue() const {
        const auto& req = m_parser->get();
        const auto it = req.find(http::field::expect);
        return req.version() >= 11 && it != req.end() &&
               beast::iequals(it->value(), "100-continue");
    }

    awaitable<std::optional<std::size_t>> read_body(std::span<std::uint8_t> out) override {
        if (m_body_failed) co_return std::nullopt;
        // A client that sent `Expect: 100-continue` waits for this before its body (curl: up
        // to a second per request); it is sent once the handler wants the body, so a request
        // refused from its header alone never gets it (RFC 9110 10.1.1).
        if (!m_continue_sent && m_buffer.size() == 0 && expects_continue()) {
            m_continue_sent = true;
            static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
            lowest().expires_after(m_options.body_stall_timeout);
            auto [ec, n] = co_await asio::async_write(m_stream, asio::buffer(kContinue), kAwait);
            if (ec) {
                m_close = true;
                m_body_failed = true;
                co_return std::nullopt;
            }
        }
        // The body is read here rather than by http::async_read, which reads at most 64 KiB at
        // a time: each socket read takes as much as `out` holds (up to kBodyReadBytes), so a
        // large upload costs a quarter of the reads, wake-ups and acknowledgments. The parser
        // still frames the body (Content-Length or chunked) from the connection's buffer.
        const std::size_t want =
            std::clamp<std::size_t>(out.size(), kMinBodyReadBytes, kBodyReadBytes);
        if (m_buffer.capacity() < want) m_buffer.reserve(want);
        m_parser->eager(true);  // parse every buffered byte that fits, as http::async_read does
        while (!m_parser->is_done()) {
            auto& body = m_parser->get().body();
            body.data = out.data();
            body.size = out.size();
            beast::error_code ec;
            if (m_buffer.size() > 0) {
                m_buffer.consume(m_parser->put(m_buffer.data(), ec));
                if (ec == http::error::need_more || ec == http::error::need_buffer) ec = {};
            }
            const std::size_t got = out.size() - body.size;
            if (!ec && got == 0 && !m_parser->is_done()) {
                // Nothing (or only part of a chunk's framing) buffered: read the socket once.
                lowest().expires_after(m_options.body_stall_timeout);
                auto [read_ec, n] = co_await m_stream.async_read_some(
                    m_buffer.prepare(beast::read_size(m_buffer, want)), kAwait);
                m_buffer.commit(n);
                if (read_ec == asio::error::eof && n == 0) {
                    // The peer closed: complete only if the framing allows it (it never does
                    // for a body of known length that is not complete).
                    m_parser->put_eof(ec);
                    if (!ec && !m_parser->is_done()) ec = http::error::partial_message;
                } else {
                    ec = read_ec;
                }
                if (!ec) continue;
            }
            m_server.metrics().bytes_received += got;
            if (ec) {
                if (ec == beast::error::timeout) ++m_server.metrics().timeouts_total;
                m_close = true;
                // Bytes that arrived before the failure still count; the failure is reported
                // on the next call.
                m_body_failed = true;
                if (got > 0) co_return got;
                co_return std::nullopt;
            }
            if (got > 0) co_return got;
        }
        co_return std::size_t{0};
    }

    awaitable<bool> send(StringResponse response) override {
        // Every response is framed: without Content-Length an HTTP/1.1 client would read a
        // keep-alive response's body until the connection closes. 204 and 304 carry none.
        const unsigned status = response.result_int();
        if (response.find(http::field::content_length) == response.end() && status != 204 &&
            status != 304 && status >= 200) {
            response.content_length(response.body().size());
        }
        // A HEAD answer is the header only (RFC 9110 9.3.2), its Content-Length what GET would
        // send: a body here would be read as the start of the next response.
        if (request().method() == http::verb::head) response.body().clear();
        finish_response_header(response);
        const std::size_t body_bytes = response.body().size();
        lowest().expires_after(m_options.body_stall_timeout);
        auto [ec, n] = co_await http::async_write(m_stream, response, kAwait);
        if (ec) {
            m_close = true;
            co_return false;
        }
        m_server.metrics().bytes_sent += body_bytes;
        co_return true;
    }

    awaitable<bool> send_header(http::response<http::empty_body> header) override {
        finish_response_header(header);
        http::response_serializer<http::empty_body> serializer{header};
        lowest().expires_after(m_options.body_stall_timeout);
        auto [ec, n] = co_await http::async_write_header(m_stream, serializer, kAwait);
        if (ec) {
            m_close = true;
            co_return false;
        }
        co_return true;
    }

    awaitable<bool> send_body(std::span<const std::uint8_t> data) override {
        lowest().expires_after(m_options.body_stall_timeout);
        auto [ec, n] = co_await asio::async_write(m_stream, asio::buffer(data.data(), data.size()),
                                                  kAwait);
        if (ec) {
            if (ec == beast::error::timeout) ++m_server.metrics().timeouts_total;
            m_close = true;
            co_return false;
        }
        m_server.metrics().bytes_sent += n;
        co_return true;
    }

    [[nodiscard]] bool can_splice() const override { return !kTls; }

    awaitable<bool> send_body_from_pipe(int pipe_fd, std::size_t n) override {
        if constexpr (kTls) {
            co_return false;
        } else {
            auto& socket = lowest().socket();
            while (n > 0) {
                // Not SPLICE_F_MORE: on the body's last piece it corks the final partial
                // segment until a later write on the connection.
                const ssize_t r = ::splice(pipe_fd, nullptr, socket.native_handle(), nullptr, n,
                                           SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
                if (r > 0) {
                    n -= static_cast<std::size_t>(r);
                    m_server.metrics().bytes_sent += static_cast<std::uint64_t>(r);
                    m_server.metrics().bytes_spliced += static_cast<std::uint64_t>(r);
                    continue;
                }
                if (r < 0 && errno == EINTR) continue;
                if (r < 0 && errno == EAGAIN) {
                    // The socket's send buffer is full: wait until it drains, as long as a
                    // stalled body may take (the stream's own timeout covers its operations
                    // only, not a wait on its socket).
                    asio::steady_timer stall(socket.get_executor(), m_options.body_stall_timeout);
                    stall.async_wait([&socket](const beast::error_code& ec) {
                        if (!ec) socket.cancel();
                    });
                    auto [ec] = co_await socket.async_wait(tcp::socket::wait_write, kAwait);
                    stall.cancel();
                    if (!ec) continue;
                    if (ec == asio::error::operation_aborted) ++m_server.metrics().timeouts_total;
                }
                m_close = true;
                co_return false;
            }
            co_return true;
        }
    }

    awaitable<bool> send_header_with_body(http::response<http::empty_body> header,
                                          std::span<const std::uint8_t> data) override {
        finish_response_header(header);
        http::response_serializer<http::empty_body> serializer{header};
        // The serializer hands out the header's buffers; they go out with the body's bytes in
        // one write (its buffers stay valid until the serializer is consumed, after the write).
        std::optional<std::vector<asio::const_buffer>> head;
        beast::error_code sec;
        serializer.split(true);
        serializer.next(sec, [&](beast::error_code&, const auto& buffers) {
            head.emplace(asio::buffer_sequence_begin(buffers), asio::buffer_sequence_end(buffers));
        });
        if (sec || !head) {
            m_close = true;
            co_return false;
        }
        std::vector<asio::const_buffer> gather = std::move(*head);
        gather.emplace_back(data.data(), data.size());
        lowest().expires_after(m_options.body_stall_timeout);
        auto [ec, n] = co_await asio::async_write(m_stream, gather, kAwait);
        if (ec) {
            if (ec == beast::error::timeout) ++m_server.metrics().timeouts_total;
            m_close = true;
            co_return false;
        }
        m_server.metrics().bytes_sent += data.size();
        co_return true;
    }

    std::string base_url() const override {
        const Request& req = request();
        const auto host = req.find(http::field::host);
        const std::string authority =
            host != req.end() ? std::string(host->value()) : m_options.listen;
        return std::string(kTls ? "https://" : "http://") + authority;
    }

    void close_after_response() override { m_close = true; }

    std::string peer_address() const override { return m_peer_address; }

private:
    auto& lowest() { return beast::get_lowest_layer(m_stream); }

    template <class Message>
    void finish_response_header(Message& response) {
        m_status = response.result_int();
        // Counted before the bytes leave, so a client that reads /metrics right after its
        // response already sees its request.
        m_server.metrics().count_request(request().method_string(), m_status);
        if (m_close || m_server.draining()) response.keep_alive(false);
        // A body the handler did not read ends the connection after this answer (it would be
        // parsed as the next request): the answer says so, so the client does not pipeline on.
        if (m_parser && !m_parser->is_done()) response.keep_alive(false);
        if (!response.keep_alive()) m_close = true;
    }

    void close_socket() {
        beast::error_code ec;
        lowest().socket().shutdown(tcp::socket::shutdown_both, ec);
        lowest().socket().close(ec);
    }

    awaitable<void> answer_and_close(Problem problem, std::string_view detail) {
        StringResponse res = App::problem_response(11, false, problem, detail);
        lowest().expires_after(m_options.header_timeout);
        co_await http::async_write(m_stream, res, kAwait);
        m_server.metrics().count_request("other", res.result_int());
    }

    awaitable<void> serve() {
        // A new connection's first request header (and a TLS handshake before it) is due one
        // header timeout after the accept, however long its first byte took.
        if (!m_resumed)
            m_header_deadline = std::chrono::steady_clock::now() + m_options.header_timeout;
        if constexpr (kTls) {
            lowest().expires_at(*m_header_deadline);
            auto [ec] = co_await m_stream.async_handshake(ssl::stream_base::server, kAwait);
            if (ec) co_return;
        }
        // The loop's own frame stays small: what a request needs lives in serve_request's
        // frame, which exists only while a request is read and answered, so an idle
        // keep-alive connection holds just this frame, wait_for_request's and its socket.
        while (!m_close) {
            if (m_buffer.size() == 0) {
                if constexpr (!kTls) {
                    // Idle: the next request's first byte if it is already here, else the
                    // socket waits in the parking lot and this connection ends.
                    const NextByte next = take_next_byte();
                    if (next == NextByte::gone) break;
                    if (next == NextByte::none) {
                        park();
                        co_return;
                    }
                } else if (!co_await wait_for_request()) {
                    break;
                }
            }
            if (!co_await serve_request()) break;
        }
        if constexpr (kTls) {
            lowest().expires_after(std::chrono::seconds(2));
            co_await m_stream.async_shutdown(kAwait);
        }
        close_socket();
    }

    enum class NextByte { taken, none, gone };

    // One non-blocking read of the next request's first byte (what the waiting read would
    // try first anyway).
    NextByte take_next_byte() {
        const ssize_t n = ::recv(lowest().socket().native_handle(), m_first_byte.data(), 1, MSG_DONTWAIT);
        if (n == 1) {
            const auto room = m_buffer.prepare(1);
            std::memcpy(room.data(), m_first_byte.data(), 1);
            m_buffer.commit(1);
            return NextByte::taken;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return NextByte::none;
        return NextByte::gone;  // the peer closed (0) or the socket failed
    }

    // Hands the idle socket to the server's parking lot, until the first request's header
    // deadline on a connection that has not begun one, else for the idle timeout.
    void park() {
        m_parser.reset();
        auto& socket = lowest().socket();
        ParkingLot& lot = m_server.parking_for(asio::query(socket.get_executor(), asio::execution::context));
        const auto deadline = m_header_deadline ? *m_header_deadline
                                                : ParkingLot::Clock::now() + m_options.idle_timeout;
        lot.park(tcp::socket(std::move(socket)), std::move(m_peer_address), deadline,
                 m_header_deadline.has_value());
    }

    // Idle between requests: waits for the next request's first byte holding no parser and no
    // read buffer (a 1-byte read into the connection itself). False when the peer left, the
    // wait timed out, or the server is draining.
    awaitable<bool> wait_for_request() {
        m_idle = true;
        m_parser.reset();
        m_buffer.shrink_to_fit();
        if (m_header_deadline) {
            lowest().expires_at(*m_header_deadline);
        } else {
            lowest().expires_after(m_options.idle_timeout);
        }
        auto [ec, n] = co_await m_stream.async_read_some(asio::buffer(m_first_byte), kAwait);
        if (ec || n == 0) {
            if (ec == beast::error::timeout) ++m_server.metrics().timeouts_total;
            co_return false;
        }
        const auto room = m_buffer.prepare(1);
        std::memcpy(room.data(), m_first_byte.data(), 1);
        m_buffer.commit(1);
        co_return true;
    }

    // Reads one request's header and has the app answer it. False when the connection must
    // close now (a read error, after answering what can be answered).
    awaitable<bool> serve_request() {
        m_idle = true;  // until the header is in, a drain may close the connection
        // A request has begun (or bytes of it are buffered): its header has the header timeout,
        // the first one counted from the accept.
        if (m_header_deadline) {
            lowest().expires_at(*m_header_deadline);
            m_header_deadline.reset();
        } else {
            lowest().expires_after(m_options.header_timeout);
        }
        m_parser = std::make_unique<http::request_parser<http::buffer_body>>();
        m_body_failed = false;
        m_continue_sent = false;
        m_parser->header_limit(m_options.max_header_bytes);
        m_parser->body_limit(boost::none);  // handlers enforce their own body limits
        auto [ec, n] = co_await http::async_read_header(m_stream, m_buffer, *m_parser, kAwait);
        m_idle = false;
        if (ec) {
            if (ec == beast::error::timeout) {
                ++m_server.metrics().timeouts_total;
            } else if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
                co_await answer_and_close(Problem::headers_too_large, "the request's header fields are too large");
            } else if (ec.category() == http::make_error_code(http::error::bad_target).category() &&
                       ec != http::error::end_of_stream && ec != http::error::partial_message) {
                co_await answer_and_close(Problem::bad_request, fmt::format("malformed request: {}", ec.message()));
            }
            co_return false;
        }
        // RFC 9112 6.3: a Transfer-Encoding whose last coding is not chunked leaves the body's
        // length unknown; the only safe answer is 400 and closing (else the body could be read
        // as the next request).
        if (m_parser->get().find(http::field::transfer_encoding) != m_parser->get().end() &&
            !m_parser->chunked()) {
            co_await answer_and_close(Problem::bad_request,
                                      "Transfer-Encoding must end with chunked");
            co_return false;
        }
        // RFC 9112 3.2: an HTTP/1.1 request carries exactly one Host, a valid authority (it
        // becomes part of the URLs this server answers with when no --public-url is set).
        if (const auto& req = m_parser->get(); req.version() >= 11 && !valid_host_field(req)) {
            co_await answer_and_close(Problem::bad_request,
                                      "the request needs one valid Host header");
            co_return false;
        }
        m_status = 0;
        co_await m_app.handle(*this);
        // An idle connection keeps no buffer at all: it costs memory only while it talks.
        if (m_buffer.size() == 0) m_buffer.shrink_to_fit();
        // A body the handler did not read would be parsed as the next request: close.
        if (!m_parser->is_done()) m_close = true;
        if (m_server.draining()) m_close = true;
        co_return true;
    }

    Stream m_stream;
    beast::flat_buffer m_buffer;
    // On the heap, and only while a request is read or answered: an idle connection holds none.
    std::unique_ptr<http::request_parser<http::buffer_body>> m_parser;
    Server& m_server;
    App& m_app;
    const ServerOptions& m_options;
    bool m_close = false;
    bool m_resumed = false;
    // Until the first request's header is in: when it is due (see serve).
    std::optional<std::chrono::steady_clock::time_point> m_header_deadline;
    bool m_idle = true;
    bool m_body_failed = false;
    bool m_continue_sent = false;  // this request's interim 100 (Continue) answer
    unsigned m_status = 0;
    std::string m_peer_address;
    std::array<char, 1> m_first_byte{};
};

// One worker per CPU this process may run on (more only adds thread switches), but at least
// two, so a thread blocked in a disk sync does not stall every other connection.
unsigned worker_threads(const ServerOptions& options) {
    if (options.threads) return options.threads;
    cpu_set_t set;
    CPU_ZERO(&set);
    unsigned cpus = std::thread::hardware_concurrency();
    if (::sched_getaffinity(0, sizeof set, &set) == 0) cpus = static_cast<unsigned>(CPU_COUNT(&set));
    return std::max(2u, cpus);
}

// How often the parking lot closes idle sockets past their deadline: an eighth of the shorter
// timeout (so a deadline is kept to within 12.5%), between 10 ms and 1 s.
std::chrono::milliseconds sweep_interval(const ServerOptions& options) {
    const auto shortest = std::min(std::chrono::duration_cast<std::chrono::milliseconds>(options.header_timeout),
                                   std::chrono::duration_cast<std::chrono::milliseconds>(options.idle_timeout));
    return std::clamp<std::chrono::milliseconds>(shortest / 8, std::chrono::milliseconds(10),
                                                 std::chrono::milliseconds(1000));
}

std::optional<tcp::endpoint> parse_listen(const std::string& listen, std::string& error) {
    const auto colon = listen.rfind(':');
    if (colon == std::string::npos) {
        error = "--listen needs HOST:PORT";
        return std::nullopt;
    }
    std::string host = listen.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    const std::string port_text = listen.substr(colon + 1);
    unsigned long port = 0;
    try {
        std::size_t used = 0;
        port = std::stoul(port_text, &used);
        if (used != port_text.size() || port > 65535) throw std::out_of_range("port");
    } catch (const std::exception&) {
        error = fmt::format("--listen: '{}' is not a port number", port_text);
        return std::nullopt;
    }
    beast::error_code ec;
    const auto address = asio::ip::make_address(host.empty() ? "0.0.0.0" : host, ec);
    if (ec) {
        error = fmt::format("--listen: '{}' is not an IP address", host);
        return std::nullopt;
    }
    return tcp::endpoint(address, static_cast<std::uint16_t>(port));
}

}  // namespace

Server::Server(const ServerOptions& options, files::UploadService& uploads, files::FileService& files)
    : m_options(options),
      m_uploads(uploads),
      m_files(files),
      m_app(options, uploads, files, m_metrics),
      m_io(1),
      m_acceptor(m_io) {
    // Each loop is run by one thread only (concurrency hint 1).
    for (unsigned i = 1; i < worker_threads(options); ++i) m_more_io.push_back(std::make_unique<asio::io_context>(1));
    m_parking.push_back(std::make_unique<ParkingLot>(m_io, *this, sweep_interval(options)));
    for (auto& io : m_more_io) m_parking.push_back(std::make_unique<ParkingLot>(*io, *this, sweep_interval(options)));
}

ParkingLot& Server::parking_for(const asio::execution_context& context) {
    for (std::size_t i = 0; i < m_more_io.size(); ++i) {
        if (&context == static_cast<const asio::execution_context*>(m_more_io[i].get())) return *m_parking[i + 1];
    }
    return *m_parking[0];
}

std::size_t Server::parked() const {
    std::size_t n = 0;
    for (const auto& lot : m_parking) n += lot->size();
    return n;
}

Server::~Server() {
    {
        std::lock_guard guard(m_maint_mutex);
        m_maint_stop = true;
    }
    m_maint_cv.notify_all();
    if (m_maintenance.joinable()) m_maintenance.join();
}

std::optional<std::string> Server::start() {
    std::string error;
    const auto endpoint = parse_listen(m_options.listen, error);
    if (!endpoint) return error;
    if (!m_options.tls_cert_file.empty() || !m_options.tls_key_file.empty()) {
        if (m_options.tls_cert_file.empty() || m_options.tls_key_file.empty()) {
            return std::string("HTTPS needs both --tls-cert and --tls-key");
        }
        m_tls = std::make_unique<ssl::context>(ssl::context::tls_server);
        m_tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                           ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
        beast::error_code ec;
        m_tls->use_certificate_chain_file(m_options.tls_cert_file, ec);
        if (ec) return fmt::format("cannot load --tls-cert {}: {}", m_options.tls_cert_file, ec.message());
        m_tls->use_private_key_file(m_options.tls_key_file, ssl::context::pem, ec);
        if (ec) return fmt::format("cannot load --tls-key {}: {}", m_options.tls_key_file, ec.message());
    }
    beast::error_code ec;
    m_acceptor.open(endpoint->protocol(), ec);
    if (!ec) m_acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) m_acceptor.bind(*endpoint, ec);
    if (!ec) m_acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return fmt::format("cannot listen on {}: {}", m_options.listen, ec.message());
    m_port = m_acceptor.local_endpoint().port();
    return std::nullopt;
}

void Server::add(ConnectionBase* c) {
    std::lock_guard guard(m_conn_mutex);
    m_connections.insert(c);
}

void Server::remove(ConnectionBase* c) {
    std::lock_guard guard(m_conn_mutex);
    m_connections.erase(c);
}

awaitable<void> Server::accept_loop() {
    while (true) {
        // Round robin over the loops: each connection stays on the one it is given.
        const unsigned loop = m_next_loop++ % static_cast<unsigned>(m_more_io.size() + 1);
        asio::io_context& io = loop == 0 ? m_io : *m_more_io[loop - 1];
        auto [ec, socket] = co_await m_acceptor.async_accept(asio::make_strand(io), kAwait);
        if (ec) {
            if (ec == asio::error::operation_aborted || !m_acceptor.is_open()) co_return;
            // Out of descriptors or similar: back off briefly instead of spinning.
            asio::steady_timer pause(m_io, std::chrono::milliseconds(50));
            co_await pause.async_wait(kAwait);
            continue;
        }
        if (static_cast<std::uint64_t>(m_metrics.connections_open.load()) >= m_options.max_connections) {
            beast::error_code ignored;
            socket.close(ignored);
            continue;
        }
        socket.set_option(tcp::no_delay(true));
        auto executor = socket.get_executor();
        if (m_tls) {
            using TlsStream = beast::ssl_stream<beast::tcp_stream>;
            auto conn = std::make_shared<Connection<TlsStream>>(*this, m_app, m_options,
                                                                std::move(socket), *m_tls);
            asio::co_spawn(executor, [conn]() { return conn->run(); }, asio::detached);
        } else {
            auto conn = std::make_shared<Connection<beast::tcp_stream>>(*this, m_app, m_options,
                                                                        std::move(socket));
            asio::co_spawn(executor, [conn]() { return conn->run(); }, asio::detached);
        }
    }
}

void Server::resume(tcp::socket socket, std::string peer_address,
                    std::optional<std::chrono::steady_clock::time_point> header_deadline) {
    auto executor = socket.get_executor();
    auto conn = std::make_shared<Connection<beast::tcp_stream>>(
        *this, m_app, m_options, Resumed{std::move(peer_address), header_deadline},
        std::move(socket));
    asio::co_spawn(executor, [conn]() { return conn->run(); }, asio::detached);
}

void Server::begin_drain() {
    if (m_draining.exchange(true)) return;
    beast::error_code ec;
    m_acceptor.close(ec);
    {
        std::lock_guard guard(m_maint_mutex);
        m_maint_stop = true;
    }
    m_maint_cv.notify_all();
    std::vector<std::shared_ptr<ConnectionBase>> keep;
    {
        std::lock_guard guard(m_conn_mutex);
        for (auto* c : m_connections) c->drain();
    }
    for (auto& lot : m_parking) lot->close_all();
    // After the grace period, cut whatever is still transferring; a cut upload keeps its
    // synced bytes and stays resumable.
    asio::co_spawn(
        m_io,
        [this]() -> awaitable<void> {
            const auto deadline = std::chrono::steady_clock::now() + m_options.shutdown_grace;
            asio::steady_timer timer(m_io);
            while (std::chrono::steady_clock::now() < deadline) {
                {
                    std::lock_guard guard(m_conn_mutex);
                    if (m_connections.empty() && parked() == 0) co_return;
                }
                timer.expires_after(std::chrono::milliseconds(50));
                co_await timer.async_wait(kAwait);
            }
            std::lock_guard guard(m_conn_mutex);
            for (auto* c : m_connections) c->force_close();
        },
        asio::detached);
}

void Server::stop() {
    asio::post(m_io, [this] { begin_drain(); });
}

void Server::maintenance_loop() {
    auto last_expire = std::chrono::steady_clock::now() - kExpireInterval;
    auto last_scrub = std::chrono::steady_clock::now();
    std::string scrub_cursor;
    bool scrubbing = false;
    std::unique_lock lock(m_maint_mutex);
    while (!m_maint_stop) {
        lock.unlock();
        const auto now = std::chrono::steady_clock::now();
        // Download counts of files without a limit, batched (see FileService).
        (void)m_files.flush_download_counts();
        if (now - last_expire >= kExpireInterval) {
            m_uploads.expire(kExpireBatch);
            // Anonymous files past their lifetime (or their own expiry): record, then blob.
            if (const std::size_t removed = m_files.remove_expired(kExpireBatch); removed > 0) {
                fmt::print(stderr, "removed {} expired anonymous file(s)\n", removed);
            }
            last_expire = now;
        }
        if (!scrubbing && now - last_scrub >= m_options.scrub_interval) scrubbing = true;
        if (scrubbing) {
            const auto report = m_files.scrub(scrub_cursor, kScrubBatchFiles);
            m_metrics.scrub_checked += report.checked;
            for (const auto& id : report.corrupt) {
                fmt::print(stderr, "scrub: blob of file {} does not match its digest\n", id);
            }
            scrub_cursor = report.last_id;
            if (scrub_cursor.empty()) {
                scrubbing = false;
                last_scrub = std::chrono::steady_clock::now();
            }
        }
        lock.lock();
        if (!scrubbing) m_maint_cv.wait_for(lock, std::chrono::seconds(1));
    }
}

void Server::run() {
    asio::signal_set signals(m_io, SIGINT, SIGTERM);
    signals.async_wait([this](const beast::error_code& ec, int signo) {
        if (ec) return;
        fmt::print(stderr, "received signal {}, finishing transfers (up to {} s)\n", signo,
                   m_options.shutdown_grace.count());
        begin_drain();
    });
    asio::co_spawn(m_io, accept_loop(), asio::detached);
    m_maintenance = std::thread([this] { maintenance_loop(); });
    std::vector<std::thread> pool;
    // Keep the loops alive until the drain is complete, even while no socket is open.
    auto work = asio::make_work_guard(m_io);
    std::vector<asio::executor_work_guard<asio::io_context::executor_type>> more_work;
    for (auto& io : m_more_io) more_work.push_back(asio::make_work_guard(*io));
    asio::co_spawn(
        m_io,
        [this, &work, &more_work, &signals]() -> awaitable<void> {
            asio::steady_timer timer(m_io);
            while (true) {
                timer.expires_after(std::chrono::milliseconds(100));
                co_await timer.async_wait(kAwait);
                if (!m_draining) continue;
                std::lock_guard guard(m_conn_mutex);
                if (m_connections.empty() && parked() == 0) break;
            }
            beast::error_code ec;
            signals.cancel(ec);
            work.reset();
            for (auto& w : more_work) w.reset();
        },
        asio::detached);
    for (auto& io : m_more_io) pool.emplace_back([loop = io.get()] { loop->run(); });
    m_io.run();
    for (auto& t : pool) t.join();
    {
        std::lock_guard guard(m_maint_mutex);
        m_maint_stop = true;
    }
    m_maint_cv.notify_all();
    if (m_maintenance.joinable()) m_maintenance.join();
    // Every connection is closed: the last batched download counts go to the store.
    (void)m_files.flush_download_counts();
}

}  // namespace satload::server
