// `satload get`: fetch the encrypted metadata, download the ciphertext with parallel ranged
// requests of whole records, decrypt and authenticate every record into a temporary file
// beside the target (resumable), then verify, sync and rename it into place.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "client/error.h"
#include "client/http.h"
#include "client/link.h"
#include "client/metadata.h"

namespace satload::client {

inline constexpr unsigned kDefaultParallelRanges = 4;
inline constexpr unsigned kMaxParallelRanges = 16;
inline constexpr std::uint64_t kDefaultSegmentBytes = 8ull << 20;
// Times one download may ask `on_refused` for another credential (a refused stored grant, then
// the session, then a payment, with one to spare).
inline constexpr unsigned kMaxAuthorizationRounds = 4;
// The download state is saved (after an fdatasync of the data) at most this often.
inline constexpr std::chrono::milliseconds kDownloadStateSaveIntervalMs{250};
inline constexpr std::string_view kPartSuffix = ".satload-part";
inline constexpr std::string_view kStateSuffix = ".satload-state";

struct DownloadOptions {
    std::optional<std::filesystem::path> output;  // -o: a file, or an existing directory
    std::filesystem::path directory;              // where the safe name goes without -o ("": here)
    bool force = false;                           // overwrite an existing target
    unsigned parallel = kDefaultParallelRanges;
    std::uint64_t segment_bytes = kDefaultSegmentBytes;  // one ranged request, whole records
    unsigned max_attempts = kDefaultMaxAttempts;  // per segment, counting the first
    std::chrono::milliseconds retry_delay_ms = kDefaultRetryDelayMs;
    HttpOptions http;
    bool show_progress = false;
    std::function<void(std::string_view)> notice;
    // Sent as `Authorization` on every request of the ciphertext (/d/<id>): a session or a paid
    // grant ("Bearer …", "L402 …"), or "" for none. Secret.
    std::string authorization;
    // Called when the ciphertext is refused with 402 (a price) or 401 (a refused credential)
    // before the transfer starts, with the answer (a GET's, so it has the problem body) and the
    // Authorization that was sent: returns the Authorization to try next, or an error that ends
    // the download. Without it such an answer ends the download.
    std::function<ClientResult<std::string>(const HttpResponse&, std::string_view sent)> on_refused;
};

struct DownloadResult {
    std::filesystem::path path;
    FileMetadata metadata;
    bool resumed = false;
    std::uint64_t body_bytes = 0;
    std::uint64_t fetched_bytes = 0;  // ciphertext bytes received by this run
};

[[nodiscard]] ClientResult<DownloadResult> download_file(const Link& link,
                                                         const DownloadOptions& options);

// The temporary and state files beside `target`: ".<name>.satload-part", ".<name>.satload-state".
[[nodiscard]] std::filesystem::path part_path_for(const std::filesystem::path& target);
[[nodiscard]] std::filesystem::path state_path_for(const std::filesystem::path& target);

}  // namespace satload::client
