// Macaroons for the L402 paywall: the V2 binary codec, the HMAC-SHA256 signature chain, the
// L402 identifier layout, satload's grant caveats and the `Authorization: L402` credential.
//
// Debian's libmacaroons only speaks V1, so the V2 codec and the HMAC chain are ours, on OpenSSL
// (crypto/primitives.h). They follow the npm `macaroon` package byte for byte (checked by
// tests/interop/macaroon.test.mjs), which implements libmacaroons' V2 format:
//   macaroon  = 0x02 [location] identifier EOS caveat* EOS signature
//   caveat    = [location] identifier [vid] EOS
//   field     = type(1 byte) uvarint(length) bytes;  EOS = the single byte 0x00
//   types: location 1, identifier 2, vid 4, signature 6 (32 bytes)
// An empty location is written as no location field at all (as the npm package does), so every
// accepted encoding is the one our encoder writes back.
//
// Signatures: k = HMAC-SHA256(key "macaroons-key-generator", root key) (the npm package's
// makeKey; libmacaroons zero-pads that key to 32 bytes, which HMAC's own zero padding makes
// the same key), sig = HMAC-SHA256(k, identifier), then sig = HMAC-SHA256(sig, caveat) for each
// first-party caveat. Third-party caveats are decoded and re-encoded but never verified.
//
// Text form: encode_macaroon_base64 writes standard base64 WITH padding (RFC 4648 section 4),
// which is what goes in `WWW-Authenticate: L402 macaroon="..."` and `Authorization: L402`;
// decode_macaroon_base64 also accepts the URL-safe alphabet and unpadded text.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/encoding.h"
#include "core/result.h"

