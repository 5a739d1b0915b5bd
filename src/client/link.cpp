// Link parsing: Boost.URL splits the parts, then every part is checked against the one form
// satload writes, so a hostile or mistyped link fails with a message naming the bad part.
#include "client/link.h"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <algorithm>

#include "core/ids.h"
#include "crypto/primitives.h"

namespace satload::client {
namespace {

constexpr std::string_view kFilePathMarker = "/f/";
constexpr std::string_view kReferrerKey = "r=";

bool is_base64url_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_';
}

}  // namespace

Link::~Link() { crypto::secure_wipe(secret.data(), secret.size()); }

bool is_referrer(std::string_view text) {
    return !text.empty() && text.size() <= kMaxReferrerChars &&
           std::all_of(text.begin(), text.end(), is_base64url_char);
}

ClientResult<Link> parse_link(std::string_view text) {
    if (text.size() > kMaxUrlChars) {
        return client_error(ErrorCode::bad_link, "the link is too long");
    }
    const auto parsed = boost::urls::parse_uri(text);
    if (!parsed) {
        return client_error(ErrorCode::bad_link, "the link is not a valid URL");
    }
    const boost::urls::url_view& url = *parsed;
    if (!url.has_fragment()) {
        return client_error(ErrorCode::bad_link, "the link has no #secret: copy the whole link");
    }
    // Re-parse the part before '#' as a server base URL with the file path on it; this
    // applies the same scheme, host and port checks as --server.
    const std::string_view path = url.encoded_path();
    const std::size_t marker = path.rfind(kFilePathMarker);
    if (marker == std::string_view::npos) {
        return client_error(ErrorCode::bad_link, "the link's path does not end in /f/<id>");
    }
    const std::string_view file_id = path.substr(marker + kFilePathMarker.size());
    if (!is_file_id(file_id)) {
        return client_error(ErrorCode::bad_link, "the link's file id is malformed");
    }
    const std::string_view prefix = path.substr(0, marker);
    if (!is_plain_path_prefix(prefix)) {
        return client_error(ErrorCode::bad_link, "the link's base path is malformed");
    }
    std::string base(url.scheme());
    base += "://";
    base += url.encoded_authority();
    base += prefix;
    if (url.has_userinfo()) {
        return client_error(ErrorCode::bad_link,
                            "user names and passwords in links are not supported");
    }
    auto server = parse_server_url(base);
    if (!server) {
        return client_error(ErrorCode::bad_link, "the link's server part is invalid: " +
                                                     server.error().message);
    }

    Link link;
    link.server = std::move(*server);
    link.file_id = std::string(file_id);
    if (url.has_query()) {
        const std::string_view query = url.encoded_query();
        if (query.substr(0, kReferrerKey.size()) != kReferrerKey ||
            !is_referrer(query.substr(kReferrerKey.size()))) {
            return client_error(ErrorCode::bad_link,
                                "the link's query must be r=<referral code> and nothing else");
        }
        link.referrer = std::string(query.substr(kReferrerKey.size()));
    }
    auto secret = crypto::secret_from_text(url.encoded_fragment());
    if (!secret) {
        return client_error(ErrorCode::bad_link,
                            "the link's #secret is malformed (22 base64url characters expected)");
    }
    link.secret = *secret;
    crypto::secure_wipe(secret->data(), secret->size());
    return link;
}

std::string format_link(const Link& link) {
    std::string out = link.server.text();
    out += kFilePathMarker;
    out += link.file_id;
    if (!link.referrer.empty()) {
        out += "?";
        out += kReferrerKey;
        out += link.referrer;
    }
    out += "#";
    std::string secret = crypto::secret_to_text(link.secret);
    out += secret;
    crypto::secure_wipe(secret.data(), secret.size());
    return out;
}

}  // namespace satload::client
