// S3Client: Beast's asynchronous operations driven to completion one at a time on a private
// io_context (only asynchronous operations honour tcp_stream's timeouts), SigV4 on every
// request, one keep-alive connection reopened when the server closes it.
#include "s3/s3_client.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <optional>
#include <thread>

#include "core/check.h"
#include "s3/s3_xml.h"

namespace satload::s3 {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

constexpr std::string_view kService = "s3";
// User metadata naming who wrote an object (S3 returns x-amz-meta-* headers on HEAD and GET).
constexpr std::string_view kWriterHeader = "x-amz-meta-satload-writer";
constexpr std::string_view kUserAgent = "satload-s3/0.1";
// Receive buffer: Beast reads at most the free capacity per system call.
constexpr std::size_t kReceiveBufferBytes = 128 * 1024;
// A part streamed as it arrives goes on a fresh connection when the kept one has been idle
// longer than this (services close idle connections after ~5 s to minutes).
constexpr std::chrono::milliseconds kStreamedPartMaxIdle{1'000};
// Non-2xx and XML bodies are read in chunks of this size.
constexpr std::size_t kXmlChunkBytes = 16 * 1024;

// TCP_QUICKACK: acknowledge every segment at once instead of after up to 40 ms. RGW writes an
// answer's head and its end (a listing's last chunk) separately with Nagle on, so the end waits
// for the acknowledgment of the head: a delayed one cost ~44 ms per listing (three listings
// a tus PATCH). Linux leaves quick-ack mode on its own, so it is set again before each read.
using QuickAck = asio::detail::socket_option::boolean<IPPROTO_TCP, TCP_QUICKACK>;

S3Failure failure(S3Error code, std::string message) {
    return S3Failure{code, std::move(message), 0, {}};
}

std::optional<std::uint64_t> parse_u64(std::string_view text) {
    std::uint64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return value;
}

struct Request {
    http::verb method = http::verb::get;
    std::string_view operation;  // for messages: "PutObject", ...
    std::string key;             // empty: the bucket itself
    Pairs query;
    Pairs headers;  // besides Host and the x-amz ones; all signed
    ByteSpan body;
    bool sign_payload = true;      // hash the body into the signature (small XML bodies)
    std::span<std::uint8_t> into;  // a 2xx body goes here instead of Response::body
    bool want_body_into = false;
    bool stream_body = false;  // a 2xx body is left on the connection for read_stream()
};

struct Response {
    unsigned status = 0;
    http::fields headers;
    std::string body;            // XML answers and error documents
    std::size_t into_bytes = 0;  // bytes stored in Request::into
    std::uint64_t stream_bytes = 0;  // a streamed body's length (Request::stream_body)
};

std::string request_target(const S3Endpoint& ep, const Request& r) {
    std::string path = "/" + ep.bucket;
    if (!r.key.empty()) path += "/" + r.key;
    std::string target = uri_encode(path, true);
    char sep = '?';
    for (const auto& [name, value] : r.query) {
        target.push_back(sep);
        sep = '&';
        target += uri_encode(name, false);
        if (!value.empty()) {
            target.push_back('=');
            target += uri_encode(value, false);
        }
    }
    return target;
}

std::string host_header(const S3Endpoint& ep) {
    if (ep.port == kDefaultHttpPort) return ep.host;
    return ep.host + ":" + std::to_string(ep.port);
}

// The failure for a non-2xx answer, from its error document when it has one.
S3Failure answer_failure(std::string_view operation, const Response& response) {
    std::string code;
    std::string message;
    if (xml_root_is(response.body, "Error")) {
        code = xml_text(response.body, "Code").value_or("");
        message = xml_text(response.body, "Message").value_or("");
    }
    S3Failure f;
    f.code = classify_s3_error(response.status, code);
    f.http_status = response.status;
    f.s3_code = code;
    f.message = std::string(operation) + ": HTTP " + std::to_string(response.status);
    if (!code.empty()) f.message += " " + code;
    if (!message.empty()) f.message += " (" + message + ")";
    return f;
}

S3Failure protocol_failure(std::string_view operation, std::string_view what) {
    return failure(S3Error::protocol, std::string(operation) + ": " + std::string(what));
}

}  // namespace

S3Error classify_s3_error(unsigned http_status, std::string_view s3_code) {
    if (s3_code == "NoSuchKey") return S3Error::not_found;
    if (s3_code == "NoSuchUpload") return S3Error::no_such_upload;
    if (s3_code == "NoSuchBucket") return S3Error::no_such_bucket;
    if (s3_code == "AccessDenied" || s3_code == "InvalidAccessKeyId" ||
        s3_code == "SignatureDoesNotMatch" || s3_code == "RequestTimeTooSkewed") {
        return S3Error::access_denied;
    }
    if (s3_code == "InvalidRange" || http_status == 416) return S3Error::invalid_range;
    if (http_status == 404) return S3Error::not_found;
    if (http_status == 401 || http_status == 403) return S3Error::access_denied;
    if (http_status == 409) return S3Error::conflict;
    if (http_status >= 500) return S3Error::server;
    if (http_status >= 400) return S3Error::invalid_request;
    return S3Error::protocol;  // a 1xx or 3xx where S3 answers 2xx or an error
}

struct S3Client::Impl {
    S3Endpoint endpoint;
    Credentials credentials;
    S3Timeouts timeouts;
    asio::io_context ioc;
    std::optional<beast::tcp_stream> stream;
    beast::flat_buffer buffer;
    std::uint64_t connections = 0;
    bool reused = false;  // the current connection has served a request before
    // When the connection last carried traffic as far as we know: an answer read, or a part's
    // last byte sent (its answer came after, but may have waited unread; see finish_part).
    std::chrono::steady_clock::time_point last_used;
    std::chrono::steady_clock::time_point part_sent_at;  // when the part's last byte went
    // A streamed body (start_object_range) still being read: its bytes left, and whether the
    // connection may serve another request once they are all read.
    bool streaming = false;
    std::uint64_t stream_left = 0;
    bool stream_keep_alive = false;
    std::string_view stream_operation;
    // A part being sent as its bytes arrive (begin_upload_part): its request, and the body
    // bytes still to send.
    bool sending_part = false;
    std::uint64_t part_left = 0;
    Request part_request;
    std::vector<char> chunk = std::vector<char>(kXmlChunkBytes);

