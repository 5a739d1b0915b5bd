// The one catalogue of user-facing errors: a stable code, its HTTP status and a title.
// The server renders these as application/problem+json (RFC 9457) with
// type "https://satload.dev/problems/<slug>"; the CLI prints the title and detail.
#pragma once

#include <string>
#include <string_view>

namespace satload {

enum class Problem {
    bad_request,
    unauthorized,
    forbidden,
    not_found,
    method_not_allowed,
    request_timeout,
    conflict,
    gone,
    length_required,
    precondition_failed,
    payload_too_large,
    uri_too_long,
    unsupported_media_type,
    range_not_satisfiable,
    headers_too_large,
    internal,
    unavailable,
    // tus-specific outcomes.
    tus_version_unsupported,     // 412: missing or wrong Tus-Resumable
    upload_offset_mismatch,      // 409: Upload-Offset differs from the stored offset
    upload_too_large,            // 413: Upload-Length above the configured maximum
    upload_exceeds_length,       // 413: a PATCH would write past Upload-Length
    checksum_mismatch,           // 460: Upload-Checksum did not match the body
    checksum_unsupported,        // 400: unknown Upload-Checksum algorithm
    upload_expired,              // 410: the partial upload passed its expiry and was removed
    upload_incomplete,           // 409 on concatenation of an unfinished partial upload
    upload_locked,               // 423: another request is writing to this upload
    storage_full,                // 507: the disk is full
    insufficient_storage_quota,  // 413: account quota exceeded
    account_required,            // 401: anonymous uploads are off, or a price needs an account
    link_expired,                // 410: the link's expiry time has passed
    link_revoked,                // 410: the owner revoked the link (or it was taken down)
    download_limit_reached,      // 410: the link's maximum number of downloads was reached
    payment_required,            // 402: a priced file without a valid grant
    invalid_credential,          // 401: a tampered, truncated, foreign or wrong L402 credential
    insufficient_funds,          // 402: the payer's wallet cannot cover the price
    price_above_maximum,         // 409: the price is above the payer's max_msat
    wallet_frozen,               // 403: the wallet may not pay or withdraw
    too_many_requests,           // 429: a rate limit or throttle; answered with Retry-After
    onchain_unavailable,  // 503: no bitcoin node configured (serve without --node), or it is away
    invalid_address,      // 400: not a bitcoin address of the server's network
    amount_below_dust,    // 400: an on-chain amount below the dust limit
    idempotency_key_reused,  // 422: an Idempotency-Key already names a request with other fields
    kCount                   // not a problem: the size of the catalogue
};

struct ProblemInfo {
    std::string_view slug;   // stable machine name, used in the `type` URI
    int status;              // HTTP status code
    std::string_view title;  // short human summary, stable per slug
};

[[nodiscard]] const ProblemInfo& problem_info(Problem p);

// Renders the problem+json body. `detail` is free text for this occurrence (never a secret).
[[nodiscard]] std::string problem_json(Problem p, std::string_view detail);

}  // namespace satload