namespace satload::crypto {

inline constexpr std::uint8_t kMacaroonVersion = 2;
// Our limits: a credential travels in one HTTP header, and satload's own macaroons are about
// 250 bytes (66-byte identifier, three short caveats, 32-byte signature).
inline constexpr std::size_t kMaxMacaroonBytes = 4096;
inline constexpr std::size_t kMaxMacaroonBase64Chars = (kMaxMacaroonBytes + 2) / 3 * 4;
inline constexpr std::size_t kMaxMacaroonCaveats = 32;
inline constexpr std::size_t kMaxMacaroonFieldBytes = 1024;
inline constexpr std::size_t kMacaroonSignatureBytes = 32;
// A 32-bit length never needs more than 5 varint bytes (as libmacaroons and the npm package).
inline constexpr std::size_t kMaxVarintBytes = 5;

// The fixed HMAC key of the root-key derivation (the npm package's makeKey).
inline constexpr std::string_view kMacaroonKeyGenerator = "macaroons-key-generator";

// Every outcome of decoding and verifying a macaroon or an L402 credential.
enum class MacaroonError {
    // Binary and text decoding.
    too_large,                    // more than kMaxMacaroonBytes (or its base64 length)
    bad_base64,                   // not base64 (either alphabet, padded or not), or mixed alphabets
    bad_version,                  // first byte is not 2 (V1 macaroons are not accepted)
    truncated,                    // the input ends inside a field or before the signature section
    bad_varint,                   // a length that overflows 32 bits or is not minimally encoded
    field_too_large,              // a field longer than kMaxMacaroonFieldBytes
    empty_field,                  // a present but empty location, identifier or vid
    unexpected_field,             // an unknown field type or a field out of order
    caveat_location_without_vid,  // only third-party caveats have a location
    too_many_caveats,             // more than kMaxMacaroonCaveats
    missing_signature,            // the input ends right after the caveat section
    bad_signature_length,         // a signature field that is not 32 bytes
    trailing_bytes,               // bytes after the signature
    // Verification.
    signature_mismatch,  // wrong root key, or a tampered identifier, caveat or signature
    third_party_caveat,  // satload verifies first-party caveats only
    caveat_rejected,     // the caller's check refused a caveat
    // satload's grant caveats and the L402 identifier.
    bad_identifier,    // not the 66-byte L402 identifier of version 0
    bad_caveat,        // not `key = value`, or a value not in its canonical form
    unknown_caveat,    // a well-formed caveat with a key satload does not know: fail closed
    duplicate_caveat,  // a grant caveat given twice
    missing_caveat,    // file_id, payer or expires absent
    wrong_file,        // the grant is for another file
    expired,           // now >= expires (answered with a fresh 402, not a 401)
    // The `Authorization: L402 <macaroon>:<preimage>` credential.
    not_l402,           // another scheme (Bearer, Basic, ...): not for the paywall to judge
    bad_credential,     // an L402/LSAT header without exactly one `<macaroon>:<preimage>`
    bad_preimage,       // the preimage is not 64 lowercase hex digits
    preimage_mismatch,  // SHA-256(preimage) is not the payment hash of the identifier
};

// Stable snake_case name of an error, for logs, tests and problem details.
[[nodiscard]] std::string_view macaroon_error_name(MacaroonError e);

using MacaroonSignature = std::array<std::uint8_t, kMacaroonSignatureBytes>;

struct MacaroonCaveat {
    Bytes identifier;       // the condition text of a first-party caveat
    std::string location;   // third-party only; empty means absent
    Bytes verification_id;  // third-party only; empty for a first-party caveat
    [[nodiscard]] bool is_first_party() const { return verification_id.empty(); }
    bool operator==(const MacaroonCaveat&) const = default;
};

struct Macaroon {
    std::string location;  // a hint, not signed; empty means absent
    Bytes identifier;
    std::vector<MacaroonCaveat> caveats;
    MacaroonSignature signature{};
    bool operator==(const Macaroon&) const = default;
};

// Decoding refuses anything but the canonical V2 encoding within the limits above.
[[nodiscard]] Result<Macaroon, MacaroonError> decode_macaroon(ByteSpan bytes);
[[nodiscard]] Result<Macaroon, MacaroonError> decode_macaroon_base64(std::string_view text);
[[nodiscard]] Bytes encode_macaroon(const Macaroon& macaroon);
// Standard alphabet, padded.
[[nodiscard]] std::string encode_macaroon_base64(const Macaroon& macaroon);
// Bytes encode_macaroon writes, without writing them.
[[nodiscard]] std::size_t encoded_macaroon_size(const Macaroon& macaroon);

// A macaroon with no caveats. The identifier must be 1..kMaxMacaroonFieldBytes bytes, the
// location at most kMaxMacaroonFieldBytes, the root key non-empty (programmer errors).
[[nodiscard]] Macaroon mint_macaroon(ByteSpan root_key, ByteSpan identifier,
                                     std::string_view location = {});
// Appends a first-party caveat and extends the signature chain. The caveat must be non-empty,
// at most kMaxMacaroonFieldBytes, and keep the macaroon within kMaxMacaroonCaveats and
// kMaxMacaroonBytes (programmer errors: satload writes its caveats itself).
void add_first_party_caveat(Macaroon& macaroon, std::string_view caveat);

// Recomputes the chain from the root key and compares it with the signature in constant
// time; only then calls `check` on each caveat in order (so it never sees unauthenticated
// text). Errors: third_party_caveat, signature_mismatch, caveat_rejected.
[[nodiscard]] Result<void, MacaroonError> verify_macaroon(
    const Macaroon& macaroon, ByteSpan root_key,
    const std::function<bool(std::string_view caveat)>& check);

// --- The L402 identifier (lightning-labs aperture's layout) -----------------------------
inline constexpr std::uint16_t kL402IdentifierVersion = 0;
inline constexpr std::size_t kPaymentHashBytes = 32;
inline constexpr std::size_t kTokenIdBytes = 32;
inline constexpr std::size_t kPreimageBytes = 32;
inline constexpr std::size_t kL402IdentifierBytes = 2 + kPaymentHashBytes + kTokenIdBytes;

using PaymentHash = std::array<std::uint8_t, kPaymentHashBytes>;
using TokenId = std::array<std::uint8_t, kTokenIdBytes>;
using Preimage = std::array<std::uint8_t, kPreimageBytes>;

// version (uint16 big-endian, 0) || payment hash || token id.
struct L402Identifier {
    PaymentHash payment_hash{};
    TokenId token_id{};  // random per macaroon, so two grants for one payment differ
    bool operator==(const L402Identifier&) const = default;
};

[[nodiscard]] Bytes encode_l402_identifier(const L402Identifier& id);
// Errors: bad_identifier (length other than 66, or a version other than 0).
[[nodiscard]] Result<L402Identifier, MacaroonError> decode_l402_identifier(ByteSpan bytes);
[[nodiscard]] TokenId random_token_id();

// --- satload's grant caveats ---------------------------------------------------------------
// Caveats are ASCII text `<key> = <value>`. A grant carries each of these exactly once.
inline constexpr std::string_view kCaveatFileId = "file_id";   // value: a file id (core/ids.h)
inline constexpr std::string_view kCaveatPayer = "payer";      // value: account id, decimal > 0
inline constexpr std::string_view kCaveatExpires = "expires";  // value: unix seconds, decimal
inline constexpr std::string_view kCaveatSeparator = " = ";

struct GrantCaveats {
    std::string file_id;
    std::int64_t payer_account_id = 0;
    std::int64_t expires_unix_s = 0;  // the grant is valid while now < expires_unix_s
    bool operator==(const GrantCaveats&) const = default;
};

struct GrantCheck {
    std::string_view file_id;  // the file being downloaded
    std::int64_t now_unix_s = 0;
};

// `<key> = <value>`; the key must be [a-z0-9_]+ and the value printable ASCII without spaces.
[[nodiscard]] std::string format_caveat(std::string_view key, std::string_view value);
// Appends file_id, payer and expires (values must be valid: programmer errors).
void add_grant_caveats(Macaroon& macaroon, const GrantCaveats& grant);

// Verifies the signature (as verify_macaroon), then the caveats, failing closed: any caveat
// that is malformed, unknown or repeated, or a missing one, refuses the macaroon. The caveat
// errors are reported before wrong_file, and wrong_file before expired, so `expired` means a
// genuine grant for this file that has run out.
[[nodiscard]] Result<GrantCaveats, MacaroonError> verify_grant(const Macaroon& macaroon,
                                                               ByteSpan root_key,
                                                               const GrantCheck& check);

// --- The L402 credential -------------------------------------------------------------------
inline constexpr std::string_view kL402Scheme = "L402";
inline constexpr std::string_view kLsatScheme = "LSAT";  // the protocol's former name
inline constexpr std::size_t kMaxL402HeaderChars = 16 + kMaxMacaroonBase64Chars + 1 + 64;

struct L402Credential {
    Macaroon macaroon;
    Preimage preimage{};
};

struct L402Grant {
    L402Identifier identifier;
    GrantCaveats caveats;
};

// Parses the value of an Authorization header: `L402 <base64 macaroon>:<64 lowercase hex>`
// (scheme case-insensitive, LSAT accepted, one or more spaces after it, surrounding spaces and
// tabs ignored). Another scheme gives not_l402; a malformed macaroon gives its decode error.
[[nodiscard]] Result<L402Credential, MacaroonError> parse_l402_authorization(
    std::string_view header_value);

// The identifier, the signature, SHA-256(preimage) == payment hash (constant time), then the
// grant caveats. Errors: bad_identifier, the verify_grant errors, preimage_mismatch.
[[nodiscard]] Result<L402Grant, MacaroonError> verify_l402(const L402Credential& credential,
                                                           ByteSpan root_key,
                                                           const GrantCheck& check);

// `L402 macaroon="<base64>", invoice="<invoice>"` for WWW-Authenticate. The invoice is an
// opaque payment request and must not contain '"' or '\\' (programmer error).
[[nodiscard]] std::string format_l402_challenge(const Macaroon& macaroon, std::string_view invoice);

}  // namespace satload::crypto