    Impl(S3Endpoint ep, Credentials creds, S3Timeouts t)
        : endpoint(std::move(ep)), credentials(std::move(creds)), timeouts(t) {
        buffer.reserve(kReceiveBufferBytes);
    }

    template <class Start>
    boost::system::error_code run(Start&& start) {
        boost::system::error_code result = asio::error::would_block;
        start([&result](boost::system::error_code ec, auto&&...) { result = ec; });
        ioc.restart();
        ioc.run();
        return result;
    }

    void close() {
        if (stream) {
            boost::system::error_code ignored;
            stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
            stream->close();
        }
        stream.reset();
        buffer.clear();
        reused = false;
        streaming = false;
        stream_left = 0;
        sending_part = false;
        part_left = 0;
    }

    void quick_ack() {
        boost::system::error_code ignored;  // only a delay is lost without it
        stream->socket().set_option(QuickAck(true), ignored);
    }

    S3Failure network_failure(std::string_view operation, std::string_view step,
                              const boost::system::error_code& ec) {
        const bool timed_out = ec == beast::error::timeout || ec == asio::error::operation_aborted;
        return failure(timed_out ? S3Error::timeout : S3Error::network,
                       std::string(operation) + ": cannot " + std::string(step) + " " +
                           endpoint.host + ":" + std::to_string(endpoint.port) + ": " +
                           (timed_out ? std::string("timed out") : ec.message()));
    }

    S3Result<void> connect(std::string_view operation) {
        if (stream) return {};
        tcp::resolver resolver(ioc);
        tcp::resolver::results_type results;
        asio::steady_timer timer(ioc);
        timer.expires_after(timeouts.connect_ms);
        timer.async_wait([&resolver](boost::system::error_code ec) {
            if (!ec) resolver.cancel();
        });
        auto ec = run([&](auto handler) {
            resolver.async_resolve(
                endpoint.host, std::to_string(endpoint.port),
                [&, handler](boost::system::error_code e, tcp::resolver::results_type r) mutable {
                    timer.cancel();
                    results = std::move(r);
                    handler(e);
                });
        });
        if (ec) {
            auto f = network_failure(operation, "resolve", ec);
            f.code = S3Error::connect;
            return fail(std::move(f));
        }
        stream.emplace(ioc);
        stream->expires_after(timeouts.connect_ms);
        ec = run([&](auto handler) { stream->async_connect(results, handler); });
        if (ec) {
            close();
            auto f = network_failure(operation, "connect to", ec);
            f.code = S3Error::connect;
            return fail(std::move(f));
        }
        stream->socket().set_option(tcp::no_delay(true), ec);
        ++connections;
        return {};
    }

