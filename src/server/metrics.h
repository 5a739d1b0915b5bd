// Server counters, rendered as Prometheus text at /metrics.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

namespace satload::server {

class Metrics {
public:
    void count_request(std::string_view method, unsigned status);

    std::atomic<std::uint64_t> bytes_received{0};         // request body bytes read
    std::atomic<std::uint64_t> bytes_sent{0};             // response body bytes written
    std::atomic<std::uint64_t> bytes_spliced{0};          // of which passed on in the kernel (splice)
    std::atomic<std::uint64_t> upload_bytes_received{0};  // body bytes accepted into uploads
    std::atomic<std::uint64_t> downloads_completed{0};    // responses that carried a last byte
    std::atomic<std::int64_t> connections_open{0};
    std::atomic<std::uint64_t> connections_total{0};
    std::atomic<std::uint64_t> timeouts_total{0};
    std::atomic<std::uint64_t> scrub_checked{0};

    // Gauges owned by services are passed in at render time.
    [[nodiscard]] std::string render(std::uint64_t uploads_in_progress,
                                     std::uint64_t corrupt_blobs) const;

private:
    mutable std::mutex m_mutex;
    std::map<std::pair<std::string, unsigned>, std::uint64_t> m_requests;
};

}  // namespace satload::server
