// Pure helpers for what a report carries: finding the file id of a reported link, and keeping
// every file key out of storage (a link's #fragment is its key; it is cut wherever it appears).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace satload::safety {

// The link without its fragment (everything from the first '#').
[[nodiscard]] std::string strip_fragment(std::string_view link);
// The file id of a satload link (<base>/f/<id>[?…][#…] or <base>/d/<id>), nullopt when the
// link names no valid file id.
[[nodiscard]] std::optional<std::string> file_id_of_link(std::string_view link);
// Free text with the fragment of every satload link in it removed ("/f/<id>#<secret>" becomes
// "/f/<id>#"), so a reporter who pastes a full link into the reason leaks no key to us.
[[nodiscard]] std::string without_link_secrets(std::string_view text);

}  // namespace satload::safety
