// The V2 macaroon codec, HMAC chain, L402 identifier, grant caveats and L402 credential
// parsing declared in macaroon.h, on OpenSSL through crypto/primitives.h (Debian's
// libmacaroons only speaks V1).
#include "crypto/macaroon.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstddef>
#include <limits>
#include <optional>

#include "core/check.h"
#include "core/ids.h"
#include "crypto/primitives.h"

namespace satload::crypto {
namespace {

enum FieldType : std::uint8_t {
    kFieldEos = 0,
    kFieldLocation = 1,
    kFieldIdentifier = 2,
    kFieldVid = 4,
    kFieldSignature = 6,
};

// ---- Encoding ----

std::size_t varint_size(std::size_t value) {
    std::size_t n = 1;
    while (value >= 0x80) {
        value >>= 7;
        ++n;
    }
    return n;
}

std::size_t field_size(std::size_t data_bytes) { return 1 + varint_size(data_bytes) + data_bytes; }

void append_varint(Bytes& out, std::size_t value) {
    while (value >= 0x80) {
        out.push_back(static_cast<std::uint8_t>((value & 0x7f) | 0x80));
        value >>= 7;
    }
    out.push_back(static_cast<std::uint8_t>(value));
}

void append_field(Bytes& out, FieldType type, ByteSpan data) {
    out.push_back(type);
    append_varint(out, data.size());
    out.insert(out.end(), data.begin(), data.end());
}

// ---- Decoding ----

// Reads fields from the input; every method reports the first problem as a MacaroonError.
class FieldReader {
public:
    explicit FieldReader(ByteSpan data) : m_data(data) {}

    [[nodiscard]] bool at_end() const { return m_pos == m_data.size(); }
    [[nodiscard]] std::size_t remaining() const { return m_data.size() - m_pos; }
    // Only valid when !at_end().
    [[nodiscard]] std::uint8_t peek() const { return m_data[m_pos]; }

    // Consumes the type byte, which the caller has peeked, and the field's length and data.
    Result<ByteSpan, MacaroonError> read_field_body() {
        ++m_pos;
        auto length = read_varint();
        if (!length) return fail(length.error());
        if (*length > kMaxMacaroonFieldBytes) return fail(MacaroonError::field_too_large);
        if (*length > remaining()) return fail(MacaroonError::truncated);
        const ByteSpan data = m_data.subspan(m_pos, *length);
        m_pos += *length;
        return data;
    }

    // A field of `type` that must be next and must be non-empty.
    Result<ByteSpan, MacaroonError> read_required(FieldType type) {
        if (at_end()) return fail(MacaroonError::truncated);
        if (peek() != type) return fail(MacaroonError::unexpected_field);
        return read_non_empty();
    }

    // A field of `type` if it is next (an empty span when it is not).
    Result<ByteSpan, MacaroonError> read_optional(FieldType type) {
        if (at_end()) return fail(MacaroonError::truncated);
        if (peek() != type) return ByteSpan{};
        return read_non_empty();
    }

    Result<void, MacaroonError> read_eos() {
        if (at_end()) return fail(MacaroonError::truncated);
        if (peek() != kFieldEos) return fail(MacaroonError::unexpected_field);
        ++m_pos;
        return {};
    }

private:
    Result<ByteSpan, MacaroonError> read_non_empty() {
        auto data = read_field_body();
        if (data && data->empty()) return fail(MacaroonError::empty_field);
        return data;
    }

    // Unsigned LEB128 of at most 32 bits, minimally encoded (so the re-encoding is identical).
    Result<std::size_t, MacaroonError> read_varint() {
        std::uint64_t value = 0;
        for (std::size_t i = 0; i < kMaxVarintBytes; ++i) {
            if (at_end()) return fail(MacaroonError::truncated);
            const std::uint8_t b = m_data[m_pos++];
            value |= std::uint64_t{b & 0x7fu} << (7 * i);
            if ((b & 0x80) == 0) {
                if (i > 0 && b == 0) return fail(MacaroonError::bad_varint);
                if (value > std::numeric_limits<std::uint32_t>::max()) {
                    return fail(MacaroonError::bad_varint);
                }
                return static_cast<std::size_t>(value);
            }
        }
        return fail(MacaroonError::bad_varint);
    }

