// Prometheus text exposition (format 0.0.4) of the server counters.
#include "server/metrics.h"

#include <fmt/format.h>

namespace satload::server {

void Metrics::count_request(std::string_view method, unsigned status) {
    // Only known methods get their own label, so a client cannot grow the map.
    static constexpr std::string_view kKnown[] = {"GET", "HEAD", "POST", "PATCH",
                                                  "DELETE", "OPTIONS", "PUT"};
    std::string label = "other";
    for (const auto known : kKnown) {
        if (method == known) label = std::string(known);
    }
    std::lock_guard guard(m_mutex);
    ++m_requests[{label, status}];
}

std::string Metrics::render(std::uint64_t uploads_in_progress, std::uint64_t corrupt_blobs) const {
    std::string out;
    out += "# HELP satload_http_requests_total HTTP requests answered.\n";
    out += "# TYPE satload_http_requests_total counter\n";
    {
        std::lock_guard guard(m_mutex);
        for (const auto& [key, count] : m_requests) {
            out += fmt::format("satload_http_requests_total{{method=\"{}\",code=\"{}\"}} {}\n",
                               key.first, key.second, count);
        }
    }
    auto counter = [&](std::string_view name, std::string_view help, std::uint64_t value) {
        out += fmt::format("# HELP {0} {1}\n# TYPE {0} counter\n{0} {2}\n", name, help, value);
    };
    auto gauge = [&](std::string_view name, std::string_view help, std::int64_t value) {
        out += fmt::format("# HELP {0} {1}\n# TYPE {0} gauge\n{0} {2}\n", name, help, value);
    };
    counter("satload_http_bytes_received_total", "Request body bytes received.", bytes_received);
    counter("satload_http_bytes_sent_total", "Response body bytes sent.", bytes_sent);
    counter("satload_http_bytes_spliced_total",
            "Response body bytes passed from the blob store's connection to the client's in the kernel (splice).",
            bytes_spliced);
    counter("satload_upload_bytes_received_total", "Body bytes accepted into uploads.",
            upload_bytes_received);
    counter("satload_downloads_completed_total", "Downloads whose last byte was sent.",
            downloads_completed);
    counter("satload_connections_total", "Connections accepted.", connections_total);
    counter("satload_timeouts_total", "Connections closed by a timeout.", timeouts_total);
    counter("satload_scrub_checked_total", "Blobs re-hashed by the scrub.", scrub_checked);
    counter("satload_blob_corrupt_total", "Blobs found not matching their digest.", corrupt_blobs);
    gauge("satload_connections_open", "Open connections.", connections_open);
    gauge("satload_uploads_in_progress", "Uploads being written to.",
          static_cast<std::int64_t>(uploads_in_progress));
    return out;
}

}  // namespace satload::server