    http::request<http::span_body<const std::uint8_t>> build(const Request& r) {
        const std::string date = amz_date(std::chrono::system_clock::now());
        const std::string payload_hash =
            r.sign_payload ? hex_encode(crypto::sha256(r.body)) : std::string(kUnsignedPayload);
        SignableRequest signable;
        signable.method = std::string(http::to_string(r.method));
        signable.path = "/" + endpoint.bucket + (r.key.empty() ? "" : "/" + r.key);
        signable.query = r.query;
        signable.headers = {{"host", host_header(endpoint)},
                            {"x-amz-content-sha256", payload_hash},
                            {"x-amz-date", date}};
        for (const auto& h : r.headers) signable.headers.push_back(h);
        signable.payload_sha256_hex = payload_hash;

        http::request<http::span_body<const std::uint8_t>> req;
        req.method(r.method);
        req.target(request_target(endpoint, r));
        req.version(11);
        for (const auto& [name, value] : signable.headers) req.set(name, value);
        req.set(http::field::user_agent, kUserAgent);
        req.set(http::field::authorization,
                authorization(credentials, endpoint.region, kService, date, signable));
        req.body() = beast::span<const std::uint8_t>(r.body.data(), r.body.size());
        if (r.method == http::verb::put || r.method == http::verb::post) {
            req.content_length(r.body.size());
        }
        req.keep_alive(true);
        return req;
    }

    // One exchange on the current connection. `answered` tells whether any byte of a response
    // arrived (only then may the request have been carried out).
    S3Result<Response> exchange(const Request& r, bool& answered) {
        answered = false;
        auto req = build(r);
        stream->expires_after(timeouts.io_ms);
        auto ec = run([&](auto handler) { http::async_write(*stream, req, handler); });
        if (ec) {
            close();
            return fail(network_failure(r.operation, "send to", ec));
        }
        return receive(r, answered);
    }

    // Reads the answer to `r`, which has been sent.
    S3Result<Response> receive(const Request& r, bool& answered) {
        boost::system::error_code ec;
        http::response_parser<http::buffer_body> parser;
        parser.header_limit(kMaxResponseHeaderBytes);
        if (r.method == http::verb::head) parser.skip(true);
        // Beast checks Content-Length against the limit while parsing the header, before the
        // status is known: allow the larger of the two possible bodies, and bound the error
        // or XML body below as it arrives.
        // A streamed body is bounded by the range asked for (checked by the caller).
        if (r.stream_body) {
            parser.body_limit(boost::none);
        } else {
            parser.body_limit(r.want_body_into
                                  ? std::max<std::uint64_t>(r.into.size(), kMaxXmlBodyBytes)
                                  : std::uint64_t{kMaxXmlBodyBytes});
        }
        stream->expires_after(timeouts.io_ms);
        quick_ack();
        ec = run([&](auto handler) { http::async_read_header(*stream, buffer, parser, handler); });
        answered = parser.got_some();
        if (ec) {
            close();
            if (ec == http::error::header_limit) {
                return fail(protocol_failure(r.operation, "response headers too large"));
            }
            return fail(network_failure(r.operation, "read from", ec));
        }
        Response response;
        response.status = parser.get().result_int();
        response.headers = parser.get().base();
        const bool ok = response.status / 100 == 2;
        if (ok && r.stream_body) {
            // The body stays on the connection: the bytes read with the header are in `buffer`,
            // the rest is read straight from the socket into the caller's buffers.
            const auto length = parser.content_length();
            if (parser.chunked() || !length) {
                close();
                return fail(protocol_failure(r.operation, "a streamed answer without Content-Length"));
            }
            response.stream_bytes = *length;
            streaming = *length > 0;
            stream_left = *length;
            stream_keep_alive = parser.get().keep_alive();
            stream_operation = r.operation;
            if (!streaming && !stream_keep_alive) close();
            return response;
        }
        const bool into = ok && r.want_body_into;
        std::size_t into_done = 0;
        while (!parser.is_done()) {
            auto& body = parser.get().body();
            std::size_t offered = 0;
            if (into) {
                offered = r.into.size() - into_done;
                body.data = r.into.data() + into_done;
            } else {
                offered = chunk.size();
                body.data = chunk.data();
            }
            body.size = offered;
            if (offered == 0) {
                close();
                return fail(protocol_failure(r.operation, "the answer is longer than asked for"));
            }
            stream->expires_after(timeouts.io_ms);
            quick_ack();
            ec = run([&](auto handler) { http::async_read(*stream, buffer, parser, handler); });
            if (ec == http::error::need_buffer) ec = {};
            if (ec) {
                close();
                if (ec == http::error::body_limit) {
                    return fail(protocol_failure(r.operation, "the answer is too large"));
                }
                return fail(network_failure(r.operation, "read from", ec));
            }
            const std::size_t got = offered - parser.get().body().size;
            if (into) {
                into_done += got;
            } else {
                response.body.append(chunk.data(), got);
                if (response.body.size() > kMaxXmlBodyBytes) {
                    close();
                    return fail(protocol_failure(r.operation, "the answer is too large"));
                }
            }
        }
        response.into_bytes = into_done;
        if (!parser.get().keep_alive()) close();
        return response;
    }

