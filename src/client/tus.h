// The tus 1.0.0 requests the uploader makes (docs/HTTP.md): create (plain, partial or final
// concatenation), HEAD for the offset, PATCH a chunk with its SHA-256, DELETE. Each returns
// the parsed outcome or an Error; retrying is the caller's decision.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "client/error.h"
#include "client/http.h"
#include "client/url.h"
#include "core/encoding.h"

namespace satload::client::tus {

inline constexpr std::string_view kVersion = "1.0.0";
inline constexpr std::string_view kFileIdHeader = "Satload-File-Id";

struct Creation {
    std::optional<std::uint64_t> length_bytes;  // Upload-Length; absent for a final concatenation
    bool partial = false;                       // Upload-Concat: partial
    std::vector<std::string> final_of;          // Upload-Concat: final;<urls>
    std::string meta_text;                      // encrypted metadata (base64url); "" for none
    std::string bearer_token;                   // a logged-in user's session (secret); "" for none
    std::string owner_secret_text;              // file secret wrapped by the master key (base64url)
};

struct Created {
    RequestUrl url;       // Location, resolved
    std::string file_id;  // Satload-File-Id when the answer carried one (final concatenation)
};

struct Status {
    std::uint64_t offset_bytes = 0;
    std::uint64_t length_bytes = 0;
    std::string file_id;  // once complete
};

[[nodiscard]] ClientResult<Created> create(HttpClient& http, const ServerUrl& server,
                                           const Creation& creation);
[[nodiscard]] ClientResult<Status> head(HttpClient& http, const RequestUrl& upload);

// Outcome of a PATCH: the new offset and file id on 204; on any other status `response` is
// set and the caller decides (409 means: ask HEAD where we are).
struct PatchOutcome {
    std::uint64_t offset_bytes = 0;
    std::string file_id;
    std::optional<HttpResponse> refused;
};
[[nodiscard]] ClientResult<PatchOutcome> patch(HttpClient& http, const RequestUrl& upload,
                                               std::uint64_t offset_bytes, ByteSpan chunk);

// Best effort: failures are ignored (an abandoned upload expires on the server anyway).
void terminate(HttpClient& http, const RequestUrl& upload);

// Strict decimal for Upload-Offset and friends: digits only, no sign, no overflow.
[[nodiscard]] std::optional<std::uint64_t> parse_decimal(std::string_view text);
// The tus Upload-Metadata value for our one key: "meta <base64 of the text>".
[[nodiscard]] std::string metadata_header(std::string_view meta_text);

}  // namespace satload::client::tus
