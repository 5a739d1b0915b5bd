// The resume record of an unfinished `satload put`: kept under SATLOAD_HOME/uploads, mode 0600,
// keyed by the source's absolute path and valid only for the same size and mtime. It holds the
// file secret and salt, so that a rerun re-encrypts to the very same bytes, and the part URLs.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "client/error.h"
#include "crypto/ece.h"
#include "crypto/keys.h"

namespace satload::client {

inline constexpr int kUploadStateVersion = 1;

struct PartState {
    std::string url;  // absolute upload URL; empty until the part was created
    std::uint64_t begin_bytes = 0;
    std::uint64_t end_bytes = 0;
    friend bool operator==(const PartState&, const PartState&) = default;
};

struct UploadState {
    std::string source_path;  // absolute
    std::uint64_t size_bytes = 0;
    std::int64_t mtime_ns = 0;
    std::string server;  // the server base URL the parts live on
    crypto::FileSecret secret{};
    crypto::ece::Salt salt{};
    std::uint32_t record_size = crypto::ece::kDefaultRecordSize;
    bool concatenated = false;  // parts are tus partial uploads joined by a final POST
    std::vector<PartState> parts;

    UploadState() = default;
    UploadState(const UploadState&) = default;
    UploadState& operator=(const UploadState&) = default;
    ~UploadState();  // wipes the secret
};

// The JSON text (contains the secret: wipe it after use).
[[nodiscard]] std::string upload_state_to_json(const UploadState& state);
[[nodiscard]] ClientResult<UploadState> upload_state_from_json(std::string_view json);

// <home>/uploads/<hex SHA-256 of the absolute source path>.json
[[nodiscard]] std::filesystem::path upload_state_path(const std::filesystem::path& home,
                                                      const std::string& absolute_source);

// nullopt when there is no state file; an error when it exists but cannot be used.
[[nodiscard]] ClientResult<std::optional<UploadState>> load_upload_state(
    const std::filesystem::path& path);
// Atomic, mode 0600; creates the directory (0700) when needed.
[[nodiscard]] ClientResult<void> save_upload_state(const std::filesystem::path& path,
                                                   const UploadState& state);
void remove_upload_state(const std::filesystem::path& path);

}  // namespace satload::client
