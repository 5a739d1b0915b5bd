// One HTTP request and its response, as the handlers see it: the request header, the body as
// a sequence of reads, and the response either whole or as a header plus streamed body.
// The connection code implements it for plain TCP and for TLS.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http.hpp>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace satload::server {

namespace http = boost::beast::http;
using boost::asio::awaitable;
using Request = http::request_header<>;
using StringResponse = http::response<http::string_body>;
using ResponseHeader = http::response_header<>;

class Exchange {
public:
    virtual ~Exchange() = default;

    [[nodiscard]] virtual const Request& request() const = 0;
    [[nodiscard]] virtual std::optional<std::uint64_t> content_length() const = 0;
    [[nodiscard]] virtual bool body_done() const = 0;
    [[nodiscard]] virtual bool keep_alive() const = 0;
    // Reads up to out.size() body bytes. Returns 0 at the end of the body; nullopt when the
    // connection failed or stalled (the caller stops; the connection is closed).
    virtual awaitable<std::optional<std::size_t>> read_body(std::span<std::uint8_t> out) = 0;
    // Sends a complete response; false if the connection failed. The answer to a HEAD leaves
    // without its body (its Content-Length still what GET would get): handlers need not clear it.
    virtual awaitable<bool> send(StringResponse response) = 0;
    // Streams a response: the header first (with Content-Length set by the caller), then body
    // pieces. false if the connection failed.
    virtual awaitable<bool> send_header(http::response<http::empty_body> header) = 0;
    virtual awaitable<bool> send_body(std::span<const std::uint8_t> data) = 0;
    // The header and the first (often only) body piece in one gather write: one system call
    // where two would halve the rate of small responses. More pieces may follow with
    // send_body. The default sends them one after the other.
    virtual awaitable<bool> send_header_with_body(http::response<http::empty_body> header,
                                                  std::span<const std::uint8_t> data) {
        if (!co_await send_header(std::move(header))) co_return false;
        co_return co_await send_body(data);
    }
    // Whether send_body_from_pipe works: a plain TCP connection, which can take bytes from a
    // pipe inside the kernel (splice(2)); not a TLS one, which must encrypt them.
    [[nodiscard]] virtual bool can_splice() const { return false; }
    // Sends exactly `n` body bytes waiting in the pipe `pipe_fd` (its read end) after the
    // header went with send_header. false if the connection failed or stalled.
    virtual awaitable<bool> send_body_from_pipe(int pipe_fd, std::size_t n) {
        (void)pipe_fd;
        (void)n;
        co_return false;
    }
    // The address of the connection's peer (the proxy's, behind one), e.g. "127.0.0.1".
    [[nodiscard]] virtual std::string peer_address() const = 0;
    // The scheme and host this request reached us at, for absolute URLs.
    [[nodiscard]] virtual std::string base_url() const = 0;
    // Asks the connection to close after this response (e.g. an unread body remains).
    virtual void close_after_response() = 0;
};

}  // namespace satload::server
