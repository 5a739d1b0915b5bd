// Splitting request paths and part URLs (see request_path.h).
#include "server/request_path.h"

#include "core/ids.h"

namespace satload::server {

std::optional<std::vector<std::string_view>> plain_segments(std::string_view path) {
    if (path.empty() || path.front() != '/') return std::nullopt;
    std::vector<std::string_view> segments;
    path.remove_prefix(1);
    while (true) {
        const auto slash = path.find('/');
        const std::string_view seg = path.substr(0, slash);
        // Empty segments ("//", a trailing "/") never name anything.
        if (seg.empty() && (slash != std::string_view::npos || !segments.empty())) return std::nullopt;
        if (seg == "." || seg == ".." || seg.find('%') != std::string_view::npos) return std::nullopt;
        if (!seg.empty()) segments.push_back(seg);
        if (slash == std::string_view::npos) break;
        path.remove_prefix(slash + 1);
    }
    return segments;
}

std::optional<std::string> upload_id_of_url(std::string_view url) {
    const auto pos = url.rfind("/files/");
    if (pos == std::string_view::npos) return std::nullopt;
    std::string id(url.substr(pos + 7));
    if (!is_upload_id(id)) return std::nullopt;
    return id;
}

}  // namespace satload::server
