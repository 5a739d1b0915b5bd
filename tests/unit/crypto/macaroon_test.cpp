// Pins down the V2 macaroon codec (exact bytes, every refusal, truncation and bit flips), the
// HMAC chain against OpenSSL's HMAC called directly and against a vector from the npm
// `macaroon` package, satload's grant caveats, the L402 identifier and the L402 header.
#include "crypto/macaroon.h"

#include <dlfcn.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/ids.h"
#include "crypto/primitives.h"

// Counts calls to OpenSSL's constant-time comparison and forwards them to the real one, so a
// test can tell that signature and preimage checks go through it (a plain memcmp or == would
// leave the count unchanged). Behaviour for every other caller is unchanged.
namespace {
std::atomic<int> g_crypto_memcmp_calls{0};
}
extern "C" int CRYPTO_memcmp(const void* a, const void* b, size_t len) {
    using Fn = int (*)(const void*, const void*, size_t);
    static const Fn real = reinterpret_cast<Fn>(dlsym(RTLD_NEXT, "CRYPTO_memcmp"));
    if (real == nullptr) std::abort();
    g_crypto_memcmp_calls.fetch_add(1);
    return real(a, b, len);
}

namespace satload::crypto {
namespace {

// ---- Helpers written independently of the code under test ----

Bytes unhex(std::string_view text) {
    auto b = hex_decode(text);
    EXPECT_TRUE(b) << text;
    return b.value_or(Bytes{});
}

Bytes bytes_of(std::string_view s) { return Bytes(s.begin(), s.end()); }

// HMAC-SHA256 through OpenSSL's one-shot HMAC(), not through crypto/primitives.
MacaroonSignature openssl_hmac(ByteSpan key, ByteSpan data) {
    MacaroonSignature out{};
    unsigned int len = 0;
    const std::uint8_t empty = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
         data.empty() ? &empty : data.data(), data.size(), out.data(), &len);
    EXPECT_EQ(len, out.size());
    return out;
}

constexpr std::uint8_t kLoc = 1, kId = 2, kVid = 4, kSig = 6;

// Builds V2 bytes by hand: type, LEB128 length, data.
struct Raw {
    Bytes b{kMacaroonVersion};
    Raw& field(std::uint8_t type, ByteSpan data) {
        b.push_back(type);
        std::size_t n = data.size();
        while (n >= 0x80) {
            b.push_back(static_cast<std::uint8_t>((n & 0x7f) | 0x80));
            n >>= 7;
        }
        b.push_back(static_cast<std::uint8_t>(n));
        b.insert(b.end(), data.begin(), data.end());
        return *this;
    }
    Raw& field(std::uint8_t type, std::string_view text) { return field(type, as_bytes(text)); }
    Raw& raw(std::initializer_list<std::uint8_t> bytes) {
        b.insert(b.end(), bytes);
        return *this;
    }
    Raw& eos() { return raw({0}); }
    Raw& signature(std::size_t size = 32) { return field(kSig, Bytes(size, 0xab)); }
};

const Bytes kRootKey = unhex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
const std::string kFileId = "AAAAAAAAAAAAAAAAAAAAAA";

MacaroonError decode_error(const Bytes& bytes) {
    auto m = decode_macaroon(bytes);
    EXPECT_FALSE(m) << "accepted " << hex_encode(bytes);
    return m ? MacaroonError::bad_credential /* any value the caller does not expect */ : m.error();
}

Macaroon sample(std::string_view location = "satload.test") {
    Macaroon m = mint_macaroon(kRootKey, as_bytes("identifier-1"), location);
    add_first_party_caveat(m, "file_id = " + kFileId);
    add_first_party_caveat(m, "payer = 42");
    add_first_party_caveat(m, "expires = 1700000000");
    return m;
}

bool accept_all(std::string_view) { return true; }

// ---- Signatures ----

// The signature chain is HMAC(HMAC("macaroons-key-generator", root key), id) extended by
// HMAC(sig, caveat) per caveat, as computed here with OpenSSL's HMAC() directly.
TEST(Macaroon, SignatureChainMatchesDirectHmac) {
    const MacaroonSignature derived = openssl_hmac(as_bytes("macaroons-key-generator"), kRootKey);
    MacaroonSignature expected = openssl_hmac(derived, as_bytes("identifier-1"));
    Macaroon m = mint_macaroon(kRootKey, as_bytes("identifier-1"));
    EXPECT_EQ(m.signature, expected);
    for (const std::string_view caveat : {"a = 1", "b = 2", "c = 3"}) {
        add_first_party_caveat(m, caveat);
        expected = openssl_hmac(expected, as_bytes(caveat));
        EXPECT_EQ(m.signature, expected) << caveat;
    }
    EXPECT_TRUE(verify_macaroon(m, kRootKey, accept_all));
}

// A macaroon minted and exported by the npm `macaroon` package 3.0.4 (root key 00..1f,
// location "satload.test", an L402 identifier, three grant caveats) decodes, verifies, and
// re-encodes to the same bytes; minting the same with satload gives the same signature.
TEST(Macaroon, NpmPackageVector) {
    const std::string npm_b64 =
        "AgEMc2F0bG9hZC50ZXN0AkIAAHLNboQixAf7bQmGkPETC33tfsL39eHTC9nVIfAVNjeTAgICAgICAgICAgICAgIC"
        "AgICAgICAgICAgICAgICAgIAAiBmaWxlX2lkID0gQUFBQUFBQUFBQUFBQUFBQUFBQUFBQQACCnBheWVyID0gND"
        "IAAhRleHBpcmVzID0gMTcwMDAwMDAwMAAABiABEZfIK4PP77bCR6ZCuwOPRcEc2nOxfOObdze5YDZRWQ==";
    auto m = decode_macaroon_base64(npm_b64);
    ASSERT_TRUE(m) << macaroon_error_name(m.error());
    EXPECT_EQ(m->location, "satload.test");
    EXPECT_EQ(hex_encode(m->signature),
              "011197c82b83cfefb6c247a642bb038f45c11cda73b17ce39b7737b960365159");
    EXPECT_EQ(encode_macaroon_base64(*m), npm_b64);

    auto grant = verify_grant(*m, kRootKey, {kFileId, 1'699'999'999});
    ASSERT_TRUE(grant) << macaroon_error_name(grant.error());
    EXPECT_EQ(grant->payer_account_id, 42);
    EXPECT_EQ(grant->expires_unix_s, 1'700'000'000);

    auto id = decode_l402_identifier(m->identifier);
    ASSERT_TRUE(id);
    const Preimage preimage = [] {
        Preimage p;
        p.fill(1);
        return p;
    }();
    EXPECT_EQ(id->payment_hash, sha256(preimage));
    TokenId token;
    token.fill(2);
    EXPECT_EQ(id->token_id, token);

    Macaroon ours = mint_macaroon(kRootKey, encode_l402_identifier(*id), "satload.test");
    add_grant_caveats(ours, {kFileId, 42, 1'700'000'000});
    EXPECT_EQ(ours, *m);
}

// A wrong root key, any changed caveat, identifier or signature, and a dropped or reordered
// caveat all give signature_mismatch; the check callback is never called on them.
TEST(Macaroon, TamperingRefused) {
    const Macaroon good = sample();
    int calls = 0;
    const auto counting = [&](std::string_view) {
        ++calls;
        return true;
    };
    ASSERT_TRUE(verify_macaroon(good, kRootKey, counting));
    EXPECT_EQ(calls, 3);
    calls = 0;

    std::vector<Macaroon> bad;
    Bytes other_key = kRootKey;
    other_key[31] ^= 1;
    {
        Macaroon m = good;
        m.caveats[2].identifier = bytes_of("expires = 1800000000");
        bad.push_back(m);
    }
    {
        Macaroon m = good;
        m.identifier.back() ^= 1;
        bad.push_back(m);
    }
    for (const std::size_t i : {std::size_t{0}, std::size_t{31}}) {
        Macaroon m = good;
        m.signature[i] ^= 0x80;
        bad.push_back(m);
    }
    {
        Macaroon m = good;
        m.caveats.pop_back();
        bad.push_back(m);
    }
    {
        Macaroon m = good;
        std::swap(m.caveats[0], m.caveats[1]);
        bad.push_back(m);
    }
    for (const Macaroon& m : bad) {
        auto r = verify_macaroon(m, kRootKey, counting);
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error(), MacaroonError::signature_mismatch);
    }
    auto r = verify_macaroon(good, other_key, counting);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), MacaroonError::signature_mismatch);
    EXPECT_EQ(calls, 0);
}

// Flipping any bit of any byte of the encoding (no location, which is unsigned) makes it
// either undecodable or unverifiable.
TEST(Macaroon, EveryBitFlipRefused) {
    const Bytes good = encode_macaroon(sample(""));
    for (std::size_t i = 0; i < good.size(); ++i) {
        for (int bit = 0; bit < 8; ++bit) {
            Bytes b = good;
            b[i] ^= static_cast<std::uint8_t>(1 << bit);
            auto m = decode_macaroon(b);
            if (m) {
                EXPECT_FALSE(verify_macaroon(*m, kRootKey, accept_all)) << i << " bit " << bit;
            }
        }
    }
}

// The location is a hint outside the signature (as in libmacaroons and the npm package).
TEST(Macaroon, LocationIsNotSigned) {
    Macaroon m = sample("a.example");
    m.location = "b.example";
    EXPECT_TRUE(verify_macaroon(m, kRootKey, accept_all));
}

// The callback sees every caveat in order, only after the signature verified; a refusal is
// caveat_rejected.
TEST(Macaroon, CheckCallbackSeesCaveatsInOrder) {
    std::vector<std::string> seen;
    auto r = verify_macaroon(sample(), kRootKey, [&](std::string_view c) {
        seen.emplace_back(c);
        return true;
    });
    EXPECT_TRUE(r);
    EXPECT_EQ(seen, (std::vector<std::string>{"file_id = " + kFileId, "payer = 42",
                                              "expires = 1700000000"}));
    r = verify_macaroon(sample(), kRootKey, [](std::string_view c) { return c != "payer = 42"; });
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), MacaroonError::caveat_rejected);
}

// A third-party caveat survives a decode/encode round trip but is never verified.
TEST(Macaroon, ThirdPartyCaveatDecodedButNotVerified) {
    Macaroon m = sample();
    m.caveats.push_back({bytes_of("third-party-id"), "https://tp.example", Bytes(72, 7)});
    auto back = decode_macaroon(encode_macaroon(m));
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, m);
    EXPECT_FALSE(back->caveats.back().is_first_party());
    auto r = verify_macaroon(*back, kRootKey, accept_all);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), MacaroonError::third_party_caveat);
    // Also without a location.
    m.caveats.back().location.clear();
    back = decode_macaroon(encode_macaroon(m));
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, m);
}

