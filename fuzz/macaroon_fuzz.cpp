// Fuzzes the macaroon decoders (binary V2 and base64 text) and the L402 Authorization parser:
// no crash; an accepted macaroon is within the limits and re-encodes to exactly the bytes it
// was decoded from; the same bytes given as base64 decode to the same macaroon; a parsed
// L402 credential's macaroon re-encodes and decodes back to itself.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "crypto/macaroon.h"

namespace crypto = satload::crypto;

namespace {

void check_limits(const crypto::Macaroon& m) {
    if (m.caveats.size() > crypto::kMaxMacaroonCaveats) std::abort();
    if (m.identifier.empty() || m.identifier.size() > crypto::kMaxMacaroonFieldBytes) std::abort();
    if (m.location.size() > crypto::kMaxMacaroonFieldBytes) std::abort();
    for (const crypto::MacaroonCaveat& c : m.caveats) {
        if (c.identifier.empty() || c.identifier.size() > crypto::kMaxMacaroonFieldBytes) {
            std::abort();
        }
        if (!c.location.empty() && c.verification_id.empty()) std::abort();
    }
    if (crypto::encoded_macaroon_size(m) > crypto::kMaxMacaroonBytes) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const satload::ByteSpan input(data, size);
    const std::string_view text(reinterpret_cast<const char*>(data), size);

    if (const auto m = crypto::decode_macaroon(input)) {
        check_limits(*m);
        const satload::Bytes again = crypto::encode_macaroon(*m);
        if (again.size() != size || !std::equal(again.begin(), again.end(), data)) std::abort();
        if (crypto::encoded_macaroon_size(*m) != size) std::abort();
        const auto from_text = crypto::decode_macaroon_base64(crypto::encode_macaroon_base64(*m));
        if (!from_text || !(*from_text == *m)) std::abort();
        // Verification with any key runs to an answer (a fixed key: the fuzzer cannot forge).
        const std::uint8_t key[1] = {0x42};
        (void)crypto::verify_macaroon(*m, key, [](std::string_view) { return true; });
        (void)crypto::verify_grant(*m, key, {"AAAAAAAAAAAAAAAAAAAAAA", 0});
    }

    if (const auto m = crypto::decode_macaroon_base64(text)) {
        check_limits(*m);
        const auto again = crypto::decode_macaroon(crypto::encode_macaroon(*m));
        if (!again || !(*again == *m)) std::abort();
    }

    if (const auto c = crypto::parse_l402_authorization(text)) {
        check_limits(c->macaroon);
        const auto again = crypto::decode_macaroon(crypto::encode_macaroon(c->macaroon));
        if (!again || !(*again == c->macaroon)) std::abort();
        const std::uint8_t key[1] = {0x42};
        (void)crypto::verify_l402(*c, key, {"AAAAAAAAAAAAAAAAAAAAAA", 0});
    }

    (void)crypto::decode_l402_identifier(input);
    return 0;
}
