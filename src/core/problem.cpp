// The error catalogue and its JSON rendering.
#include "core/problem.h"

#include <fmt/format.h>

namespace satload {
namespace {

std::string json_escape(std::string_view s) {
    std::string out;
    out.reserve(s.size() + 8);
    for (const char c : s) {
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (static_cast<unsigned char>(c) < 0x20) {
                    out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
                } else {
                    out += c;
                }
        }
    }
    return out;
}

}  // namespace

const ProblemInfo& problem_info(Problem p) {
    static const ProblemInfo table[] = {
        {"bad-request", 400, "Bad request"},
        {"unauthorized", 401, "Authentication required"},
        {"forbidden", 403, "Forbidden"},
        {"not-found", 404, "Not found"},
        {"method-not-allowed", 405, "Method not allowed"},
        {"request-timeout", 408, "Request timed out"},
        {"conflict", 409, "Conflict"},
        {"gone", 410, "Gone"},
        {"length-required", 411, "Length required"},
        {"precondition-failed", 412, "Precondition failed"},
        {"payload-too-large", 413, "Payload too large"},
        {"uri-too-long", 414, "URI too long"},
        {"unsupported-media-type", 415, "Unsupported media type"},
        {"range-not-satisfiable", 416, "Range not satisfiable"},
        {"headers-too-large", 431, "Request header fields too large"},
        {"internal", 500, "Internal server error"},
        {"unavailable", 503, "Service unavailable"},
        {"tus-version-unsupported", 412, "Tus-Resumable missing or unsupported"},
        {"upload-offset-mismatch", 409, "Upload-Offset does not match the upload's offset"},
        {"upload-too-large", 413, "Upload-Length exceeds the maximum upload size"},
        {"upload-exceeds-length", 413, "Data would exceed the declared Upload-Length"},
        {"checksum-mismatch", 460, "Upload-Checksum does not match the data"},
        {"checksum-unsupported", 400, "Unsupported Upload-Checksum algorithm"},
        {"upload-expired", 410, "The upload expired and was removed"},
        {"upload-incomplete", 409, "A partial upload is not complete"},
        {"upload-locked", 423, "Another request is writing to this upload"},
        {"storage-full", 507, "Insufficient storage"},
        {"quota-exceeded", 413, "Storage quota exceeded"},
        {"account-required", 401, "An account is required"},
        {"link-expired", 410, "The link has expired"},
        {"link-revoked", 410, "The link was revoked"},
        {"download-limit-reached", 410, "The link's download limit was reached"},
        {"payment-required", 402, "Payment required"},
        {"invalid-credential", 401, "The payment credential is not valid for this file"},
        {"insufficient-funds", 402, "Insufficient funds"},
        {"price-above-maximum", 409, "The price is above the maximum you allowed"},
        {"wallet-frozen", 403, "The wallet is frozen"},
        {"too-many-requests", 429, "Too many requests"},
        {"onchain-unavailable", 503, "On-chain deposits and withdrawals are unavailable"},
        {"invalid-address", 400, "Not a bitcoin address of this network"},
        {"amount-below-dust", 400, "The amount is below the dust limit"},
        {"idempotency-key-reused", 422, "The Idempotency-Key was used for another request"},
    };
    static_assert(sizeof(table) / sizeof(table[0]) == static_cast<std::size_t>(Problem::kCount));
    return table[static_cast<std::size_t>(p)];
}

std::string problem_json(Problem p, std::string_view detail) {
    const ProblemInfo& info = problem_info(p);
    return fmt::format(
        R"({{"type":"https://satload.dev/problems/{}","title":"{}","status":{},"detail":"{}"}})",
        info.slug, json_escape(info.title), info.status, json_escape(detail));
}

}  // namespace satload