// Signature and preimage checks go through CRYPTO_memcmp (constant time).
TEST(Macaroon, ComparisonsUseCryptoMemcmp) {
    const Macaroon m = sample();
    int before = g_crypto_memcmp_calls.load();
    EXPECT_TRUE(verify_macaroon(m, kRootKey, accept_all));
    EXPECT_GE(g_crypto_memcmp_calls.load() - before, 1);

    Macaroon bad = m;
    bad.signature[31] ^= 1;
    before = g_crypto_memcmp_calls.load();
    EXPECT_FALSE(verify_macaroon(bad, kRootKey, accept_all));
    EXPECT_GE(g_crypto_memcmp_calls.load() - before, 1);

    Preimage preimage{};
    preimage.fill(9);
    L402Identifier id{sha256(preimage), random_token_id()};
    Macaroon l = mint_macaroon(kRootKey, encode_l402_identifier(id));
    add_grant_caveats(l, {kFileId, 1, 100});
    before = g_crypto_memcmp_calls.load();
    EXPECT_TRUE(verify_l402({l, preimage}, kRootKey, {kFileId, 50}));
    EXPECT_GE(g_crypto_memcmp_calls.load() - before, 2);  // signature and payment hash
}

// ---- Codec ----

// The exact V2 bytes of a small macaroon, written by hand from the format description.
TEST(MacaroonCodec, ExactBytes) {
    Macaroon m;
    m.location = "loc";
    m.identifier = bytes_of("id");
    m.caveats.push_back({bytes_of("a = 1"), "", {}});
    m.signature.fill(0xab);
    const Bytes expected = Raw{}
                               .field(kLoc, "loc")
                               .field(kId, "id")
                               .eos()
                               .field(kId, "a = 1")
                               .eos()
                               .eos()
                               .signature()
                               .b;
    EXPECT_EQ(encode_macaroon(m), expected);
    EXPECT_EQ(encoded_macaroon_size(m), expected.size());
    auto back = decode_macaroon(expected);
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, m);

    // Without a location the field is absent, not empty.
    m.location.clear();
    EXPECT_EQ(encode_macaroon(m),
              Raw{}.field(kId, "id").eos().field(kId, "a = 1").eos().eos().signature().b);
}