    ByteSpan m_data;
    std::size_t m_pos = 0;
};

Bytes to_bytes(ByteSpan s) { return Bytes(s.begin(), s.end()); }

std::string to_string(ByteSpan s) { return std::string(as_chars(s)); }

Result<MacaroonCaveat, MacaroonError> read_caveat(FieldReader& in) {
    MacaroonCaveat caveat;
    auto location = in.read_optional(kFieldLocation);
    if (!location) return fail(location.error());
    auto identifier = in.read_required(kFieldIdentifier);
    if (!identifier) return fail(identifier.error());
    auto vid = in.read_optional(kFieldVid);
    if (!vid) return fail(vid.error());
    if (!location->empty() && vid->empty()) {
        return fail(MacaroonError::caveat_location_without_vid);
    }
    if (auto eos = in.read_eos(); !eos) return fail(eos.error());
    caveat.location = to_string(*location);
    caveat.identifier = to_bytes(*identifier);
    caveat.verification_id = to_bytes(*vid);
    return caveat;
}

// ---- Signatures ----

// The npm package's makeKey: HMAC-SHA256 keyed with the fixed generator string.
MacaroonSignature derive_root_key(ByteSpan root_key) {
    SATLOAD_ASSERT(!root_key.empty());
    return hmac_sha256(as_bytes(kMacaroonKeyGenerator), root_key);
}

// The chain over the identifier and first-party caveats. Errors: third_party_caveat.
Result<MacaroonSignature, MacaroonError> chain_signature(const Macaroon& macaroon,
                                                         ByteSpan root_key) {
    for (const MacaroonCaveat& caveat : macaroon.caveats) {
        if (!caveat.is_first_party()) return fail(MacaroonError::third_party_caveat);
    }
    MacaroonSignature key = derive_root_key(root_key);
    MacaroonSignature sig = hmac_sha256(key, macaroon.identifier);
    secure_wipe(key);
    // The intermediate signatures are secrets too (each one would let a holder drop the
    // caveats after it), so the chain overwrites one variable in place.
    for (const MacaroonCaveat& caveat : macaroon.caveats) {
        sig = hmac_sha256(sig, caveat.identifier);
    }
    return sig;
}

Result<void, MacaroonError> verify_signature(const Macaroon& macaroon, ByteSpan root_key) {
    auto expected = chain_signature(macaroon, root_key);
    if (!expected) return fail(expected.error());
    const bool equal = constant_time_equal(*expected, macaroon.signature);
    secure_wipe(*expected);
    if (!equal) return fail(MacaroonError::signature_mismatch);
    return {};
}

// ---- Caveat text ----

bool is_key_char(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; }

bool is_value_char(char c) { return c > ' ' && c < 0x7f; }

bool is_caveat_key(std::string_view key) {
    return !key.empty() && std::all_of(key.begin(), key.end(), is_key_char);
}

bool is_caveat_value(std::string_view value) {
    return !value.empty() && std::all_of(value.begin(), value.end(), is_value_char);
}

struct CaveatText {
    std::string_view key;
    std::string_view value;
};

std::optional<CaveatText> parse_caveat(std::string_view text) {
    const std::size_t sep = text.find(kCaveatSeparator);
    if (sep == std::string_view::npos) return std::nullopt;
    CaveatText c{text.substr(0, sep), text.substr(sep + kCaveatSeparator.size())};
    if (!is_caveat_key(c.key) || !is_caveat_value(c.value)) return std::nullopt;
    return c;
}

// Non-negative decimal without sign, leading zeros or overflow: one text per number.
std::optional<std::int64_t> parse_canonical_int(std::string_view text) {
    if (text.empty() || (text.size() > 1 && text[0] == '0')) return std::nullopt;
    if (!std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return std::nullopt;
    }
    std::int64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
    return value;
}

bool ascii_iequal(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; };
        if (lower(a[i]) != lower(b[i])) return false;
    }
    return true;
}

