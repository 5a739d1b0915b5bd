// The resume record of an unfinished `satload get`, beside the temporary file: which segments
// of which blob (file id and ETag) are already decrypted into it. It holds no secret.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "client/error.h"

namespace satload::client {

inline constexpr int kDownloadStateVersion = 1;

struct DownloadState {
    std::string file_id;
    std::string etag;
    std::uint64_t body_bytes = 0;
    std::uint64_t plaintext_bytes = 0;
    std::uint32_t record_size = 0;
    std::uint64_t segment_records = 0;
    std::vector<bool> done;  // one flag per segment
    friend bool operator==(const DownloadState&, const DownloadState&) = default;
};

// `done` is written as [begin, end) runs of finished segments, so it stays small.
[[nodiscard]] std::string download_state_to_json(const DownloadState& state);
[[nodiscard]] ClientResult<DownloadState> download_state_from_json(std::string_view json);

}  // namespace satload::client