// Round trips at the limits: 32 caveats, fields of 1024 bytes (two-byte varints), 4096 bytes.
TEST(MacaroonCodec, RoundTripAtLimits) {
    Macaroon m = mint_macaroon(kRootKey, Bytes(kMaxMacaroonFieldBytes, 0x5a));
    for (std::size_t i = 0; i < kMaxMacaroonCaveats; ++i) {
        add_first_party_caveat(m, "k = " + std::to_string(i));
    }
    Bytes bytes = encode_macaroon(m);
    EXPECT_EQ(bytes.size(), encoded_macaroon_size(m));
    auto back = decode_macaroon(bytes);
    ASSERT_TRUE(back) << macaroon_error_name(back.error());
    EXPECT_EQ(*back, m);
    EXPECT_EQ(encode_macaroon(*back), bytes);
    EXPECT_TRUE(verify_macaroon(*back, kRootKey, accept_all));

    // Grow the location and the caveats (each within the field limit) until the whole
    // encoding is exactly kMaxMacaroonBytes; a byte that would pass it (by lengthening a
    // varint) goes to the next caveat instead.
    m.location = std::string(kMaxMacaroonFieldBytes, 'l');
    for (MacaroonCaveat& c : m.caveats) {
        while (c.identifier.size() < kMaxMacaroonFieldBytes &&
               encoded_macaroon_size(m) < kMaxMacaroonBytes) {
            c.identifier.push_back('x');
            if (encoded_macaroon_size(m) > kMaxMacaroonBytes) {
                c.identifier.pop_back();
                break;
            }
        }
    }
    bytes = encode_macaroon(m);
    ASSERT_EQ(bytes.size(), kMaxMacaroonBytes);
    back = decode_macaroon(bytes);
    ASSERT_TRUE(back) << macaroon_error_name(back.error());
    EXPECT_EQ(*back, m);

    // One more byte is too large.
    m.caveats.back().identifier.push_back('x');
    ASSERT_GT(encoded_macaroon_size(m), kMaxMacaroonBytes);
    EXPECT_EQ(decode_error(encode_macaroon(m)), MacaroonError::too_large);
}

