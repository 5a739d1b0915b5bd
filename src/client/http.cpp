// HttpClient: Beast's asynchronous operations driven to completion one at a time on a
// private io_context, because only asynchronous operations honour tcp_stream's timeouts.
#include "client/http.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json.hpp>

#include <optional>

namespace satload::client {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr std::string_view kUserAgent = "satload/0.1";
constexpr std::size_t kReceiveBufferBytes = 128 * 1024;

std::string network_message(const Endpoint& ep, std::string_view step,
                            const boost::system::error_code& ec) {
    const std::string reason =
        ec == beast::error::timeout ? std::string("timed out") : ec.message();
    return "cannot " + std::string(step) + " " + ep.origin() + ": " + reason;
}

}  // namespace

struct HttpClient::Impl {
    HttpOptions options;
    asio::io_context ioc;
    std::optional<asio::ssl::context> ssl_ctx;
    std::optional<beast::tcp_stream> tcp;
    std::optional<beast::ssl_stream<beast::tcp_stream>> tls;
    beast::flat_buffer buffer;
    Endpoint endpoint;
    bool connected = false;
    unsigned exchanges = 0;  // on the current connection
    std::vector<char> chunk = std::vector<char>(kStreamChunkBytes);

    // Beast reads min(64 KiB, free capacity, at least 512 bytes) per receive: without room
    // reserved, a body would arrive in 512-byte reads, one system call (and timer) each.
    explicit Impl(HttpOptions o) : options(std::move(o)) { buffer.reserve(kReceiveBufferBytes); }

    beast::tcp_stream& lowest() { return tls ? beast::get_lowest_layer(*tls) : *tcp; }

    // Starts one asynchronous operation and runs the io_context until it has completed.
    template <class Start>
    boost::system::error_code run(Start&& start) {
        boost::system::error_code result = asio::error::would_block;
        start([&result](boost::system::error_code ec, auto&&...) { result = ec; });
        ioc.restart();
        ioc.run();
        return result;
    }

    void close() {
        if (tcp) {
            boost::system::error_code ignored;
            tcp->socket().shutdown(tcp::socket::shutdown_both, ignored);
            tcp->close();
        }
        if (tls) beast::get_lowest_layer(*tls).close();
        tcp.reset();
        tls.reset();
        buffer.clear();
        connected = false;
        exchanges = 0;
    }

    ClientResult<void> ensure_ssl_context() {
        if (ssl_ctx) return {};
        ssl_ctx.emplace(asio::ssl::context::tls_client);
        boost::system::error_code ec;
        ssl_ctx->set_default_verify_paths(ec);
        if (!options.ca_file.empty()) ssl_ctx->load_verify_file(options.ca_file, ec);
        if (ec) {
            ssl_ctx.reset();
            return client_error(ErrorCode::network, "cannot load TLS trust anchors: " + ec.message());
        }
        ssl_ctx->set_verify_mode(asio::ssl::verify_peer);
        return {};
    }

    ClientResult<void> connect(const Endpoint& ep) {
        if (connected && ep == endpoint) return {};
        close();
        endpoint = ep;
        tcp::resolver resolver(ioc);
        tcp::resolver::results_type results;
        asio::steady_timer timer(ioc);
        timer.expires_after(options.connect_timeout_ms);
        timer.async_wait([&resolver](boost::system::error_code ec) {
            if (!ec) resolver.cancel();
        });
        auto ec = run([&](auto handler) {
            resolver.async_resolve(ep.connect_host(), std::to_string(ep.port),
                                   [&, handler](boost::system::error_code e,
                                                tcp::resolver::results_type r) mutable {
                                       timer.cancel();
                                       results = std::move(r);
                                       handler(e);
                                   });
        });
        if (ec) return client_error(ErrorCode::network, network_message(ep, "resolve", ec));

        if (ep.tls) {
            if (auto r = ensure_ssl_context(); !r) return r;
            tls.emplace(ioc, *ssl_ctx);
        } else {
            tcp.emplace(ioc);
        }
        lowest().expires_after(options.connect_timeout_ms);
        ec = run([&](auto handler) { lowest().async_connect(results, handler); });
        if (ec) {
            close();
            return client_error(ErrorCode::network, network_message(ep, "connect to", ec));
        }
        lowest().socket().set_option(tcp::no_delay(true), ec);
        if (tls) {
            const std::string host = ep.connect_host();
            if (!SSL_set_tlsext_host_name(tls->native_handle(), host.c_str())) {
                close();
                return client_error(ErrorCode::network, "cannot set the TLS server name");
            }
            tls->set_verify_callback(asio::ssl::host_name_verification(host));
            lowest().expires_after(options.connect_timeout_ms);
            ec = run([&](auto handler) {
                tls->async_handshake(asio::ssl::stream_base::client, handler);
            });
            if (ec) {
                close();
                return client_error(ErrorCode::network,
                                    network_message(ep, "establish TLS with", ec));
            }
        }
        connected = true;
        return {};
    }