    // Sends `r`, reconnecting once when a kept-alive connection turns out to have been closed
    // by the server before it answered (the request was then never carried out).
    S3Result<Response> perform(const Request& r) {
        // A body not read to its end, or a part not sent to its end, leaves the connection in
        // the middle of an exchange: start afresh.
        if (streaming || sending_part) close();
        for (int attempt = 0;; ++attempt) {
            if (auto c = connect(r.operation); !c) return fail(c.error());
            const bool was_reused = reused;
            bool answered = false;
            auto response = exchange(r, answered);
            if (response) {
                reused = stream.has_value();
                last_used = std::chrono::steady_clock::now();
                return response;
            }
            if (!was_reused || answered || attempt > 0 ||
                response.error().code == S3Error::timeout) {
                return response;
            }
        }
    }

    // perform(), retrying an idempotent request (any but POST) that the service answered with
    // a 5xx (InternalError, ServiceUnavailable, SlowDown) after a short pause, and turning a
    // non-2xx answer into its failure.
    S3Result<Response> perform_ok(const Request& r) {
        for (std::size_t attempt = 1;; ++attempt) {
            auto response = perform(r);
            if (!response) return response;
            if (response->status / 100 == 2) return response;
            const bool retry = response->status >= 500 && r.method != http::verb::post &&
                               attempt < kServerErrorAttempts;
            if (!retry) return fail(answer_failure(r.operation, *response));
            std::this_thread::sleep_for(kServerErrorBackoffMs * attempt);
        }
    }

    // Up to out.size() bytes of the streamed body: what came with the header first, then
    // socket reads straight into `out` (no copy through Beast's buffer). Fills `out` unless the
    // body ends first.
    S3Result<std::size_t> read_stream(std::span<std::uint8_t> out) {
        if (!streaming) return std::size_t{0};
        const std::size_t want =
            static_cast<std::size_t>(std::min<std::uint64_t>(out.size(), stream_left));
        std::size_t done = asio::buffer_copy(asio::buffer(out.data(), want), buffer.data());
        buffer.consume(done);
        while (done < want) {
            std::size_t got = 0;
            stream->expires_after(timeouts.io_ms);
            quick_ack();
            auto ec = run([&](auto handler) {
                stream->async_read_some(asio::buffer(out.data() + done, want - done),
                                        [&got, handler](boost::system::error_code e, std::size_t n) mutable {
                                            got = n;
                                            handler(e);
                                        });
            });
            if (ec) {
                const std::string_view operation = stream_operation;
                close();
                return fail(network_failure(operation, "read from", ec));
            }
            done += got;
        }
        stream_left -= done;
        if (stream_left == 0) {
            streaming = false;
            if (!stream_keep_alive) close();
        }
        return done;
    }

    // As read_stream, but the bytes go from the socket into `pipe_fd` inside the kernel
    // (splice(2)); what the header read already buffered is written there first.
    S3Result<std::size_t> splice_stream(int pipe_fd, std::size_t max) {
        if (!streaming || max == 0) return std::size_t{0};
        const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(max, stream_left));
        std::size_t done = 0;
        if (buffer.size() > 0) {
            const auto held = buffer.data();
            const std::size_t n = std::min(want, held.size());
            const ssize_t w = ::write(pipe_fd, held.data(), n);
            if (w <= 0) {
                const std::string_view operation = stream_operation;
                close();
                return fail(network_failure(operation, "pass on",
                                            boost::system::error_code(errno, boost::system::system_category())));
            }
            done = static_cast<std::size_t>(w);
            buffer.consume(done);
        } else {
            const int fd = stream->socket().native_handle();
            quick_ack();
            for (;;) {
                const ssize_t r = ::splice(fd, nullptr, pipe_fd, nullptr, want, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
                if (r > 0) {
                    done = static_cast<std::size_t>(r);
                    break;
                }
                const int err = r == 0 ? ECONNRESET : errno;  // 0: the service closed mid-body
                if (err == EINTR) continue;
                if (err == EAGAIN) {
                    // Nothing arrived yet (the caller empties the pipe, so it is not full).
                    pollfd p{fd, POLLIN, 0};
                    const int ready = ::poll(&p, 1, static_cast<int>(timeouts.io_ms.count()));
                    if (ready > 0 || (ready < 0 && errno == EINTR)) continue;
                    const std::string_view operation = stream_operation;
                    close();
                    return fail(network_failure(operation, "read from",
                                                ready == 0 ? boost::system::error_code(beast::error::timeout)
                                                           : boost::system::error_code(errno, boost::system::system_category())));
                }
                const std::string_view operation = stream_operation;
                close();
                return fail(network_failure(operation, "read from",
                                            boost::system::error_code(err, boost::system::system_category())));
            }
        }
        stream_left -= done;
        if (stream_left == 0) {
            streaming = false;
            if (!stream_keep_alive) close();
        }
        return done;
    }