// Every proper prefix of a valid encoding is refused (truncated or missing_signature).
TEST(MacaroonCodec, TruncationAtEveryOffsetRefused) {
    Macaroon m = sample();
    m.caveats.push_back({bytes_of("tp"), "https://tp.example", Bytes(40, 1)});
    const Bytes good = encode_macaroon(m);
    for (std::size_t n = 0; n < good.size(); ++n) {
        const Bytes prefix(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n));
        const MacaroonError e = decode_error(prefix);
        EXPECT_TRUE(e == MacaroonError::truncated || e == MacaroonError::missing_signature)
            << n << ": " << macaroon_error_name(e);
    }
    EXPECT_TRUE(decode_macaroon(good));
}

// Each malformation gets its own named error.
TEST(MacaroonCodec, EveryDecodeError) {
    using E = MacaroonError;
    // too_large
    EXPECT_EQ(decode_error(Bytes(kMaxMacaroonBytes + 1, 2)), E::too_large);
    // bad_version: V1 (hex text) and others.
    EXPECT_EQ(decode_error(bytes_of("0012location")), E::bad_version);
    EXPECT_EQ(decode_error(Bytes{1, 2, 1, 'x', 0, 0, 6, 32}), E::bad_version);
    // truncated
    EXPECT_EQ(decode_error(Bytes{}), E::truncated);
    EXPECT_EQ(decode_error(Bytes{2}), E::truncated);
    EXPECT_EQ(decode_error(Raw{}.raw({kId, 5, 'a'}).b), E::truncated);
    EXPECT_EQ(decode_error(Raw{}.raw({kId, 0x81}).b), E::truncated);  // inside a varint
    // bad_varint: not minimal, more than 5 bytes, more than 32 bits.
    EXPECT_EQ(decode_error(Raw{}.raw({kId, 0x81, 0x00, 'a'}).b), E::bad_varint);
    EXPECT_EQ(decode_error(Raw{}.raw({kId, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01}).b), E::bad_varint);
    EXPECT_EQ(decode_error(Raw{}.raw({kId, 0xff, 0xff, 0xff, 0xff, 0x1f}).b), E::bad_varint);
    // field_too_large: 1025 declared (even though the data is absent).
    EXPECT_EQ(decode_error(Raw{}.raw({kId, 0x81, 0x08}).b), E::field_too_large);
    EXPECT_EQ(decode_error(Raw{}.field(kId, Bytes(kMaxMacaroonFieldBytes + 1, 'i')).b),
              E::field_too_large);
    // empty_field: location, identifier, caveat identifier, vid.
    EXPECT_EQ(decode_error(Raw{}.field(kLoc, "").field(kId, "i").eos().eos().signature().b),
              E::empty_field);
    EXPECT_EQ(decode_error(Raw{}.field(kId, "").eos().eos().signature().b), E::empty_field);
    EXPECT_EQ(decode_error(Raw{}.field(kId, "i").eos().field(kId, "").eos().eos().signature().b),
              E::empty_field);
    EXPECT_EQ(decode_error(Raw{}
                               .field(kId, "i")
                               .eos()
                               .field(kLoc, "l")
                               .field(kId, "c")
                               .field(kVid, "")
                               .eos()
                               .eos()
                               .signature()
                               .b),
              E::empty_field);
    // unexpected_field: no identifier, wrong order, unknown type, vid in the header,
    // a signature where a caveat or EOS belongs, an identifier where the signature belongs.
    EXPECT_EQ(decode_error(Raw{}.field(kLoc, "l").eos().eos().signature().b), E::unexpected_field);
    EXPECT_EQ(decode_error(Raw{}.field(kId, "i").field(kLoc, "l").eos().eos().signature().b),
              E::unexpected_field);
    EXPECT_EQ(decode_error(Raw{}.field(3, "x").field(kId, "i").eos().eos().signature().b),
              E::unexpected_field);
    EXPECT_EQ(decode_error(Raw{}.field(kId, "i").field(kVid, "v").eos().eos().signature().b),
              E::unexpected_field);
    EXPECT_EQ(decode_error(Raw{}.field(kId, "i").eos().signature().b), E::unexpected_field);
    EXPECT_EQ(decode_error(Raw{}.field(kId, "i").eos().field(kId, "c").signature().b),
              E::unexpected_field);
    EXPECT_EQ(
        decode_error(Raw{}.field(kId, "i").eos().field(kId, "c").eos().eos().field(kId, "s").b),
        E::unexpected_field);
    EXPECT_EQ(
        decode_error(
            Raw{}.field(kId, "i").eos().field(kId, "c").field(5, "x").eos().eos().signature().b),
        E::unexpected_field);
    // caveat_location_without_vid
    EXPECT_EQ(
        decode_error(
            Raw{}.field(kId, "i").eos().field(kLoc, "l").field(kId, "c").eos().eos().signature().b),
        E::caveat_location_without_vid);
    // too_many_caveats
    Raw many;
    many.field(kId, "i").eos();
    for (std::size_t i = 0; i <= kMaxMacaroonCaveats; ++i) many.field(kId, "c").eos();
    EXPECT_EQ(decode_error(many.eos().signature().b), E::too_many_caveats);
    // missing_signature
    EXPECT_EQ(decode_error(Raw{}.field(kId, "i").eos().eos().b), E::missing_signature);
    // bad_signature_length
    EXPECT_EQ(decode_error(Raw{}.field(kId, "i").eos().eos().signature(31).b),
              E::bad_signature_length);
    EXPECT_EQ(decode_error(Raw{}.field(kId, "i").eos().eos().signature(33).b),
              E::bad_signature_length);
    EXPECT_EQ(decode_error(Raw{}.field(kId, "i").eos().eos().signature(0).b),
              E::bad_signature_length);
    // trailing_bytes
    EXPECT_EQ(decode_error(Raw{}.field(kId, "i").eos().eos().signature().raw({0}).b),
              E::trailing_bytes);
    // And the minimal valid macaroon for contrast.
    EXPECT_TRUE(decode_macaroon(Raw{}.field(kId, "i").eos().eos().signature().b));
}