    template <class Stream>
    boost::system::error_code write(Stream& stream, const HttpRequest& request) {
        http::request<http::span_body<const std::uint8_t>> req;
        req.method(request.method);
        req.target(request.target);
        req.version(11);
        req.set(http::field::host, endpoint.host_header());
        req.set(http::field::user_agent, kUserAgent);
        for (const auto& [name, value] : request.headers) req.set(name, value);
        req.body() = beast::span<const std::uint8_t>(request.body.data(), request.body.size());
        req.prepare_payload();
        lowest().expires_after(options.io_timeout_ms);
        return run([&](auto handler) { http::async_write(stream, req, handler); });
    }

    // Reads one answer. A 2xx body goes to `sink` when given (after `check`), anything else is
    // collected into response.body up to kMaxSmallBodyBytes. `got_bytes` tells the caller
    // whether the server answered at all (to decide if a retry on a new connection is safe).
    template <class Stream>
    ClientResult<HttpResponse> read(Stream& stream, bool head_request, const HeadCheck* check,
                                    const BodySink* sink, bool& got_bytes) {
        http::response_parser<http::buffer_body> parser;
        parser.header_limit(static_cast<std::uint32_t>(kMaxResponseHeaderBytes));
        parser.body_limit(std::numeric_limits<std::uint64_t>::max());
        if (head_request) parser.skip(true);
        lowest().expires_after(options.io_timeout_ms);
        auto ec = run([&](auto handler) { http::async_read_header(stream, buffer, parser, handler); });
        got_bytes = parser.got_some() || ec == http::error::header_limit;
        if (ec) {
            close();
            if (ec == http::error::header_limit) {
                return client_error(ErrorCode::protocol, "the server's response headers from " +
                                                             endpoint.origin() + " are too large");
            }
            return client_error(ErrorCode::network, network_message(endpoint, "read from", ec));
        }
        HttpResponse response;
        response.status = parser.get().result_int();
        response.headers = parser.get().base();
        const bool stream_body = sink != nullptr && response.ok();
        if (stream_body && check != nullptr) {
            if (auto r = (*check)(response); !r) {
                close();
                return tl::unexpected(r.error());
            }
        }
        while (!parser.is_done()) {
            parser.get().body().data = chunk.data();
            parser.get().body().size = chunk.size();
            lowest().expires_after(options.io_timeout_ms);
            ec = run([&](auto handler) { http::async_read(stream, buffer, parser, handler); });
            if (ec == http::error::need_buffer) ec = {};
            if (ec) {
                close();
                return client_error(ErrorCode::network, network_message(endpoint, "read from", ec));
            }
            const std::size_t n = chunk.size() - parser.get().body().size;
            const ByteSpan piece(reinterpret_cast<const std::uint8_t*>(chunk.data()), n);
            if (stream_body) {
                if (auto r = (*sink)(piece); !r) {
                    close();
                    return tl::unexpected(r.error());
                }
            } else {
                if (response.body.size() + n > kMaxSmallBodyBytes) {
                    close();
                    return client_error(ErrorCode::protocol, "the response from " +
                                                                 endpoint.origin() +
                                                                 " is too large");
                }
                response.body.append(chunk.data(), n);
            }
        }
        if (!parser.get().keep_alive()) close();
        return response;
    }