    // Sends the head of `r` declaring `length_bytes` of body; send_part() then sends the body.
    S3Result<void> begin_part(Request r, std::uint64_t length_bytes) {
        // A part cannot be sent again once its bytes are gone, so it does not go on a kept
        // connection the service may have closed while it was idle.
        if (streaming || sending_part ||
            (reused && std::chrono::steady_clock::now() - last_used > kStreamedPartMaxIdle)) {
            close();
        }
        if (auto c = connect(r.operation); !c) return fail(c.error());
        part_request = std::move(r);
        auto req = build(part_request);
        req.content_length(length_bytes);
        http::request_serializer<http::span_body<const std::uint8_t>> serializer{req};
        stream->expires_after(timeouts.io_ms);
        auto ec = run([&](auto handler) { http::async_write_header(*stream, serializer, handler); });
        if (ec) {
            close();
            return fail(network_failure(part_request.operation, "send to", ec));
        }
        sending_part = true;
        part_left = length_bytes;
        return {};
    }

    S3Result<void> send_part(ByteSpan data) {
        SATLOAD_ASSERT(sending_part && data.size() <= part_left);
        stream->expires_after(timeouts.io_ms);
        auto ec = run([&](auto handler) {
            asio::async_write(*stream, asio::buffer(data.data(), data.size()),
                              [handler](boost::system::error_code e, std::size_t) mutable { handler(e); });
        });
        if (ec) {
            close();
            return fail(network_failure(part_request.operation, "send to", ec));
        }
        part_left -= data.size();
        if (part_left == 0) part_sent_at = std::chrono::steady_clock::now();
        return {};
    }