// Base64: standard and URL-safe, padded or not, all decode; output is standard and padded.
TEST(MacaroonCodec, Base64Forms) {
    // A location chosen so the encoding contains both '+' and '/' in standard base64.
    Macaroon m;
    m.identifier = Bytes{0xfb, 0xff, 0xbf, 0x3e, 0x3f};
    m.signature.fill(0xfe);
    const Bytes bytes = encode_macaroon(m);
    ASSERT_NE(bytes.size() % 3, 0u);  // so there is padding to drop
    const std::string standard = encode_macaroon_base64(m);
    EXPECT_EQ(standard, base64_encode(bytes));
    EXPECT_EQ(standard.size() % 4, 0u);
    ASSERT_NE(standard.find('='), std::string::npos);
    ASSERT_NE(standard.find_first_of("+/"), std::string::npos);

    std::string unpadded = standard;
    while (unpadded.back() == '=') unpadded.pop_back();
    std::string url = base64url_encode(bytes);
    std::string url_padded = url + std::string(standard.size() - url.size(), '=');
    for (const std::string& text : {standard, unpadded, url, url_padded}) {
        auto back = decode_macaroon_base64(text);
        ASSERT_TRUE(back) << text;
        EXPECT_EQ(*back, m);
    }

    using E = MacaroonError;
    const auto b64_error = [](std::string_view text) {
        auto r = decode_macaroon_base64(text);
        EXPECT_FALSE(r) << text;
        return r ? E::bad_credential : r.error();
    };
    // Mixed alphabets, a stray character, a bad length, padding in the middle, bad pad bits.
    std::string mixed = standard;
    mixed[mixed.find_first_of("+/")] = '-';
    std::string mixed2 = url;
    mixed2[mixed2.find_first_of("-_")] = '+';
    EXPECT_EQ(b64_error(mixed), E::bad_base64);
    EXPECT_EQ(b64_error(mixed2), E::bad_base64);
    EXPECT_EQ(b64_error(standard.substr(0, 4) + "!" + standard.substr(5)), E::bad_base64);
    EXPECT_EQ(b64_error(unpadded.substr(0, 4 * (unpadded.size() / 4)) + "A"), E::bad_base64);
    EXPECT_EQ(b64_error("AgE=" + standard), E::bad_base64);
    EXPECT_EQ(b64_error(standard + " "), E::bad_base64);
    EXPECT_EQ(b64_error("AB=="), E::bad_base64);  // non-zero pad bits
    EXPECT_EQ(b64_error(""), E::truncated);
    EXPECT_EQ(b64_error(std::string(kMaxMacaroonBase64Chars + 1, 'A')), E::too_large);
    // Valid base64 of an invalid macaroon gives the codec's error.
    EXPECT_EQ(b64_error(base64_encode(Raw{}.field(kId, "i").eos().eos().b)), E::missing_signature);
}

