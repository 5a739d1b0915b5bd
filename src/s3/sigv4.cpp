// AWS Signature Version 4: the string handling of the canonical request and the HMAC chain.
#include "s3/sigv4.h"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <map>

#include "core/check.h"
#include "core/encoding.h"

namespace satload::s3 {
namespace {

constexpr std::string_view kScopeTerminator = "aws4_request";
constexpr std::size_t kDateChars = 8;      // YYYYMMDD
constexpr std::size_t kAmzDateChars = 16;  // YYYYMMDDTHHMMSSZ

bool is_unreserved(unsigned char c) {
    return std::isalnum(c) != 0 || c == '-' || c == '.' || c == '_' || c == '~';
}

std::string lowercase(std::string_view text) {
    std::string out(text);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// Trims leading and trailing spaces and tabs and collapses inner runs of them to one space,
// as the canonical header form requires.
std::string canonical_header_value(std::string_view value) {
    std::string out;
    out.reserve(value.size());
    bool pending_space = false;
    for (char c : value) {
        if (c == ' ' || c == '\t') {
            pending_space = !out.empty();
            continue;
        }
        if (pending_space) out.push_back(' ');
        pending_space = false;
        out.push_back(c);
    }
    return out;
}

// Lowercase name -> value(s) joined by ',' in the order they appear.
std::map<std::string, std::string> canonical_headers(const SignableRequest& request) {
    std::map<std::string, std::string> headers;
    for (const auto& [name, value] : request.headers) {
        auto [it, inserted] = headers.try_emplace(lowercase(name), canonical_header_value(value));
        if (!inserted) it->second += "," + canonical_header_value(value);
    }
    return headers;
}

std::string canonical_query(const SignableRequest& request) {
    std::vector<std::pair<std::string, std::string>> encoded;
    encoded.reserve(request.query.size());
    for (const auto& [name, value] : request.query) {
        encoded.emplace_back(uri_encode(name, false), uri_encode(value, false));
    }
    // Sorted by encoded name, then by value (byte order), as the specification says.
    std::sort(encoded.begin(), encoded.end());
    std::string out;
    for (const auto& [name, value] : encoded) {
        if (!out.empty()) out.push_back('&');
        out += name;
        out.push_back('=');
        out += value;
    }
    return out;
}

}  // namespace

Credentials::~Credentials() {
    crypto::secure_wipe(secret_access_key.data(), secret_access_key.size());
}

std::string uri_encode(std::string_view text, bool keep_slash) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(text.size());
    for (char ch : text) {
        const auto c = static_cast<unsigned char>(ch);
        if (is_unreserved(c) || (keep_slash && c == '/')) {
            out.push_back(ch);
        } else {
            out.push_back('%');
            out.push_back(kHex[c >> 4]);
            out.push_back(kHex[c & 0x0f]);
        }
    }
    return out;
}

std::string signed_headers(const SignableRequest& request) {
    std::string out;
    for (const auto& [name, value] : canonical_headers(request)) {
        if (!out.empty()) out.push_back(';');
        out += name;
    }
    return out;
}

std::string canonical_request(const SignableRequest& request) {
    std::string out = request.method;
    out.push_back('\n');
    out += request.path.empty() ? std::string("/") : uri_encode(request.path, true);
    out.push_back('\n');
    out += canonical_query(request);
    out.push_back('\n');
    std::string names;
    for (const auto& [name, value] : canonical_headers(request)) {
        out += name;
        out.push_back(':');
        out += value;
        out.push_back('\n');
        if (!names.empty()) names.push_back(';');
        names += name;
    }
    out.push_back('\n');
    out += names;
    out.push_back('\n');
    out += request.payload_sha256_hex;
    return out;
}

std::string credential_scope(std::string_view date_yyyymmdd, std::string_view region,
                             std::string_view service) {
    std::string out(date_yyyymmdd);
    out.push_back('/');
    out += region;
    out.push_back('/');
    out += service;
    out.push_back('/');
    out += kScopeTerminator;
    return out;
}

std::string string_to_sign(std::string_view amz_date, std::string_view scope,
                           std::string_view canonical) {
    std::string out(kSigningAlgorithm);
    out.push_back('\n');
    out += amz_date;
    out.push_back('\n');
    out += scope;
    out.push_back('\n');
    out += hex_encode(crypto::sha256(as_bytes(canonical)));
    return out;
}

crypto::Sha256Digest signing_key(std::string_view secret_access_key, std::string_view date_yyyymmdd,
                                 std::string_view region, std::string_view service) {
    std::string first_key = "AWS4";
    first_key += secret_access_key;
    crypto::Sha256Digest key = crypto::hmac_sha256(as_bytes(first_key), as_bytes(date_yyyymmdd));
    crypto::secure_wipe(first_key.data(), first_key.size());
    for (std::string_view step : {region, service, kScopeTerminator}) {
        const crypto::Sha256Digest next = crypto::hmac_sha256(ByteSpan(key), as_bytes(step));
        crypto::secure_wipe(key);
        key = next;
    }
    return key;
}

std::string authorization(const Credentials& credentials, std::string_view region,
                          std::string_view service, std::string_view amz_date,
                          const SignableRequest& request) {
    SATLOAD_ASSERT(amz_date.size() == kAmzDateChars);
    const std::string_view date = amz_date.substr(0, kDateChars);
    const std::string scope = credential_scope(date, region, service);
    const std::string to_sign = string_to_sign(amz_date, scope, canonical_request(request));
    crypto::Sha256Digest key = signing_key(credentials.secret_access_key, date, region, service);
    const crypto::Sha256Digest signature = crypto::hmac_sha256(ByteSpan(key), as_bytes(to_sign));
    crypto::secure_wipe(key);
    std::string out(kSigningAlgorithm);
    out += " Credential=";
    out += credentials.access_key_id;
    out.push_back('/');
    out += scope;
    out += ", SignedHeaders=";
    out += signed_headers(request);
    out += ", Signature=";
    out += hex_encode(signature);
    return out;
}

std::string amz_date(std::chrono::system_clock::time_point at) {
    const std::time_t seconds = std::chrono::system_clock::to_time_t(at);
    std::tm utc{};
    SATLOAD_ASSERT(::gmtime_r(&seconds, &utc) != nullptr);
    char text[kAmzDateChars + 1] = {};
    SATLOAD_ASSERT(std::strftime(text, sizeof(text), "%Y%m%dT%H%M%SZ", &utc) == kAmzDateChars);
    return text;
}

}  // namespace satload::s3
