// The request paths the server routes on, split without any I/O: the origin-form path into
// plain segments, and the upload id at the end of an Upload-Concat part URL. Pure, so they
// are unit tested and fuzzed (fuzz/server_request_fuzz.cpp).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace satload::server {

// Splits an origin-form path into its segments, refusing anything that is not plain: percent
// escapes, empty segments and dot segments never route anywhere (so `/d/../x` or an encoded
// slash cannot reach a handler with a surprising id). "/" is no segment at all.
[[nodiscard]] std::optional<std::vector<std::string_view>> plain_segments(std::string_view path);

// The upload id after the last "/files/" of a part URL of Upload-Concat (absolute or a path),
// nullopt unless it is exactly a canonical upload id.
[[nodiscard]] std::optional<std::string> upload_id_of_url(std::string_view url);

}  // namespace satload::server