// ---- L402 identifier ----

// version 0 (big-endian) || payment hash || token id, 66 bytes; anything else is refused.
TEST(L402Identifier, LayoutAndRefusals) {
    L402Identifier id;
    for (std::size_t i = 0; i < 32; ++i) {
        id.payment_hash[i] = static_cast<std::uint8_t>(i);
        id.token_id[i] = static_cast<std::uint8_t>(0x80 + i);
    }
    const Bytes bytes = encode_l402_identifier(id);
    ASSERT_EQ(bytes.size(), 66u);
    EXPECT_EQ(bytes[0], 0);
    EXPECT_EQ(bytes[1], 0);
    EXPECT_EQ(bytes[2], 0);
    EXPECT_EQ(bytes[33], 31);
    EXPECT_EQ(bytes[34], 0x80);
    EXPECT_EQ(bytes[65], 0x9f);
    auto back = decode_l402_identifier(bytes);
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, id);

    for (const std::size_t size : {std::size_t{0}, std::size_t{65}, std::size_t{67}}) {
        Bytes b = bytes;
        b.resize(size);
        auto r = decode_l402_identifier(b);
        ASSERT_FALSE(r) << size;
        EXPECT_EQ(r.error(), MacaroonError::bad_identifier);
    }
    for (const std::size_t i : {std::size_t{0}, std::size_t{1}}) {
        Bytes b = bytes;
        b[i] = 1;
        auto r = decode_l402_identifier(b);
        ASSERT_FALSE(r) << i;
        EXPECT_EQ(r.error(), MacaroonError::bad_identifier);
    }
    EXPECT_NE(random_token_id(), random_token_id());
    // Ids are drawn in batches per thread: distinct across batches and across threads.
    std::set<TokenId> seen;
    for (int i = 0; i < 100; ++i) seen.insert(random_token_id());
    std::thread other([&seen] {
        for (int i = 0; i < 100; ++i) seen.insert(random_token_id());
    });
    other.join();
    EXPECT_EQ(seen.size(), 200u);
}

// ---- Grant caveats ----

Macaroon grant_with(const std::vector<std::string>& caveats) {
    Macaroon m = mint_macaroon(kRootKey, as_bytes("id"));
    for (const std::string& c : caveats) add_first_party_caveat(m, c);
    return m;
}

MacaroonError grant_error(const std::vector<std::string>& caveats, std::int64_t now = 10) {
    auto r = verify_grant(grant_with(caveats), kRootKey, {kFileId, now});
    EXPECT_FALSE(r);
    return r ? MacaroonError::bad_credential : r.error();
}

// A grant verifies for its file until (not including) its expiry and reports its caveats.
TEST(GrantCaveats, RoundTripAndExpiry) {
    Macaroon m = mint_macaroon(kRootKey, as_bytes("id"));
    const GrantCaveats grant{kFileId, 7, 1000};
    add_grant_caveats(m, grant);
    ASSERT_EQ(m.caveats.size(), 3u);
    EXPECT_EQ(as_chars(m.caveats[0].identifier), "file_id = " + kFileId);
    EXPECT_EQ(as_chars(m.caveats[1].identifier), "payer = 7");
    EXPECT_EQ(as_chars(m.caveats[2].identifier), "expires = 1000");

    auto r = verify_grant(m, kRootKey, {kFileId, 999});
    ASSERT_TRUE(r) << macaroon_error_name(r.error());
    EXPECT_EQ(*r, grant);
    r = verify_grant(m, kRootKey, {kFileId, 1000});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), MacaroonError::expired);
    r = verify_grant(m, kRootKey, {"BBBBBBBBBBBBBBBBBBBBBA", 0});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), MacaroonError::wrong_file);
    Bytes other_key = kRootKey;
    other_key[0] ^= 1;
    r = verify_grant(m, other_key, {kFileId, 0});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), MacaroonError::signature_mismatch);
}

