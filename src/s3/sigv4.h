// AWS Signature Version 4 for S3 requests: canonical request, string to sign, signing key
// and the Authorization header, over the crypto layer's OpenSSL SHA-256 and HMAC-SHA256.
// Written here rather than taken from a library: Debian packages no C++ SigV4 library that
// fits (the AWS C++ SDK is not packaged; aws-c-auth is a C runtime with its own event loop
// and HTTP stack), and the algorithm is a page of string handling over two primitives.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "crypto/primitives.h"

namespace satload::s3 {

// The payload hash S3 accepts when the body is not hashed before sending (streamed parts).
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";
// SHA-256 of the empty string: the payload hash of every request without a body.
inline constexpr std::string_view kEmptyPayloadSha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
inline constexpr std::string_view kSigningAlgorithm = "AWS4-HMAC-SHA256";

// An access key pair. The secret is wiped when the object dies and never printed.
struct Credentials {
    std::string access_key_id;
    std::string secret_access_key;

    Credentials() = default;
    Credentials(std::string id, std::string secret)
        : access_key_id(std::move(id)), secret_access_key(std::move(secret)) {}
    Credentials(const Credentials& other) = default;
    Credentials& operator=(const Credentials& other) = default;
    Credentials(Credentials&&) noexcept = default;
    Credentials& operator=(Credentials&&) noexcept = default;
    ~Credentials();
};

// Everything of a request that the signature covers.
struct SignableRequest {
    std::string method;
    std::string path;  // decoded; each segment is URI-encoded once ('/' kept), as S3 wants
    std::vector<std::pair<std::string, std::string>> query;    // decoded names and values
    std::vector<std::pair<std::string, std::string>> headers;  // as sent, all of them signed
    std::string payload_sha256_hex;  // hex SHA-256 of the body, or kUnsignedPayload
};

// RFC 3986 percent-encoding of everything but the unreserved characters (A-Z a-z 0-9 - . _ ~),
// uppercase hex; '/' stays literal when keep_slash (object key paths).
[[nodiscard]] std::string uri_encode(std::string_view text, bool keep_slash);

// The canonical request: method, canonical URI, sorted encoded query, lowercase sorted
// headers with trimmed values (runs of spaces collapsed, repeated names joined by ','),
// the signed header list and the payload hash, one per line.
[[nodiscard]] std::string canonical_request(const SignableRequest& request);
// "host;x-amz-date;...": the lowercase names of the request's headers, sorted, unique.
[[nodiscard]] std::string signed_headers(const SignableRequest& request);

// "YYYYMMDD/region/service/aws4_request".
[[nodiscard]] std::string credential_scope(std::string_view date_yyyymmdd, std::string_view region,
                                           std::string_view service);
[[nodiscard]] std::string string_to_sign(std::string_view amz_date, std::string_view scope,
                                         std::string_view canonical);
// HMAC chain "AWS4"+secret -> date -> region -> service -> "aws4_request". Secret-bearing:
// the caller wipes it.
[[nodiscard]] crypto::Sha256Digest signing_key(std::string_view secret_access_key,
                                               std::string_view date_yyyymmdd,
                                               std::string_view region, std::string_view service);

// The Authorization header value for `request` signed at `amz_date` (YYYYMMDDTHHMMSSZ, which
// must also be the request's X-Amz-Date header).
[[nodiscard]] std::string authorization(const Credentials& credentials, std::string_view region,
                                        std::string_view service, std::string_view amz_date,
                                        const SignableRequest& request);

// The ISO 8601 basic form SigV4 uses, in UTC: "20130524T000000Z".
[[nodiscard]] std::string amz_date(std::chrono::system_clock::time_point at);

}  // namespace satload::s3