    // The answer to a part whose body is all sent; a non-2xx answer is its failure.
    S3Result<Response> finish_part() {
        SATLOAD_ASSERT(sending_part && part_left == 0);
        sending_part = false;
        bool answered = false;
        auto response = receive(part_request, answered);
        if (!response) return response;
        reused = stream.has_value();
        // Idle since the body went, not since now: a streamed part's answer is read only when
        // the next part (on the other connection) is whole, which for a slow client can be
        // longer than the service keeps an idle connection (RGW: 65 s). Counted from now, a
        // connection the service had closed would look fresh and take the next part, whose
        // bytes cannot be sent again.
        last_used = part_sent_at;
        if (response->status / 100 != 2) return fail(answer_failure(part_request.operation, *response));
        return response;
    }
};

S3Client::S3Client(S3Endpoint endpoint, Credentials credentials, S3Timeouts timeouts)
    : m_impl(std::make_unique<Impl>(std::move(endpoint), std::move(credentials), timeouts)) {}

S3Client::~S3Client() {
    if (m_impl) m_impl->close();
}

const S3Endpoint& S3Client::endpoint() const { return m_impl->endpoint; }
std::uint64_t S3Client::connections_opened() const { return m_impl->connections; }

S3Result<void> S3Client::create_bucket() {
    Request r;
    r.method = http::verb::put;
    r.operation = "CreateBucket";
    auto response = m_impl->perform(r);
    if (!response) return fail(response.error());
    if (response->status / 100 == 2) return {};
    auto f = answer_failure(r.operation, *response);
    if (f.s3_code == "BucketAlreadyOwnedByYou") return {};
    return fail(std::move(f));
}

S3Result<void> S3Client::head_bucket() {
    Request r;
    r.method = http::verb::head;
    r.operation = "HeadBucket";
    auto response = m_impl->perform_ok(r);
    if (!response) return fail(response.error());
    return {};
}

S3Result<void> S3Client::put_object(std::string_view key, ByteSpan body, std::string_view writer) {
    Request r;
    r.method = http::verb::put;
    r.operation = "PutObject";
    r.key = std::string(key);
    r.body = body;
    r.sign_payload = false;
    if (!writer.empty()) r.headers = {{std::string(kWriterHeader), std::string(writer)}};
    auto response = m_impl->perform_ok(r);
    if (!response) return fail(response.error());
    return {};
}

S3Result<std::size_t> S3Client::get_object_range(std::string_view key, std::uint64_t offset,
                                                 std::span<std::uint8_t> out) {
    SATLOAD_ASSERT(!out.empty());
    Request r;
    r.method = http::verb::get;
    r.operation = "GetObject";
    r.key = std::string(key);
    r.headers = {{"range", "bytes=" + std::to_string(offset) + "-" +
                               std::to_string(offset + out.size() - 1)}};
    r.into = out;
    r.want_body_into = true;
    auto response = m_impl->perform_ok(r);
    if (!response) return fail(response.error());
    // A server that ignores Range answers 200 with the whole object: only a 206 whose body
    // starts at `offset` is what was asked for.
    if (response->status != 206) {
        return fail(protocol_failure(r.operation, "the server did not honour the Range header"));
    }
    const std::string expected_prefix = "bytes " + std::to_string(offset) + "-";
    const auto content_range = response->headers[http::field::content_range];
    if (content_range.substr(0, expected_prefix.size()) != expected_prefix) {
        return fail(protocol_failure(r.operation, "unexpected Content-Range"));
    }
    return response->into_bytes;
}

S3Result<void> S3Client::start_object_range(std::string_view key, std::uint64_t offset,
                                            std::uint64_t length) {
    SATLOAD_ASSERT(length > 0);
    Request r;
    r.method = http::verb::get;
    r.operation = "GetObject";
    r.key = std::string(key);
    r.headers = {{"range", "bytes=" + std::to_string(offset) + "-" +
                               std::to_string(offset + length - 1)}};
    r.stream_body = true;
    auto response = m_impl->perform_ok(r);
    if (!response) return fail(response.error());
    // As in get_object_range: only a 206 starting at `offset`, and no longer than asked for.
    const std::string expected_prefix = "bytes " + std::to_string(offset) + "-";
    const auto content_range = response->headers[http::field::content_range];
    if (response->status != 206 || response->stream_bytes > length ||
        content_range.substr(0, expected_prefix.size()) != expected_prefix) {
        m_impl->close();
        return fail(protocol_failure(r.operation, response->status != 206
                                                      ? "the server did not honour the Range header"
                                                      : "unexpected Content-Range"));
    }
    return {};
}

S3Result<std::size_t> S3Client::read_object_range(std::span<std::uint8_t> out) {
    return m_impl->read_stream(out);
}

S3Result<std::size_t> S3Client::splice_object_range(int pipe_fd, std::size_t max) {
    return m_impl->splice_stream(pipe_fd, max);
}

S3Result<ObjectInfo> S3Client::head_object(std::string_view key) {
    Request r;
    r.method = http::verb::head;
    r.operation = "HeadObject";
    r.key = std::string(key);
    auto response = m_impl->perform_ok(r);
    if (!response) return fail(response.error());
    auto size = parse_u64(response->headers[http::field::content_length]);
    if (!size) return fail(protocol_failure(r.operation, "no Content-Length"));
    return ObjectInfo{std::string(key), *size, std::string(response->headers[http::field::etag]),
                      std::string(response->headers[kWriterHeader])};
}

S3Result<void> S3Client::delete_object(std::string_view key) {
    Request r;
    r.method = http::verb::delete_;
    r.operation = "DeleteObject";
    r.key = std::string(key);
    auto response = m_impl->perform_ok(r);
    if (!response) return fail(response.error());
    return {};
}

namespace {

std::string copy_source(const S3Endpoint& ep, std::string_view from_key) {
    return uri_encode("/" + ep.bucket + "/" + std::string(from_key), true);
}

// A copy can fail after the 200 status line: the body is then an error document. Returns the
// result document's ETag (possibly empty).
S3Result<std::string> copy_result(std::string_view operation, std::string_view root,
                                  const Response& response) {
    if (!xml_root_is(response.body, root)) {
        if (xml_root_is(response.body, "Error")) return fail(answer_failure(operation, response));
        return fail(protocol_failure(operation, "no " + std::string(root)));
    }
    return xml_text(response.body, "ETag").value_or("");
}

}  // namespace

S3Result<void> S3Client::copy_object(std::string_view from_key, std::string_view to_key) {
    Request r;
    r.method = http::verb::put;
    r.operation = "CopyObject";
    r.key = std::string(to_key);
    r.headers = {{"x-amz-copy-source", copy_source(m_impl->endpoint, from_key)}};
    auto response = m_impl->perform_ok(r);
    if (!response) return fail(response.error());
    auto etag = copy_result(r.operation, "CopyObjectResult", *response);
    if (!etag) return fail(etag.error());
    return {};
}

S3Result<std::string> S3Client::upload_part_copy(std::string_view key, std::string_view upload_id,
                                                 int part_number, std::string_view from_key,
                                                 std::uint64_t first_byte,
                                                 std::uint64_t last_byte) {
    SATLOAD_ASSERT(part_number >= 1 && part_number <= kMaxPartNumber && first_byte <= last_byte);
    Request r;
    r.method = http::verb::put;
    r.operation = "UploadPartCopy";
    r.key = std::string(key);
    r.query = {{"partNumber", std::to_string(part_number)}, {"uploadId", std::string(upload_id)}};
    r.headers = {{"x-amz-copy-source", copy_source(m_impl->endpoint, from_key)},
                 {"x-amz-copy-source-range",
                  "bytes=" + std::to_string(first_byte) + "-" + std::to_string(last_byte)}};
    auto response = m_impl->perform_ok(r);
    if (!response) return fail(response.error());
    auto etag = copy_result(r.operation, "CopyPartResult", *response);
    if (!etag) return fail(etag.error());
    if (etag->empty()) return fail(protocol_failure(r.operation, "no ETag"));
    return *etag;
}

S3Result<std::vector<ObjectInfo>> S3Client::list_objects(std::string_view prefix) {
    std::vector<ObjectInfo> out;
    std::string token;
    for (std::size_t page = 0; page < kMaxListPages; ++page) {
        Request r;
        r.method = http::verb::get;
        r.operation = "ListObjectsV2";
        r.query = {{"list-type", "2"}, {"prefix", std::string(prefix)}};
        if (!token.empty()) r.query.emplace_back("continuation-token", token);
        auto response = m_impl->perform_ok(r);
        if (!response) return fail(response.error());
        const std::string& doc = response->body;
        if (!xml_root_is(doc, "ListBucketResult")) {
            return fail(protocol_failure(r.operation, "no ListBucketResult"));
        }
        for (std::string_view item : xml_elements(doc, "Contents")) {
            auto key = xml_text(item, "Key");
            auto size_text = xml_text(item, "Size");
            auto size = size_text ? parse_u64(*size_text) : std::nullopt;
            if (!key || !size) return fail(protocol_failure(r.operation, "malformed Contents"));
            out.push_back(ObjectInfo{*key, *size, xml_text(item, "ETag").value_or(""), {}});
        }
        if (xml_text(doc, "IsTruncated").value_or("false") != "true") return out;
        auto next = xml_text(doc, "NextContinuationToken");
        if (!next || next->empty())
            return fail(protocol_failure(r.operation, "truncated without a token"));
        token = *next;
    }
    return fail(protocol_failure("ListObjectsV2", "too many pages"));
}

S3Result<std::string> S3Client::create_multipart_upload(std::string_view key) {
    Request r;
    r.method = http::verb::post;
    r.operation = "CreateMultipartUpload";
    r.key = std::string(key);
    r.query = {{"uploads", ""}};
    auto response = m_impl->perform_ok(r);
    if (!response) return fail(response.error());
    if (!xml_root_is(response->body, "InitiateMultipartUploadResult")) {
        return fail(protocol_failure(r.operation, "no InitiateMultipartUploadResult"));
    }
    auto id = xml_text(response->body, "UploadId");
    if (!id || id->empty()) return fail(protocol_failure(r.operation, "no UploadId"));
    return *id;
}

namespace {

Request upload_part_request(std::string_view key, std::string_view upload_id, int part_number) {
    SATLOAD_ASSERT(part_number >= 1 && part_number <= kMaxPartNumber);
    Request r;
    r.method = http::verb::put;
    r.operation = "UploadPart";
    r.key = std::string(key);
    r.query = {{"partNumber", std::to_string(part_number)}, {"uploadId", std::string(upload_id)}};
    r.sign_payload = false;
    return r;
}

S3Result<std::string> etag_of_part(const Response& response) {
    std::string etag(response.headers[http::field::etag]);
    if (etag.empty()) return fail(protocol_failure("UploadPart", "no ETag"));
    return etag;
}

}  // namespace

S3Result<std::string> S3Client::upload_part(std::string_view key, std::string_view upload_id,
                                            int part_number, ByteSpan body) {
    Request r = upload_part_request(key, upload_id, part_number);
    r.body = body;
    auto response = m_impl->perform_ok(r);
    if (!response) return fail(response.error());
    return etag_of_part(*response);
}


S3Result<void> S3Client::begin_upload_part(std::string_view key, std::string_view upload_id,
                                           int part_number, std::uint64_t length_bytes) {
    return m_impl->begin_part(upload_part_request(key, upload_id, part_number), length_bytes);
}

S3Result<void> S3Client::write_upload_part(ByteSpan data) { return m_impl->send_part(data); }

S3Result<std::string> S3Client::finish_upload_part() {
    auto response = m_impl->finish_part();
    if (!response) return fail(response.error());
    return etag_of_part(*response);
}

S3Result<void> S3Client::complete_multipart_upload(std::string_view key, std::string_view upload_id,
                                                   std::span<const PartInfo> parts) {
    std::string xml = "<CompleteMultipartUpload>";
    for (const auto& part : parts) {
        xml += "<Part><PartNumber>" + std::to_string(part.part_number) + "</PartNumber><ETag>" +
               xml_escape(part.etag) + "</ETag></Part>";
    }
    xml += "</CompleteMultipartUpload>";
    Request r;
    r.method = http::verb::post;
    r.operation = "CompleteMultipartUpload";
    r.key = std::string(key);
    r.query = {{"uploadId", std::string(upload_id)}};
    r.body = as_bytes(xml);
    auto response = m_impl->perform_ok(r);
    if (!response) return fail(response.error());
    // Like a copy, completion may fail after the 200 status line.
    if (!xml_root_is(response->body, "CompleteMultipartUploadResult")) {
        if (xml_root_is(response->body, "Error"))
            return fail(answer_failure(r.operation, *response));
        return fail(protocol_failure(r.operation, "no CompleteMultipartUploadResult"));
    }
    return {};
}

S3Result<void> S3Client::abort_multipart_upload(std::string_view key, std::string_view upload_id) {
    Request r;
    r.method = http::verb::delete_;
    r.operation = "AbortMultipartUpload";
    r.key = std::string(key);
    r.query = {{"uploadId", std::string(upload_id)}};
    auto response = m_impl->perform_ok(r);
    if (!response) return fail(response.error());
    return {};
}

S3Result<std::vector<MultipartUpload>> S3Client::list_multipart_uploads(std::string_view prefix) {
    std::vector<MultipartUpload> out;
    std::string key_marker;
    std::string upload_marker;
    for (std::size_t page = 0; page < kMaxListPages; ++page) {
        Request r;
        r.method = http::verb::get;
        r.operation = "ListMultipartUploads";
        r.query = {{"uploads", ""}, {"prefix", std::string(prefix)}};
        if (!key_marker.empty()) r.query.emplace_back("key-marker", key_marker);
        if (!upload_marker.empty()) r.query.emplace_back("upload-id-marker", upload_marker);
        auto response = m_impl->perform_ok(r);
        if (!response) return fail(response.error());
        const std::string& doc = response->body;
        if (!xml_root_is(doc, "ListMultipartUploadsResult")) {
            return fail(protocol_failure(r.operation, "no ListMultipartUploadsResult"));
        }
        for (std::string_view item : xml_elements(doc, "Upload")) {
            auto key = xml_text(item, "Key");
            auto id = xml_text(item, "UploadId");
            if (!key || !id) return fail(protocol_failure(r.operation, "malformed Upload"));
            out.push_back(MultipartUpload{*key, *id, xml_text(item, "Initiated").value_or("")});
        }
        if (xml_text(doc, "IsTruncated").value_or("false") != "true") return out;
        key_marker = xml_text(doc, "NextKeyMarker").value_or("");
        upload_marker = xml_text(doc, "NextUploadIdMarker").value_or("");
        if (key_marker.empty())
            return fail(protocol_failure(r.operation, "truncated without a marker"));
    }
    return fail(protocol_failure("ListMultipartUploads", "too many pages"));
}

S3Result<std::vector<PartInfo>> S3Client::list_parts(std::string_view key,
                                                     std::string_view upload_id) {
    std::vector<PartInfo> out;
    std::string marker;
    for (std::size_t page = 0; page < kMaxListPages; ++page) {
        Request r;
        r.method = http::verb::get;
        r.operation = "ListParts";
        r.key = std::string(key);
        r.query = {{"uploadId", std::string(upload_id)}};
        if (!marker.empty()) r.query.emplace_back("part-number-marker", marker);
        auto response = m_impl->perform_ok(r);
        if (!response) return fail(response.error());
        const std::string& doc = response->body;
        if (!xml_root_is(doc, "ListPartsResult")) {
            return fail(protocol_failure(r.operation, "no ListPartsResult"));
        }
        for (std::string_view item : xml_elements(doc, "Part")) {
            auto number_text = xml_text(item, "PartNumber");
            auto size_text = xml_text(item, "Size");
            auto etag = xml_text(item, "ETag");
            auto number = number_text ? parse_u64(*number_text) : std::nullopt;
            auto size = size_text ? parse_u64(*size_text) : std::nullopt;
            if (!number || !size || !etag || *number < 1 ||
                *number > static_cast<std::uint64_t>(kMaxPartNumber)) {
                return fail(protocol_failure(r.operation, "malformed Part"));
            }
            out.push_back(PartInfo{static_cast<int>(*number), *size, *etag});
        }
        if (xml_text(doc, "IsTruncated").value_or("false") != "true") return out;
        marker = xml_text(doc, "NextPartNumberMarker").value_or("");
        if (marker.empty())
            return fail(protocol_failure(r.operation, "truncated without a marker"));
    }
    return fail(protocol_failure("ListParts", "too many pages"));
}

}  // namespace satload::s3