// Fail closed: malformed, unknown, repeated or missing caveats refuse a correctly signed
// macaroon, and take precedence over wrong_file and expired.
TEST(GrantCaveats, FailClosed) {
    using E = MacaroonError;
    const std::string file = "file_id = " + kFileId;
    const std::string payer = "payer = 1";
    const std::string expires = "expires = 100";
    EXPECT_EQ(grant_error({file, payer, expires, "bandwidth = 5"}), E::unknown_caveat);
    EXPECT_EQ(grant_error({file, payer, expires, "bandwidth = 5"}, 1000), E::unknown_caveat);
    EXPECT_EQ(grant_error({file, payer, expires, file}), E::duplicate_caveat);
    EXPECT_EQ(grant_error({file, payer, expires, "payer = 2"}), E::duplicate_caveat);
    EXPECT_EQ(grant_error({file, payer, expires, "expires = 50"}), E::duplicate_caveat);
    EXPECT_EQ(grant_error({payer, expires}), E::missing_caveat);
    EXPECT_EQ(grant_error({file, expires}), E::missing_caveat);
    EXPECT_EQ(grant_error({file, payer}), E::missing_caveat);
    EXPECT_EQ(grant_error({}), E::missing_caveat);
    for (const std::string& bad : std::vector<std::string>{
             "file_id=" + kFileId, "file_id  = " + kFileId, "File_id = " + kFileId,
             "file_id = " + kFileId + " x", "file_id = short", "file_id = ", " = x", "payer = 0",
             "payer = 007", "payer = -1", "payer = +1", "payer = 1.0",
             "payer = 9223372036854775808", "expires = 99999999999999999999", "expires = 1e9",
             "expires = 0x10", "time < 2030"}) {
        // First, so that the duplicate check of its key does not answer instead.
        EXPECT_EQ(grant_error({bad, file, payer, expires}), E::bad_caveat) << bad;
    }
    // The largest values are accepted.
    auto r = verify_grant(
        grant_with({file, "payer = 9223372036854775807", "expires = 9223372036854775807"}),
        kRootKey, {kFileId, 0});
    ASSERT_TRUE(r) << macaroon_error_name(r.error());
    EXPECT_EQ(r->payer_account_id, INT64_MAX);
    // wrong_file comes before expired.
    auto w = verify_grant(grant_with({file, payer, expires}), kRootKey,
                          {"BBBBBBBBBBBBBBBBBBBBBA", 1000});
    ASSERT_FALSE(w);
    EXPECT_EQ(w.error(), E::wrong_file);
}

// ---- L402 credential ----

struct L402Fixture {
    Preimage preimage{};
    L402Identifier id;
    Macaroon macaroon;
    L402Fixture() {
        preimage.fill(0xab);
        id = {sha256(preimage), random_token_id()};
        macaroon = mint_macaroon(kRootKey, encode_l402_identifier(id), "satload.test");
        add_grant_caveats(macaroon, {kFileId, 3, 500});
    }
    [[nodiscard]] std::string preimage_hex() const { return hex_encode(preimage); }
    [[nodiscard]] std::string header(std::string_view scheme = "L402") const {
        return std::string(scheme) + " " + encode_macaroon_base64(macaroon) + ":" + preimage_hex();
    }
};

// Good headers: both scheme names in any case, extra spaces, URL-safe unpadded macaroons.
TEST(L402Header, Accepted) {
    const L402Fixture f;
    const std::string b64 = encode_macaroon_base64(f.macaroon);
    const std::string url = base64url_encode(encode_macaroon(f.macaroon));
    for (const std::string& h :
         {f.header(), f.header("LSAT"), f.header("l402"), f.header("lsat"),
          "L402   " + b64 + ":" + f.preimage_hex(), " \tL402 " + b64 + ":" + f.preimage_hex() + " ",
          "L402 " + url + ":" + f.preimage_hex()}) {
        auto c = parse_l402_authorization(h);
        ASSERT_TRUE(c) << h << ": " << macaroon_error_name(c.error());
        EXPECT_EQ(c->macaroon, f.macaroon);
        EXPECT_EQ(c->preimage, f.preimage);
        auto g = verify_l402(*c, kRootKey, {kFileId, 499});
        ASSERT_TRUE(g) << macaroon_error_name(g.error());
        EXPECT_EQ(g->identifier, f.id);
        EXPECT_EQ(g->caveats, (GrantCaveats{kFileId, 3, 500}));
    }
}

