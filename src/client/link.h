// The share link `<base>/f/<id>[?r=<referrer>]#<secret>` (docs/DESIGN.md "link"): strict
// parsing and formatting. The secret lives only in the fragment, which browsers never send.
#pragma once

#include <string>
#include <string_view>

#include "client/error.h"
#include "client/url.h"
#include "crypto/keys.h"

namespace satload::client {

// A referral code: base64url characters only, so it needs no escaping in a query.
inline constexpr std::size_t kMaxReferrerChars = 64;

struct Link {
    ServerUrl server;        // <base>
    std::string file_id;     // 22 base64url characters
    std::string referrer;    // empty when the link has no ?r=
    crypto::FileSecret secret{};

    Link() = default;
    Link(const Link& other) = default;
    Link& operator=(const Link& other) = default;
    ~Link();  // wipes the secret
};

// Refuses anything but the exact form: http(s), no user info, a plain base path, exactly
// `/f/<file-id>` after it, no query but `r=<referrer>`, and a 22-character secret fragment.
[[nodiscard]] ClientResult<Link> parse_link(std::string_view text);
[[nodiscard]] std::string format_link(const Link& link);

[[nodiscard]] bool is_referrer(std::string_view text);

}  // namespace satload::client
