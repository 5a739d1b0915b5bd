// JSON requests to the API of the logged-in session's server (`Authorization: Bearer`), and the
// strict field readers the wallet and paywall answers share.
#pragma once

#include <boost/beast/http/verb.hpp>
#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "client/account.h"
#include "client/error.h"
#include "client/http.h"

namespace satload::client {

// Sends `body` (JSON, may be empty) to `path` below the session's server with its token, and
// `extra` headers. Any status is a success here (as HttpClient::send).
[[nodiscard]] ClientResult<HttpResponse> session_request(
    HttpClient& client, const Session& session, boost::beast::http::verb method,
    std::string_view path, std::string_view body,
    const std::vector<std::pair<std::string, std::string>>& extra = {});

// GET `path` and its JSON object; a non-2xx answer is an error naming `what` and the server's
// problem text (401 says to log in again).
[[nodiscard]] ClientResult<boost::json::object> session_get_object(const Session& session,
                                                                   std::string_view path,
                                                                   std::string_view what,
                                                                   const HttpOptions& http);

// The answer's JSON object, or a protocol error naming `what`.
[[nodiscard]] ClientResult<boost::json::object> parse_json_object(std::string_view text,
                                                                  std::string_view what);

// Field readers: nullopt when the field is absent or of another type.
[[nodiscard]] std::optional<std::int64_t> json_int(const boost::json::object& o,
                                                   std::string_view key);
[[nodiscard]] std::optional<std::string> json_text(const boost::json::object& o,
                                                   std::string_view key);
[[nodiscard]] std::optional<bool> json_flag(const boost::json::object& o, std::string_view key);

// Wipes the string members of an object that carried secrets (keys, tokens, credentials).
void wipe_json_strings(boost::json::object& o);

// The server's "detail" of a problem+json answer (printable, capped), else describe_response.
[[nodiscard]] std::string problem_detail(const HttpResponse& response);
// The slug of a problem answer's type ("https://satload.dev/problems/<slug>"), or empty.
[[nodiscard]] std::string problem_slug(const HttpResponse& response);

}  // namespace satload::client