    ClientResult<HttpResponse> exchange(const Endpoint& ep, const HttpRequest& request,
                                        const HeadCheck* check, const BodySink* sink) {
        // A kept-alive connection may have been closed by the server meanwhile; then (and
        // only if the server sent nothing back) one retry on a fresh connection is safe.
        for (int attempt = 0;; ++attempt) {
            if (auto r = connect(ep); !r) return tl::unexpected(r.error());
            const bool reused = exchanges > 0;
            ++exchanges;
            bool got_bytes = false;
            ClientResult<HttpResponse> result = client_error(ErrorCode::network, "");
            const bool head = request.method == http::verb::head;
            if (tls) {
                const auto ec = write(*tls, request);
                result = ec ? client_error(ErrorCode::network, network_message(endpoint, "send to", ec))
                            : read(*tls, head, check, sink, got_bytes);
            } else {
                const auto ec = write(*tcp, request);
                result = ec ? client_error(ErrorCode::network, network_message(endpoint, "send to", ec))
                            : read(*tcp, head, check, sink, got_bytes);
            }
            if (!result) {
                close();
                if (reused && !got_bytes && attempt == 0 &&
                    result.error().code == ErrorCode::network) {
                    continue;
                }
            }
            return result;
        }
    }
};

HttpClient::HttpClient(HttpOptions options) : m_impl(std::make_unique<Impl>(std::move(options))) {}
HttpClient::~HttpClient() = default;

ClientResult<HttpResponse> HttpClient::send(const Endpoint& endpoint, const HttpRequest& request) {
    return m_impl->exchange(endpoint, request, nullptr, nullptr);
}

ClientResult<HttpResponse> HttpClient::send_streaming(const Endpoint& endpoint,
                                                      const HttpRequest& request,
                                                      const HeadCheck& check,
                                                      const BodySink& sink) {
    return m_impl->exchange(endpoint, request, &check, &sink);
}

void HttpClient::close() { m_impl->close(); }

std::string HttpResponse::header(std::string_view name) const {
    const auto it = headers.find(name);
    return it == headers.end() ? std::string() : std::string(it->value());
}

std::string printable(std::string_view text, std::size_t max_chars) {
    std::string out;
    for (const char c : text) {
        if (out.size() >= max_chars) break;
        const auto u = static_cast<unsigned char>(c);
        out += (u < 0x20 || u == 0x7f) ? ' ' : c;
    }
    return out;
}

std::string describe_response(const HttpResponse& response) {
    std::string line = "HTTP " + std::to_string(response.status);
    const std::string type = response.header("Content-Type");
    if (type.rfind("application/problem+json", 0) == 0) {
        boost::system::error_code ec;
        const auto value = boost::json::parse(response.body, ec);
        if (!ec && value.is_object()) {
            const auto& obj = value.get_object();
            for (const char* key : {"title", "detail"}) {
                const auto* v = obj.if_contains(key);
                if (v != nullptr && v->is_string() && !v->get_string().empty()) {
                    line += ": ";
                    line += std::string_view(v->get_string());
                }
            }
            return printable(line, kMaxProblemTextChars);
        }
    }
    const auto reason = http::obsolete_reason(static_cast<http::status>(response.status));
    if (!reason.empty() && reason != "<unknown-status>") {
        line += " ";
        line += reason;
    }
    return printable(line, kMaxProblemTextChars);
}

Error status_error(std::string_view what, const HttpResponse& response) {
    ErrorCode code = ErrorCode::http_status;
    if (response.status == 404 || response.status == 410) code = ErrorCode::not_found;
    if (response.status == 402) code = ErrorCode::payment_required;
    std::string message = std::string(what) + " failed: " + describe_response(response);
    return Error{code, std::move(message)};
}

}  // namespace satload::client
