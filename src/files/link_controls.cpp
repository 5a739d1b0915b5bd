// Link-control bounds, the Upload-Metadata keys that carry them, and the rules that close a link.
#include "files/link_controls.h"

#include <fmt/format.h>

#include "core/http_headers.h"
#include "core/money.h"

namespace satload::files {

std::optional<std::string> check_price(std::int64_t price_msat) {
    if (!within_supply(Msat{price_msat})) {
        return fmt::format("a price is 0 to {} msat", kSupplyMsat);
    }
    return std::nullopt;
}

std::optional<std::string> check_lifetime(std::int64_t lifetime_s) {
    if (lifetime_s < 1 || lifetime_s > kLinkLifetimeMaxS) {
        return fmt::format("an expiry is 1 to {} seconds from now", kLinkLifetimeMaxS);
    }
    return std::nullopt;
}

std::optional<std::string> check_download_limit(std::uint64_t max_downloads) {
    if (max_downloads < 1 || max_downloads > kDownloadLimitMax) {
        return fmt::format("a download limit is 1 to {}", kDownloadLimitMax);
    }
    return std::nullopt;
}

Result<LinkControls, std::string> parse_link_metadata(std::string_view upload_metadata) {
    LinkControls controls;
    if (upload_metadata.empty()) return controls;
    const auto pairs = parse_upload_metadata(upload_metadata);
    if (!pairs) return fail(std::string("Upload-Metadata is malformed"));
    for (const auto& [key, value] : *pairs) {
        if (key != kExpiresInKey && key != kMaxDownloadsKey && key != kPriceMsatKey) continue;
        // The tus value is decoded already: what remains must be plain decimal digits.
        const auto number = parse_decimal(value);
        if (!number) {
            return fail(fmt::format("Upload-Metadata {} must be a decimal number (base64 per tus)", key));
        }
        std::optional<std::string> problem;
        if (key == kMaxDownloadsKey) {
            problem = check_download_limit(*number);
            controls.max_downloads = *number;
        } else if (*number > static_cast<std::uint64_t>(INT64_MAX)) {
            problem = "it is too large";
        } else if (key == kExpiresInKey) {
            controls.expires_in_s = static_cast<std::int64_t>(*number);
            problem = check_lifetime(*controls.expires_in_s);
        } else {
            controls.price_msat = static_cast<std::int64_t>(*number);
            problem = check_price(controls.price_msat);
        }
        if (problem) return fail(fmt::format("Upload-Metadata {}: {}", key, *problem));
    }
    return controls;
}

std::optional<LinkRefusal> link_refusal(const store::FileRecord& file, std::int64_t now_s) {
    if (file.revoked) return LinkRefusal::revoked;
    if (file.expires_s && now_s >= *file.expires_s) return LinkRefusal::expired;
    if (file.max_downloads && file.downloads >= *file.max_downloads) {
        return LinkRefusal::download_limit_reached;
    }
    return std::nullopt;
}

bool has_link_controls(const store::FileRecord& file) {
    return !file.anonymous || file.revoked || file.expires_s || file.max_downloads ||
           file.price_msat != 0;
}

}  // namespace satload::files
