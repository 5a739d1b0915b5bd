// `satload put`: encrypt a file on the fly and upload it with tus, in parallel parts joined by
// concatenation, resumable across runs through the upload state file.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string_view>

#include "client/error.h"
#include "client/http.h"
#include "client/link.h"
#include "client/link_controls.h"
#include "client/plan.h"
#include "client/url.h"
#include "crypto/keys.h"

namespace satload::client {

inline constexpr unsigned kDefaultParallelParts = 4;
inline constexpr std::uint64_t kDefaultChunkBytes = 8ull << 20;
// The server refuses bodies above its --max-chunk (256 MiB by default).
inline constexpr std::uint64_t kMaxChunkBytes = 256ull << 20;
inline constexpr std::uint64_t kMinChunkBytes = 1024;

struct UploadOptions {
    ServerUrl server;
    std::filesystem::path state_dir;  // SATLOAD_HOME; the state goes to <state_dir>/uploads/
    unsigned parallel_parts = kDefaultParallelParts;
    std::uint64_t chunk_bytes = kDefaultChunkBytes;
    std::uint64_t min_part_bytes = kDefaultMinPartBytes;
    std::uint32_t record_size = crypto::ece::kDefaultRecordSize;
    unsigned max_attempts = kDefaultMaxAttempts;  // per chunk, counting the first
    std::chrono::milliseconds retry_delay_ms = kDefaultRetryDelayMs;  // grows with each attempt
    HttpOptions http;
    bool show_progress = false;
    // Receives one-line notices for the user (resuming, starting over); may be empty.
    std::function<void(std::string_view)> notice;
    // A logged-in user's upload: the session token goes on every creation, and the file
    // secret wrapped by the master key (base64url, from this function) on the file's creation.
    std::string session_token;
    std::function<std::string(const crypto::FileSecret&)> wrap_owner_secret;
    // Link controls, sent on the creation that makes the file (a part has none). A price needs
    // session_token; the server refuses it otherwise. A resumed upload keeps what its first run
    // sent when its file's creation was already made then.
    UploadControls controls;
};

struct UploadResult {
    Link link;
    bool resumed = false;                 // an earlier run's upload was continued
    std::uint64_t body_bytes = 0;         // ciphertext size
    std::uint64_t already_sent_bytes = 0; // on the server before this run
    unsigned parts = 0;
};

[[nodiscard]] ClientResult<UploadResult> upload_file(const std::filesystem::path& source,
                                                     const UploadOptions& options);

}  // namespace satload::client
