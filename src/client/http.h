// A small blocking HTTP/1.1 client over Boost.Beast for http:// and https:// (OpenSSL, peer
// and host name verified), with keep-alive, a timeout on every step and limits on what the
// server may send. One HttpClient per thread.
#pragma once

#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/verb.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "client/error.h"
#include "client/url.h"
#include "core/encoding.h"

namespace satload::client {

// All response headers together.
inline constexpr std::size_t kMaxResponseHeaderBytes = 64 * 1024;
// Bodies read whole (API answers, error documents); downloads stream instead.
inline constexpr std::size_t kMaxSmallBodyBytes = 1024 * 1024;
// Size of the buffer a streamed body is handed over in.
inline constexpr std::size_t kStreamChunkBytes = 256 * 1024;
// Longest server-provided error text shown to the user.
inline constexpr std::size_t kMaxProblemTextChars = 300;

// Resolve + connect + TLS handshake.
inline constexpr std::chrono::milliseconds kDefaultConnectTimeoutMs{30'000};
// One read or write that makes no progress (the server syncs each chunk before answering).
inline constexpr std::chrono::milliseconds kDefaultIoTimeoutMs{120'000};
// Transfers retry a failed request this many times in all (counting the first), waiting
// kDefaultRetryDelayMs times the attempt number in between.
inline constexpr unsigned kDefaultMaxAttempts = 5;
inline constexpr std::chrono::milliseconds kDefaultRetryDelayMs{1000};

struct HttpOptions {
    std::chrono::milliseconds connect_timeout_ms = kDefaultConnectTimeoutMs;
    std::chrono::milliseconds io_timeout_ms = kDefaultIoTimeoutMs;
    std::string ca_file;  // extra PEM trust anchors for https (tests, private CAs); optional
};

struct HttpRequest {
    boost::beast::http::verb method = boost::beast::http::verb::get;
    std::string target;  // origin form: "/files/abc"
    std::vector<std::pair<std::string, std::string>> headers;
    ByteSpan body;  // sent with Content-Length; must outlive the call
};

struct HttpResponse {
    unsigned status = 0;
    boost::beast::http::fields headers;
    std::string body;  // filled by send(); empty for streamed 2xx answers

    // The header's value, or "" when absent.
    [[nodiscard]] std::string header(std::string_view name) const;
    [[nodiscard]] bool ok() const { return status >= 200 && status < 300; }
};

// Called with each piece of a streamed body; an error aborts the transfer.
using BodySink = std::function<ClientResult<void>(ByteSpan)>;
// Called once the head of a 2xx answer is in, before any body; an error aborts.
using HeadCheck = std::function<ClientResult<void>(const HttpResponse&)>;

class HttpClient {
public:
    explicit HttpClient(HttpOptions options = {});
    ~HttpClient();
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;

    // Sends and reads the whole answer (body up to kMaxSmallBodyBytes). Any status is a
    // success here; only transport and protocol failures are errors.
    [[nodiscard]] ClientResult<HttpResponse> send(const Endpoint& endpoint,
                                                  const HttpRequest& request);

    // Sends and streams a 2xx body to `sink` after `check` accepted the head; other statuses
    // are read whole as in send().
    [[nodiscard]] ClientResult<HttpResponse> send_streaming(const Endpoint& endpoint,
                                                            const HttpRequest& request,
                                                            const HeadCheck& check,
                                                            const BodySink& sink);

    // Drops the connection (after an aborted exchange, or to force a fresh one).
    void close();

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

// One line describing a failed answer: the problem+json title and detail when the server sent
// one, else the status line; control characters removed, length capped.
[[nodiscard]] std::string describe_response(const HttpResponse& response);

// The Error for an unexpected status: not_found for 404/410, payment_required for 402,
// http_status otherwise; `what` names the request ("upload", "download", ...).
[[nodiscard]] Error status_error(std::string_view what, const HttpResponse& response);

// Strips control characters and caps length, so server text cannot drive the terminal.
[[nodiscard]] std::string printable(std::string_view text, std::size_t max_chars);

}  // namespace satload::client
