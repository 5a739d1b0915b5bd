// Link controls from the client side (docs/HTTP.md): the Upload-Metadata keys an upload asks
// for them with, and the owner's requests that read and change a file's controls later.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "client/account.h"
#include "client/error.h"
#include "client/http.h"

namespace satload::client {

// The largest download limit the server accepts (files/link_controls.h kDownloadLimitMax).
inline constexpr std::uint64_t kDownloadLimitMax = 1'000'000'000'000ULL;

// A download limit as typed ("100"): digits only, 1 to kDownloadLimitMax.
[[nodiscard]] std::optional<std::uint64_t> parse_download_limit(std::string_view text);

// What an upload asks for (all optional; a price needs a logged-in upload). The expiry counts
// from the upload's completion.
struct UploadControls {
    std::int64_t price_msat = 0;
    std::optional<std::int64_t> expires_in_s;
    std::optional<std::uint64_t> max_downloads;

    [[nodiscard]] bool empty() const { return price_msat == 0 && !expires_in_s && !max_downloads; }
};

// The tus Upload-Metadata pairs for `controls` ("expires_in <b64>,max_downloads <b64>,..."),
// "" when there are none.
[[nodiscard]] std::string controls_metadata(const UploadControls& controls);

// A file and its link controls as the server states them.
struct FileState {
    std::string file_id;
    std::uint64_t size_bytes = 0;  // ciphertext
    std::int64_t created_s = 0;
    std::int64_t price_msat = 0;
    std::optional<std::int64_t> expires_s;
    std::optional<std::uint64_t> max_downloads;
    std::uint64_t downloads = 0;
    bool revoked = false;
};

// An owner's change: an absent member stays; an inner nullopt removes the expiry or limit.
struct FileChange {
    std::optional<std::int64_t> price_msat;
    std::optional<std::optional<std::int64_t>> expires_in_s;
    std::optional<std::optional<std::uint64_t>> max_downloads;
    std::optional<bool> revoked;
    // New encrypted metadata (base64url), as a rename sends it: see rename_owned_file.
    std::optional<std::string> meta;
};

// The JSON body of PATCH /api/v1/files/<id> for `change`.
[[nodiscard]] std::string change_json(const FileChange& change);
// Parses the answer of GET or PATCH /api/v1/files/<id>.
[[nodiscard]] ClientResult<FileState> parse_file_state(std::string_view body);

// PATCH /api/v1/files/<id> as the session's user; an empty change reads the state. Another
// account's file is not_found, like a missing one.
[[nodiscard]] ClientResult<FileState> update_file(const Session& session, std::string_view file_id,
                                                  const FileChange& change, const HttpOptions& http);

}  // namespace satload::client
