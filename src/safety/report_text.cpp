// Link parsing and key scrubbing for reports (see report_text.h).
#include "safety/report_text.h"

#include "core/ids.h"

namespace satload::safety {
namespace {

bool is_base64url(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

}  // namespace

std::string strip_fragment(std::string_view link) { return std::string(link.substr(0, link.find('#'))); }

std::optional<std::string> file_id_of_link(std::string_view link) {
    link = link.substr(0, link.find('#'));
    link = link.substr(0, link.find('?'));
    while (!link.empty() && link.back() == '/') link.remove_suffix(1);
    const auto slash = link.rfind('/');
    if (slash == std::string_view::npos || slash < 2) return std::nullopt;
    const std::string_view kind = link.substr(slash - 2, 3);
    if (kind != "/f/" && kind != "/d/") return std::nullopt;
    const std::string_view id = link.substr(slash + 1);
    if (!is_file_id(id)) return std::nullopt;
    return std::string(id);
}

std::string without_link_secrets(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    std::size_t i = 0;
    while (i < text.size()) {
        const auto at = text.find("/f/", i);
        if (at == std::string_view::npos) {
            out.append(text.substr(i));
            break;
        }
        // Copy through the id and any query, up to the fragment mark.
        std::size_t j = at + 3;
        while (j < text.size() && is_base64url(text[j])) ++j;
        while (j < text.size() && text[j] != '#' && text[j] != ' ' && text[j] != '\n' && text[j] != '\t' &&
               text.compare(j, 3, "/f/") != 0) {
            ++j;
        }
        out.append(text.substr(i, j - i));
        if (j < text.size() && text[j] == '#') {
            out.push_back('#');
            ++j;
            while (j < text.size() && is_base64url(text[j])) ++j;  // the key: dropped
        }
        i = j;
    }
    return out;
}

}  // namespace satload::safety