bool is_lower_hex(std::string_view text) {
    return std::all_of(text.begin(), text.end(),
                       [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::string_view trim_ows(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

}  // namespace

std::string_view macaroon_error_name(MacaroonError e) {
    switch (e) {
        case MacaroonError::too_large:
            return "too_large";
        case MacaroonError::bad_base64:
            return "bad_base64";
        case MacaroonError::bad_version:
            return "bad_version";
        case MacaroonError::truncated:
            return "truncated";
        case MacaroonError::bad_varint:
            return "bad_varint";
        case MacaroonError::field_too_large:
            return "field_too_large";
        case MacaroonError::empty_field:
            return "empty_field";
        case MacaroonError::unexpected_field:
            return "unexpected_field";
        case MacaroonError::caveat_location_without_vid:
            return "caveat_location_without_vid";
        case MacaroonError::too_many_caveats:
            return "too_many_caveats";
        case MacaroonError::missing_signature:
            return "missing_signature";
        case MacaroonError::bad_signature_length:
            return "bad_signature_length";
        case MacaroonError::trailing_bytes:
            return "trailing_bytes";
        case MacaroonError::signature_mismatch:
            return "signature_mismatch";
        case MacaroonError::third_party_caveat:
            return "third_party_caveat";
        case MacaroonError::caveat_rejected:
            return "caveat_rejected";
        case MacaroonError::bad_identifier:
            return "bad_identifier";
        case MacaroonError::bad_caveat:
            return "bad_caveat";
        case MacaroonError::unknown_caveat:
            return "unknown_caveat";
        case MacaroonError::duplicate_caveat:
            return "duplicate_caveat";
        case MacaroonError::missing_caveat:
            return "missing_caveat";
        case MacaroonError::wrong_file:
            return "wrong_file";
        case MacaroonError::expired:
            return "expired";
        case MacaroonError::not_l402:
            return "not_l402";
        case MacaroonError::bad_credential:
            return "bad_credential";
        case MacaroonError::bad_preimage:
            return "bad_preimage";
        case MacaroonError::preimage_mismatch:
            return "preimage_mismatch";
    }
    return "unknown";
}

// ---- Codec ----

Result<Macaroon, MacaroonError> decode_macaroon(ByteSpan bytes) {
    if (bytes.size() > kMaxMacaroonBytes) return fail(MacaroonError::too_large);
    if (bytes.empty()) return fail(MacaroonError::truncated);
    if (bytes[0] != kMacaroonVersion) return fail(MacaroonError::bad_version);
    FieldReader in(bytes.subspan(1));

    Macaroon m;
    auto location = in.read_optional(kFieldLocation);
    if (!location) return fail(location.error());
    auto identifier = in.read_required(kFieldIdentifier);
    if (!identifier) return fail(identifier.error());
    if (auto eos = in.read_eos(); !eos) return fail(eos.error());
    m.location = to_string(*location);
    m.identifier = to_bytes(*identifier);

    for (;;) {
        if (in.at_end()) return fail(MacaroonError::truncated);
        if (in.peek() == kFieldEos) {
            (void)in.read_eos();
            break;
        }
        if (m.caveats.size() == kMaxMacaroonCaveats) return fail(MacaroonError::too_many_caveats);
        auto caveat = read_caveat(in);
        if (!caveat) return fail(caveat.error());
        m.caveats.push_back(std::move(*caveat));
    }

    if (in.at_end()) return fail(MacaroonError::missing_signature);
    if (in.peek() != kFieldSignature) return fail(MacaroonError::unexpected_field);
    auto signature = in.read_field_body();
    if (!signature) return fail(signature.error());
    if (signature->size() != kMacaroonSignatureBytes) {
        return fail(MacaroonError::bad_signature_length);
    }
    std::copy(signature->begin(), signature->end(), m.signature.begin());
    if (!in.at_end()) return fail(MacaroonError::trailing_bytes);
    return m;
}

Result<Macaroon, MacaroonError> decode_macaroon_base64(std::string_view text) {
    if (text.size() > kMaxMacaroonBase64Chars) return fail(MacaroonError::too_large);
    const bool has_standard = text.find_first_of("+/") != std::string_view::npos;
    const bool has_url = text.find_first_of("-_") != std::string_view::npos;
    if (has_standard && has_url) return fail(MacaroonError::bad_base64);
    // Normalize to the standard alphabet with padding, then use the strict decoder.
    std::string normal(text);
    std::replace(normal.begin(), normal.end(), '-', '+');
    std::replace(normal.begin(), normal.end(), '_', '/');
    if (normal.find('=') == std::string::npos) {
        if (normal.size() % 4 == 1) return fail(MacaroonError::bad_base64);
        if (normal.size() % 4 != 0) normal.append(4 - normal.size() % 4, '=');
    }
    const auto bytes = base64_decode(normal);
    if (!bytes) return fail(MacaroonError::bad_base64);
    return decode_macaroon(*bytes);
}

std::size_t encoded_macaroon_size(const Macaroon& m) {
    std::size_t n = 1;
    if (!m.location.empty()) n += field_size(m.location.size());
    n += field_size(m.identifier.size()) + 1;
    for (const MacaroonCaveat& c : m.caveats) {
        if (!c.location.empty()) n += field_size(c.location.size());
        n += field_size(c.identifier.size());
        if (!c.verification_id.empty()) n += field_size(c.verification_id.size());
        n += 1;
    }
    return n + 1 + field_size(kMacaroonSignatureBytes);
}

Bytes encode_macaroon(const Macaroon& m) {
    Bytes out;
    out.reserve(encoded_macaroon_size(m));
    out.push_back(kMacaroonVersion);
    if (!m.location.empty()) append_field(out, kFieldLocation, as_bytes(m.location));
    append_field(out, kFieldIdentifier, m.identifier);
    out.push_back(kFieldEos);
    for (const MacaroonCaveat& c : m.caveats) {
        if (!c.location.empty()) append_field(out, kFieldLocation, as_bytes(c.location));
        append_field(out, kFieldIdentifier, c.identifier);
        if (!c.verification_id.empty()) append_field(out, kFieldVid, c.verification_id);
        out.push_back(kFieldEos);
    }
    out.push_back(kFieldEos);
    append_field(out, kFieldSignature, m.signature);
    return out;
}

std::string encode_macaroon_base64(const Macaroon& macaroon) {
    return base64_encode(encode_macaroon(macaroon));
}

// ---- Minting and verifying ----

Macaroon mint_macaroon(ByteSpan root_key, ByteSpan identifier, std::string_view location) {
    SATLOAD_ASSERT(!identifier.empty() && identifier.size() <= kMaxMacaroonFieldBytes);
    SATLOAD_ASSERT(location.size() <= kMaxMacaroonFieldBytes);
    Macaroon m;
    m.location = std::string(location);
    m.identifier = to_bytes(identifier);
    MacaroonSignature key = derive_root_key(root_key);
    m.signature = hmac_sha256(key, identifier);
    secure_wipe(key);
    return m;
}

void add_first_party_caveat(Macaroon& m, std::string_view caveat) {
    SATLOAD_ASSERT(!caveat.empty() && caveat.size() <= kMaxMacaroonFieldBytes);
    SATLOAD_ASSERT(m.caveats.size() < kMaxMacaroonCaveats);
    SATLOAD_ASSERT(encoded_macaroon_size(m) + field_size(caveat.size()) + 1 <= kMaxMacaroonBytes);
    MacaroonCaveat c;
    c.identifier = to_bytes(as_bytes(caveat));
    m.signature = hmac_sha256(m.signature, c.identifier);
    m.caveats.push_back(std::move(c));
}

Result<void, MacaroonError> verify_macaroon(
    const Macaroon& macaroon, ByteSpan root_key,
    const std::function<bool(std::string_view caveat)>& check) {
    if (auto ok = verify_signature(macaroon, root_key); !ok) return ok;
    for (const MacaroonCaveat& caveat : macaroon.caveats) {
        if (!check(as_chars(caveat.identifier))) return fail(MacaroonError::caveat_rejected);
    }
    return {};
}

// ---- L402 identifier ----

Bytes encode_l402_identifier(const L402Identifier& id) {
    Bytes out;
    out.reserve(kL402IdentifierBytes);
    out.push_back(static_cast<std::uint8_t>(kL402IdentifierVersion >> 8));
    out.push_back(static_cast<std::uint8_t>(kL402IdentifierVersion & 0xff));
    out.insert(out.end(), id.payment_hash.begin(), id.payment_hash.end());
    out.insert(out.end(), id.token_id.begin(), id.token_id.end());
    return out;
}

Result<L402Identifier, MacaroonError> decode_l402_identifier(ByteSpan bytes) {
    if (bytes.size() != kL402IdentifierBytes) return fail(MacaroonError::bad_identifier);
    const auto version = static_cast<std::uint16_t>((bytes[0] << 8) | bytes[1]);
    if (version != kL402IdentifierVersion) return fail(MacaroonError::bad_identifier);
    L402Identifier id;
    const ByteSpan hash = bytes.subspan(2, kPaymentHashBytes);
    const ByteSpan token = bytes.subspan(2 + kPaymentHashBytes, kTokenIdBytes);
    std::copy(hash.begin(), hash.end(), id.payment_hash.begin());
    std::copy(token.begin(), token.end(), id.token_id.begin());
    return id;
}

TokenId random_token_id() {
    // A token id names a macaroon; it is no secret (its holder reads it). So ids are drawn from
    // the DRBG kTokenIdsPerDraw at a time: each draw costs a getpid(2) (OpenSSL's fork check)
    // and a re-key, 2.5% of a paid download's CPU when every id was a draw of its own. Per
    // thread, so no lock; satload never forks, so no two processes share what is drawn.
    constexpr std::size_t kTokenIdsPerDraw = 32;
    thread_local std::array<std::uint8_t, kTokenIdsPerDraw * kTokenIdBytes> drawn{};
    thread_local std::size_t used = drawn.size();
    if (used == drawn.size()) {
        random_bytes(drawn);
        used = 0;
    }
    TokenId id{};
    std::copy_n(drawn.begin() + static_cast<std::ptrdiff_t>(used), id.size(), id.begin());
    used += id.size();
    return id;
}

// ---- Grant caveats ----

std::string format_caveat(std::string_view key, std::string_view value) {
    SATLOAD_ASSERT(is_caveat_key(key) && is_caveat_value(value));
    std::string out;
    out.reserve(key.size() + kCaveatSeparator.size() + value.size());
    out.append(key).append(kCaveatSeparator).append(value);
    return out;
}

void add_grant_caveats(Macaroon& macaroon, const GrantCaveats& grant) {
    SATLOAD_ASSERT(is_file_id(grant.file_id));
    SATLOAD_ASSERT(grant.payer_account_id > 0 && grant.expires_unix_s >= 0);
    add_first_party_caveat(macaroon, format_caveat(kCaveatFileId, grant.file_id));
    add_first_party_caveat(macaroon,
                           format_caveat(kCaveatPayer, std::to_string(grant.payer_account_id)));
    add_first_party_caveat(macaroon,
                           format_caveat(kCaveatExpires, std::to_string(grant.expires_unix_s)));
}

namespace {

// The caveat rules of verify_grant, for a macaroon whose signature has been verified.
Result<GrantCaveats, MacaroonError> check_grant_caveats(const Macaroon& macaroon,
                                                        const GrantCheck& check) {
    GrantCaveats grant;
    bool have_file = false;
    bool have_payer = false;
    bool have_expires = false;
    for (const MacaroonCaveat& caveat : macaroon.caveats) {
        const auto text = parse_caveat(as_chars(caveat.identifier));
        if (!text) return fail(MacaroonError::bad_caveat);
        if (text->key == kCaveatFileId) {
            if (have_file) return fail(MacaroonError::duplicate_caveat);
            if (!is_file_id(text->value)) return fail(MacaroonError::bad_caveat);
            grant.file_id = std::string(text->value);
            have_file = true;
        } else if (text->key == kCaveatPayer) {
            if (have_payer) return fail(MacaroonError::duplicate_caveat);
            const auto payer = parse_canonical_int(text->value);
            if (!payer || *payer == 0) return fail(MacaroonError::bad_caveat);
            grant.payer_account_id = *payer;
            have_payer = true;
        } else if (text->key == kCaveatExpires) {
            if (have_expires) return fail(MacaroonError::duplicate_caveat);
            const auto expires = parse_canonical_int(text->value);
            if (!expires) return fail(MacaroonError::bad_caveat);
            grant.expires_unix_s = *expires;
            have_expires = true;
        } else {
            return fail(MacaroonError::unknown_caveat);
        }
    }
    if (!have_file || !have_payer || !have_expires) return fail(MacaroonError::missing_caveat);
    if (grant.file_id != check.file_id) return fail(MacaroonError::wrong_file);
    if (check.now_unix_s >= grant.expires_unix_s) return fail(MacaroonError::expired);
    return grant;
}

}  // namespace

Result<GrantCaveats, MacaroonError> verify_grant(const Macaroon& macaroon, ByteSpan root_key,
                                                 const GrantCheck& check) {
    if (auto ok = verify_signature(macaroon, root_key); !ok) return fail(ok.error());
    return check_grant_caveats(macaroon, check);
}

// ---- L402 credential ----

Result<L402Credential, MacaroonError> parse_l402_authorization(std::string_view header_value) {
    if (header_value.size() > kMaxL402HeaderChars) return fail(MacaroonError::too_large);
    std::string_view rest = trim_ows(header_value);
    const std::size_t space = rest.find(' ');
    const std::string_view scheme = rest.substr(0, space);
    if (!ascii_iequal(scheme, kL402Scheme) && !ascii_iequal(scheme, kLsatScheme)) {
        return fail(MacaroonError::not_l402);
    }
    if (space == std::string_view::npos) return fail(MacaroonError::bad_credential);
    rest = rest.substr(space);
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);

    // Exactly one colon: base64 never contains one, and several macaroons are not accepted.
    const std::size_t colon = rest.find(':');
    if (colon == std::string_view::npos || rest.find(':', colon + 1) != std::string_view::npos) {
        return fail(MacaroonError::bad_credential);
    }
    const std::string_view macaroon_text = rest.substr(0, colon);
    const std::string_view preimage_text = rest.substr(colon + 1);
    if (macaroon_text.empty()) return fail(MacaroonError::bad_credential);
    if (preimage_text.size() != 2 * kPreimageBytes || !is_lower_hex(preimage_text)) {
        return fail(MacaroonError::bad_preimage);
    }
    auto macaroon = decode_macaroon_base64(macaroon_text);
    if (!macaroon) return fail(macaroon.error());

    L402Credential credential;
    credential.macaroon = std::move(*macaroon);
    auto preimage = hex_decode(preimage_text);
    SATLOAD_ASSERT(preimage && preimage->size() == kPreimageBytes);
    std::copy(preimage->begin(), preimage->end(), credential.preimage.begin());
    // With the macaroon, the preimage is a bearer credential: leave no stray copy.
    secure_wipe(preimage->data(), preimage->size());
    return credential;
}

Result<L402Grant, MacaroonError> verify_l402(const L402Credential& credential, ByteSpan root_key,
                                             const GrantCheck& check) {
    auto identifier = decode_l402_identifier(credential.macaroon.identifier);
    if (!identifier) return fail(identifier.error());
    if (auto ok = verify_signature(credential.macaroon, root_key); !ok) return fail(ok.error());
    const Sha256Digest hash = sha256(credential.preimage);
    if (!constant_time_equal(hash, identifier->payment_hash)) {
        return fail(MacaroonError::preimage_mismatch);
    }
    auto caveats = check_grant_caveats(credential.macaroon, check);
    if (!caveats) return fail(caveats.error());
    return L402Grant{*identifier, std::move(*caveats)};
}

std::string format_l402_challenge(const Macaroon& macaroon, std::string_view invoice) {
    SATLOAD_ASSERT(invoice.find_first_of("\"\\") == std::string_view::npos);
    std::string out(kL402Scheme);
    out.append(" macaroon=\"").append(encode_macaroon_base64(macaroon));
    out.append("\", invoice=\"").append(invoice).append("\"");
    return out;
}

}  // namespace satload::crypto
