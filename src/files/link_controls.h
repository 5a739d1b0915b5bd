// Link controls of a file: the price, expiry and download limit set at upload (tus
// Upload-Metadata keys) or later by the owner, their bounds, and the rules that close a link.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"
#include "store/meta_store.h"

namespace satload::files {

// The tus Upload-Metadata keys (values decimal text, base64 per tus).
inline constexpr std::string_view kExpiresInKey = "expires_in";       // seconds after completion
inline constexpr std::string_view kMaxDownloadsKey = "max_downloads";  // at least 1
inline constexpr std::string_view kPriceMsatKey = "price_msat";        // 0 is free

// Bounds: a lifetime as long as the client's longest duration (100 years), a download limit
// far above anything real, and a price no larger than all bitcoin.
inline constexpr std::int64_t kLinkLifetimeMaxS = 100LL * 365 * 24 * 3600;
inline constexpr std::uint64_t kDownloadLimitMax = 1'000'000'000'000ULL;

// What an upload asks for. An expiry is relative: it starts when the upload completes, when
// the link first works.
struct LinkControls {
    std::int64_t price_msat = 0;
    std::optional<std::int64_t> expires_in_s;
    std::optional<std::uint64_t> max_downloads;
};

// Each returns a sentence for the client when the value is out of bounds.
[[nodiscard]] std::optional<std::string> check_price(std::int64_t price_msat);
[[nodiscard]] std::optional<std::string> check_lifetime(std::int64_t lifetime_s);
[[nodiscard]] std::optional<std::string> check_download_limit(std::uint64_t max_downloads);

// The link-control keys of a raw Upload-Metadata value (other keys are ignored); an error
// names the key and the rule. A malformed header is the caller's to refuse before this.
[[nodiscard]] Result<LinkControls, std::string> parse_link_metadata(std::string_view upload_metadata);

// Why a link no longer serves its file, checked in this order.
enum class LinkRefusal {
    revoked,                 // the owner switched it off
    expired,                 // now is at or past its expiry
    download_limit_reached,  // it was downloaded max_downloads times
};

[[nodiscard]] std::optional<LinkRefusal> link_refusal(const store::FileRecord& file,
                                                      std::int64_t now_s);

// Whether the file's link may stop working or cost money: an expiry, a download limit, a
// price, revocation, or an owner who can add any of them later (every file but an anonymous
// one). Such a file's bytes must not be cached publicly for ever.
[[nodiscard]] bool has_link_controls(const store::FileRecord& file);

}  // namespace satload::files
