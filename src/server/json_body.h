// Reading a small JSON object request body with an explicit size limit, shared by the API
// handlers. The caller answers the problem this returns; nothing here sends a response.
#pragma once

#include <boost/json.hpp>

#include <optional>
#include <string>
#include <string_view>

#include "core/problem.h"
#include "server/exchange.h"

namespace satload::server {

struct JsonBody {
    std::optional<boost::json::object> object;  // set on success
    Problem problem = Problem::bad_request;       // otherwise: what to answer
    std::string detail;
    bool connection_failed = false;  // nothing to answer: the connection is gone
};

// Reads the whole body (at most max_bytes; 413 above) and parses it as one JSON object (400
// otherwise). The raw text is wiped after parsing, since bodies may carry keys.
awaitable<JsonBody> read_json_object(Exchange& ex, std::size_t max_bytes);

// The pure step of read_json_object, for tests and fuzzing: `body` as one JSON object, or the
// problem to answer (payload_too_large above max_bytes, bad_request otherwise, including a
// number too large for a double).
[[nodiscard]] JsonBody parse_json_object(std::string_view body, std::size_t max_bytes);

// Members of a parsed object, nullopt when absent or of another type.
[[nodiscard]] std::optional<std::string> json_string(const boost::json::object& o, std::string_view name);
[[nodiscard]] std::optional<std::int64_t> json_int64(const boost::json::object& o, std::string_view name);

}  // namespace satload::server