// Malformed headers are refused with named errors.
TEST(L402Header, Refused) {
    using E = MacaroonError;
    const L402Fixture f;
    const std::string b64 = encode_macaroon_base64(f.macaroon);
    const std::string pre = f.preimage_hex();
    const auto err = [](std::string_view h) {
        auto r = parse_l402_authorization(h);
        EXPECT_FALSE(r) << h;
        return r ? E::caveat_rejected : r.error();
    };
    EXPECT_EQ(err("Bearer abc"), E::not_l402);
    EXPECT_EQ(err("Basic " + b64 + ":" + pre), E::not_l402);
    EXPECT_EQ(err("L402x " + b64 + ":" + pre), E::not_l402);
    EXPECT_EQ(err("L402:" + b64 + ":" + pre), E::not_l402);
    EXPECT_EQ(err(""), E::not_l402);
    EXPECT_EQ(err("L402"), E::bad_credential);
    EXPECT_EQ(err("L402   "), E::bad_credential);
    EXPECT_EQ(err("L402 " + b64), E::bad_credential);
    EXPECT_EQ(err("L402 " + b64 + pre), E::bad_credential);
    EXPECT_EQ(err("L402 :" + pre), E::bad_credential);
    EXPECT_EQ(err("L402 " + b64 + ":" + pre + ":" + pre), E::bad_credential);
    EXPECT_EQ(err("L402 " + b64 + "," + b64 + ":" + pre), E::bad_base64);
    EXPECT_EQ(err("L402 " + b64 + ":"), E::bad_preimage);
    EXPECT_EQ(err("L402 " + b64 + ":" + pre.substr(1)), E::bad_preimage);
    EXPECT_EQ(err("L402 " + b64 + ":" + pre + "0"), E::bad_preimage);
    std::string upper = pre;
    std::transform(upper.begin(), upper.end(), upper.begin(), [](char c) {
        return (c >= 'a' && c <= 'f') ? static_cast<char>(c - 'a' + 'A') : c;
    });
    ASSERT_NE(upper, pre);
    EXPECT_EQ(err("L402 " + b64 + ":" + upper), E::bad_preimage);
    EXPECT_EQ(err("L402 " + b64 + ":" + pre.substr(0, 63) + "g"), E::bad_preimage);
    EXPECT_EQ(err("L402 " + b64 + " :" + pre), E::bad_base64);
    EXPECT_EQ(err("L402 " + b64.substr(0, b64.size() - 8) + ":" + pre), E::truncated);
    EXPECT_EQ(err("L402 " + std::string(kMaxL402HeaderChars, 'A')), E::too_large);
}

// A parsed credential is refused by verify_l402 for a wrong preimage, a foreign identifier,
// a tampered macaroon, another root key, another file and after expiry.
TEST(L402Header, VerifyRefusals) {
    using E = MacaroonError;
    const L402Fixture f;
    const auto verr = [](const L402Credential& c, const GrantCheck& check, ByteSpan key) {
        auto r = verify_l402(c, key, check);
        EXPECT_FALSE(r);
        return r ? E::caveat_rejected : r.error();
    };
    L402Credential c{f.macaroon, f.preimage};
    c.preimage[0] ^= 1;
    EXPECT_EQ(verr(c, {kFileId, 0}, kRootKey), E::preimage_mismatch);

    Macaroon foreign = mint_macaroon(kRootKey, as_bytes("not an L402 identifier"));
    add_grant_caveats(foreign, {kFileId, 3, 500});
    EXPECT_EQ(verr({foreign, f.preimage}, {kFileId, 0}, kRootKey), E::bad_identifier);

    Macaroon tampered = f.macaroon;
    tampered.caveats[2].identifier = bytes_of("expires = 900");
    EXPECT_EQ(verr({tampered, f.preimage}, {kFileId, 600}, kRootKey), E::signature_mismatch);

    Bytes other_key = kRootKey;
    other_key[5] ^= 1;
    EXPECT_EQ(verr({f.macaroon, f.preimage}, {kFileId, 0}, other_key), E::signature_mismatch);
    EXPECT_EQ(verr({f.macaroon, f.preimage}, {"BBBBBBBBBBBBBBBBBBBBBA", 0}, kRootKey),
              E::wrong_file);
    EXPECT_EQ(verr({f.macaroon, f.preimage}, {kFileId, 500}, kRootKey), E::expired);
}

// The WWW-Authenticate challenge carries the macaroon in standard base64 and the invoice.
TEST(L402Header, Challenge) {
    const L402Fixture f;
    const std::string challenge = format_l402_challenge(f.macaroon, "lnbcrt1invoice");
    const std::string prefix = "L402 macaroon=\"";
    ASSERT_EQ(challenge.rfind(prefix, 0), 0u);
    const std::size_t end = challenge.find('"', prefix.size());
    ASSERT_NE(end, std::string::npos);
    auto m = decode_macaroon_base64(challenge.substr(prefix.size(), end - prefix.size()));
    ASSERT_TRUE(m);
    EXPECT_EQ(*m, f.macaroon);
    EXPECT_EQ(challenge.substr(end), "\", invoice=\"lnbcrt1invoice\"");
}

// Every error has a distinct, stable name.
TEST(Macaroon, ErrorNamesDistinct) {
    std::vector<std::string_view> names;
    for (int i = 0; i <= static_cast<int>(MacaroonError::preimage_mismatch); ++i) {
        names.push_back(macaroon_error_name(static_cast<MacaroonError>(i)));
        EXPECT_NE(names.back(), "unknown") << i;
    }
    std::sort(names.begin(), names.end());
    EXPECT_EQ(std::adjacent_find(names.begin(), names.end()), names.end());
    EXPECT_EQ(macaroon_error_name(MacaroonError::expired), "expired");
}

}  // namespace
}  // namespace satload::crypto
