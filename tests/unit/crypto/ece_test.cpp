// Pins down RFC 8188 aes128gcm: the RFC's own examples, the header codec and its limits, the
// layout arithmetic, round trips over record boundaries, random access to single records,
// and one distinct error for each way a body can be wrong.
#include "crypto/ece.h"

#include <gtest/gtest.h>

#include "crypto/ece_test_util.h"

namespace satload::crypto::ece {
namespace {

using namespace testing;  // NOLINT: test helpers only

// RFC 8188 section 3.1, one record, rs 4096, no key id.
constexpr std::string_view kEx1Ikm = "yqdlZ-tYemfogSmv7Ws5PQ";
constexpr std::string_view kEx1Salt = "I1BsxtFttlv3u_Oo94xnmw";
constexpr std::string_view kEx1Body =
    "I1BsxtFttlv3u_Oo94xnmwAAEAAA-NAVub2qFgBEuQKRapoZu-IxkIva3MEB1PD-ly8Thjg";
// RFC 8188 section 3.2, two records, rs 25, key id "a1", the first record padded by one byte.
constexpr std::string_view kEx2Ikm = "BO3ZVPxUlnLORbVGMpbT1Q";
constexpr std::string_view kEx2Body =
    "uNCkWiNYzKTnBN9ji3-qWAAAABkCYTHOG8chz_gnvgOqdGYovxyjuqRyJFjEDyoF"
    "1Fvkj6hQPdPHI51OEUKEpgz3SsLWIqS_uA";

Key test_key(std::uint8_t seed = 1) {
    Key k{};
    for (std::size_t i = 0; i < k.size(); ++i) k[i] = static_cast<std::uint8_t>(seed * 17 + i);
    return k;
}

Header test_header(std::uint32_t record_size, std::string_view key_id = "") {
    Header h;
    for (std::size_t i = 0; i < h.salt.size(); ++i) h.salt[i] = static_cast<std::uint8_t>(0xa0 + i);
    h.record_size = record_size;
    h.key_id.assign(key_id.begin(), key_id.end());
    return h;
}

// Expects `r` to have failed with `code` at `record`.
template <class T>
void expect_failure(const EceResult<T>& r, Error code, std::uint64_t record) {
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, code) << r.error().message();
    EXPECT_EQ(r.error().record, record) << r.error().message();
}

// --- RFC 8188 examples ---------------------------------------------------------------------

// The key and nonce derivation of section 3.1 gives the CEK and NONCE printed in the RFC.
TEST(EceRfc8188, Example31KeyDerivation) {
    std::array<std::uint8_t, 16> cek{};
    std::array<std::uint8_t, 12> nonce{};
    hkdf_sha256(b64u(kEx1Ikm), b64u(kEx1Salt),
                as_bytes(std::string_view("Content-Encoding: aes128gcm\0", 28)), cek);
    hkdf_sha256(b64u(kEx1Ikm), b64u(kEx1Salt),
                as_bytes(std::string_view("Content-Encoding: nonce\0", 24)), nonce);
    EXPECT_EQ(base64url_encode(cek), "_wniytB-ofscZDh4tbSjHw");
    EXPECT_EQ(base64url_encode(nonce), "Bcs8gkIRKLI8GeI8");
}

// Section 3.1 decrypts to its plaintext, and encrypting the plaintext with the example's
// salt and record size reproduces the example byte for byte.
TEST(EceRfc8188, Example31DecryptsAndEncryptsExactly) {
    const Key ikm = key_from(b64u(kEx1Ikm));
    const auto plain = decrypt(ikm, b64u(kEx1Body));
    ASSERT_TRUE(plain) << plain.error().message();
    EXPECT_EQ(as_chars(*plain), "I am the walrus");

    Header h;
    h.salt = salt_from(b64u(kEx1Salt));
    h.record_size = 4096;
    EXPECT_EQ(base64url_encode(encrypt(ikm, as_bytes("I am the walrus"), h)), kEx1Body);
}

// Section 3.2 (two records, key id, a padded first record) decrypts whole and record by
// record; the padding is stripped.
TEST(EceRfc8188, Example32DecryptsWithPaddingAndKeyId) {
    const Key ikm = key_from(b64u(kEx2Ikm));
    const Bytes body = b64u(kEx2Body);
    const auto plain = decrypt(ikm, body);
    ASSERT_TRUE(plain) << plain.error().message();
    EXPECT_EQ(as_chars(*plain), "I am the walrus");

    const auto header = parse_header(body);
    ASSERT_TRUE(header);
    EXPECT_EQ(header->record_size, 25u);
    EXPECT_EQ(as_chars(header->key_id), "a1");
    Decoder d(ikm, *header);
    Bytes out(25 - 17);
    const ByteSpan records = ByteSpan(body).subspan(header->size());
    ASSERT_EQ(records.size(), 50u);
    auto r0 = d.decrypt_record(0, records.first(25), out);
    ASSERT_TRUE(r0);
    EXPECT_FALSE(r0->last);
    EXPECT_EQ(as_chars(ByteSpan(out).first(r0->plaintext_bytes)), "I am th");
    auto r1 = d.decrypt_record(1, records.subspan(25), out);
    ASSERT_TRUE(r1);
    EXPECT_TRUE(r1->last);
    EXPECT_EQ(as_chars(ByteSpan(out).first(r1->plaintext_bytes)), "e walrus");
}

// --- header --------------------------------------------------------------------------------

// A header with a key id survives serialize/parse, and parsing ignores what follows it.
TEST(EceHeader, RoundTrip) {
    const Header h = test_header(4096, "key-7");
    Bytes bytes = serialize_header(h);
    EXPECT_EQ(bytes.size(), h.size());
    EXPECT_EQ(bytes[16], 0x00);
    EXPECT_EQ(bytes[18], 0x10);
    EXPECT_EQ(bytes[20], 5);
    bytes.push_back(0x99);
    const auto back = parse_header(bytes);
    ASSERT_TRUE(back);
    EXPECT_EQ(back->salt, h.salt);
    EXPECT_EQ(back->record_size, 4096u);
    EXPECT_EQ(back->key_id, h.key_id);
}

// The record size limits hold at and past both edges; short headers are refused.
TEST(EceHeader, LimitsAndShortInput) {
    auto with_rs = [](std::uint32_t rs) {
        Bytes b(kHeaderBaseBytes, 0);
        for (int i = 0; i < 4; ++i) b[16 + static_cast<std::size_t>(i)] =
            static_cast<std::uint8_t>(rs >> (24 - 8 * i));
        return b;
    };
    EXPECT_TRUE(parse_header(with_rs(kMinRecordSize)));
    EXPECT_TRUE(parse_header(with_rs(kMaxRecordSize)));
    expect_failure(parse_header(with_rs(kMinRecordSize - 1)), Error::malformed_header, 0);
    expect_failure(parse_header(with_rs(0)), Error::malformed_header, 0);
    expect_failure(parse_header(with_rs(kMaxRecordSize + 1)), Error::malformed_header, 0);
    expect_failure(parse_header(with_rs(0xffffffffu)), Error::malformed_header, 0);

    const Bytes full = serialize_header(test_header(4096, "ab"));
    for (std::size_t n = 0; n < full.size(); ++n) {
        expect_failure(parse_header(ByteSpan(full).first(n)), Error::malformed_header, 0);
    }
    EXPECT_TRUE(parse_header(full));
}

// --- layout --------------------------------------------------------------------------------

// Concrete sizes: an empty file is one delimiter-only record; an exact multiple gets one.
TEST(EceLayout, ConcreteSizes) {
    const Layout l;  // default: 21-byte header, 64 KiB records
    EXPECT_EQ(l.plaintext_per_record(), 65536u - 17u);
    EXPECT_EQ(l.record_count(0), 1u);
    EXPECT_EQ(l.ciphertext_size(0), 21u + 17u);
    EXPECT_EQ(l.record_count(65519), 2u);
    EXPECT_EQ(l.ciphertext_size(65519), 21u + 65536u + 17u);
    EXPECT_EQ(l.ciphertext_size(65518), 21u + 65535u);
    EXPECT_EQ(l.record_offset(0), 21u);
    EXPECT_EQ(l.record_offset(3), 21u + 3u * 65536u);
    EXPECT_EQ(l.record_ciphertext_bytes(0, 65519), 65536u);
    EXPECT_EQ(l.record_ciphertext_bytes(1, 65519), 17u);
    EXPECT_EQ(l.record_ciphertext_bytes(0, 100), 117u);
    EXPECT_EQ(l.plaintext_size(21 + 65535), 65518u);
    EXPECT_EQ(l.plaintext_size(21 + 65536), std::nullopt);  // ours never ends on a full record
    EXPECT_EQ(l.plaintext_size(21 + 16), std::nullopt);
    EXPECT_EQ(l.plaintext_size(20), std::nullopt);
    const Layout with_id = Layout::of(test_header(4096, "abc"));
    EXPECT_EQ(with_id.header_bytes, 24u);
    EXPECT_EQ(with_id.record_size, 4096u);
}

// plaintext_size is the exact inverse of ciphertext_size, and nullopt for every size that
// ciphertext_size never produces (checked exhaustively over small record sizes).
TEST(EceLayout, PlaintextSizeIsExactInverse) {
    for (std::uint32_t rs : {18u, 19u, 20u, 33u, 64u}) {
        const Layout l{21 + 2, rs};
        const std::uint64_t covered = l.ciphertext_size(399);
        std::vector<int> hits(covered + 1, 0);
        for (std::uint64_t p = 0; p < 400; ++p) {
            const std::uint64_t c = l.ciphertext_size(p);
            ASSERT_EQ(l.plaintext_size(c), p) << "rs " << rs << " p " << p;
            hits[c] = 1;
            std::uint64_t sum = 0;
            for (std::uint64_t i = 0; i < l.record_count(p); ++i) {
                sum += l.record_ciphertext_bytes(i, p);
            }
            ASSERT_EQ(sum + l.header_bytes, c);
        }
        for (std::uint64_t c = 0; c <= covered; ++c) {
            EXPECT_EQ(l.plaintext_size(c).has_value(), hits[c] == 1) << "rs " << rs << " c " << c;
        }
    }
}

// --- round trips ---------------------------------------------------------------------------

// Every size around record boundaries round-trips; the ciphertext has the layout's size;
// exact multiples end with a 17-byte delimiter-only record.
TEST(EceRoundTrip, SizesAroundRecordBoundaries) {
    const Key ikm = test_key();
    for (std::uint32_t rs : {18u, 19u, 64u, 4096u, kDefaultRecordSize}) {
        const Header h = test_header(rs, rs == 64 ? "id" : "");
        const Layout layout = Layout::of(h);
        const std::size_t per = rs - 17;
        for (std::size_t size : {std::size_t{0}, std::size_t{1}, per - 1, per, per + 1, 2 * per,
                                 2 * per + 1, 3 * per - 1, 5 * per + 3}) {
            SCOPED_TRACE("rs " + std::to_string(rs) + " size " + std::to_string(size));
            const Bytes plain = pattern(size, static_cast<std::uint8_t>(rs));
            const Bytes body = encrypt(ikm, plain, h);
            ASSERT_EQ(body.size(), layout.ciphertext_size(size));
            EXPECT_EQ(layout.plaintext_size(body.size()), size);
            if (size % per == 0) {
                // The final record carries nothing but the last delimiter.
                const std::uint64_t last = layout.record_count(size) - 1;
                EXPECT_EQ(body.size() - layout.record_offset(last), 17u);
            }
            const auto back = decrypt(ikm, body);
            ASSERT_TRUE(back) << back.error().message();
            EXPECT_EQ(*back, plain);
        }
    }
}

// A large body round-trips (skipped under the sanitizer build, which sets SATLOAD_SMALL_TESTS).
TEST(EceRoundTrip, LargeBody) {
    if (small_tests()) GTEST_SKIP() << "SATLOAD_SMALL_TESTS set";
    const Bytes plain = pattern((24u << 20) + 5);
    const Header h = test_header(kDefaultRecordSize);
    const Bytes body = encrypt(test_key(), plain, h);
    EXPECT_EQ(body.size(), Layout::of(h).ciphertext_size(plain.size()));
    const auto back = decrypt(test_key(), body);
    ASSERT_TRUE(back) << back.error().message();
    EXPECT_TRUE(*back == plain);
}

// Each record of a body decrypts alone, in any order, with a fresh or a reused Decoder, at
// the offsets the layout gives: this is what ranged downloads rely on.
TEST(EceRandomAccess, EachRecordDecryptsAlone) {
    const Key ikm = test_key(3);
    const Header h = test_header(100, "xy");
    const Layout layout = Layout::of(h);
    const std::size_t per = layout.plaintext_per_record();
    const Bytes plain = pattern(7 * per + 42);
    const Bytes body = encrypt(ikm, plain, h);
    const std::uint64_t count = layout.record_count(plain.size());
    ASSERT_EQ(count, 8u);
    Decoder reused(ikm, h);
    for (std::uint64_t k = 0; k < count; ++k) {
        const std::uint64_t i = count - 1 - k;  // backwards: no hidden dependence on order
        const ByteSpan record = ByteSpan(body).subspan(
            layout.record_offset(i), layout.record_ciphertext_bytes(i, plain.size()));
        Bytes out(per);
        Decoder fresh(ikm, h);
        for (Decoder* d : {&fresh, &reused}) {
            auto r = d->decrypt_record(i, record, out);
            ASSERT_TRUE(r) << r.error().message();
            EXPECT_EQ(r->last, i == count - 1);
            const std::size_t expected = i == count - 1 ? 42 : per;
            ASSERT_EQ(r->plaintext_bytes, expected);
            EXPECT_TRUE(std::equal(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(expected),
                                   plain.begin() + static_cast<std::ptrdiff_t>(i * per)));
        }
    }
}

// The encoder is deterministic per (key, salt, index) and the index changes the nonce.
TEST(EceEncoder, NonceDependsOnRecordIndex) {
    const Header h = test_header(64);
    Encoder e(test_key(), h);
    const Bytes plain = pattern(e.plaintext_per_record());
    Bytes a(64), b(64), c(64);
    e.encrypt_record(5, plain, false, a);
    e.encrypt_record(5, plain, false, b);
    e.encrypt_record(6, plain, false, c);
    EXPECT_EQ(a, b);
    EXPECT_NE(a, c);
    // Record 2^32 + 5 differs from record 5: all 64 bits of the index reach the nonce.
    e.encrypt_record((std::uint64_t{1} << 32) + 5, plain, false, c);
    EXPECT_NE(a, c);
    Decoder d(test_key(), h);
    Bytes out(64 - 17);
    auto r = d.decrypt_record((std::uint64_t{1} << 32) + 5, c, out);
    ASSERT_TRUE(r);
    EXPECT_EQ(out, plain);
}

// Encryption and decryption work in place (output at the input's address), which lets the
// client transform a download or upload buffer without a second one.
TEST(EceRandomAccess, InPlaceEncryptAndDecrypt) {
    const Header h = test_header(64);
    Encoder e(test_key(), h);
    Decoder d(test_key(), h);
    for (bool last : {false, true}) {
        const Bytes plain = pattern(last ? 20 : 47, 4);
        Bytes expected(64);
        const std::size_t n = e.encrypt_record(3, plain, last, expected);
        expected.resize(n);
        Bytes buf(64);
        std::copy(plain.begin(), plain.end(), buf.begin());
        ASSERT_EQ(e.encrypt_record(3, ByteSpan(buf).first(plain.size()), last, buf), n);
        buf.resize(n);
        EXPECT_EQ(buf, expected);
        auto r = d.decrypt_record(3, buf, buf);
        ASSERT_TRUE(r) << r.error().message();
        EXPECT_EQ(r->last, last);
        EXPECT_EQ(Bytes(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(r->plaintext_bytes)),
                  plain);
    }
}

// --- what other encoders write -------------------------------------------------------------

// An exact multiple written the npm http_ece way (the last record full, carrying the last
// delimiter, no delimiter-only record) decodes, and bytes after it are trailing data.
TEST(EceCompat, FullLastRecordFromOtherEncoders) {
    const Key ikm = test_key();
    const Header h = test_header(40);
    Encoder e(ikm, h);
    const std::size_t per = e.plaintext_per_record();
    const Bytes plain = pattern(2 * per);
    Bytes body = serialize_header(h);
    Bytes rec(40);
    e.encrypt_record(0, ByteSpan(plain).first(per), false, rec);
    body.insert(body.end(), rec.begin(), rec.end());
    e.encrypt_record(1, ByteSpan(plain).subspan(per), true, rec);
    body.insert(body.end(), rec.begin(), rec.end());
    const auto back = decrypt(ikm, body);
    ASSERT_TRUE(back) << back.error().message();
    EXPECT_EQ(*back, plain);

    body.push_back(0);
    expect_failure(decrypt(ikm, body), Error::trailing_data, 2);
    // A whole extra valid-looking record after the last one is trailing data too.
    body.pop_back();
    e.encrypt_record(2, ByteSpan(plain).first(3), true, rec);
    body.insert(body.end(), rec.begin(), rec.begin() + 20);
    expect_failure(decrypt(ikm, body), Error::trailing_data, 2);
}

// Zero padding after the delimiter (allowed by RFC 8188, never written by us) is accepted
// and stripped, in a middle record and in the last one.
TEST(EceCompat, PaddingIsAccepted) {
    const Key ikm = test_key(9);
    const Header h = test_header(30);  // 13 plaintext bytes per record, 14 with delimiter
    Bytes r0 = concat({as_bytes("abcde"), Bytes{kDelimiterMore}, Bytes(8, 0)});
    Bytes r1 = concat({as_bytes("fg"), Bytes{kDelimiterLast}, Bytes(3, 0)});
    ASSERT_EQ(r0.size(), 14u);
    const Bytes body = concat({serialize_header(h), reference_record(ikm, h.salt, 0, r0),
                               reference_record(ikm, h.salt, 1, r1)});
    const auto back = decrypt(ikm, body);
    ASSERT_TRUE(back) << back.error().message();
    EXPECT_EQ(as_chars(*back), "abcdefg");
}

// --- errors --------------------------------------------------------------------------------

// A flipped bit anywhere in record i (data or tag) fails authentication of record i.
TEST(EceErrors, FlippedBitNamesTheRecord) {
    const Key ikm = test_key();
    const Header h = test_header(50);
    const Layout layout = Layout::of(h);
    const Bytes plain = pattern(4 * layout.plaintext_per_record() + 10);
    const Bytes body = encrypt(ikm, plain, h);
    for (std::uint64_t i = 0; i < layout.record_count(plain.size()); ++i) {
        for (std::uint64_t where : {std::uint64_t{0}, std::uint64_t{20}}) {
            Bytes bad = body;
            bad[layout.record_offset(i) + where] ^= 0x04;
            expect_failure(decrypt(ikm, bad), Error::authentication_failed, i);
        }
        Bytes bad = body;
        const std::uint64_t end = i + 1 < layout.record_count(plain.size())
                                      ? layout.record_offset(i + 1)
                                      : bad.size();
        bad[end - 1] ^= 0x80;  // last tag byte
        expect_failure(decrypt(ikm, bad), Error::authentication_failed, i);
    }
}

// A wrong key, a changed salt, and swapped records all fail authentication, naming the
// first record that does not verify.
TEST(EceErrors, WrongKeySaltAndReordering) {
    const Key ikm = test_key();
    const Header h = test_header(50);
    const Layout layout = Layout::of(h);
    const Bytes plain = pattern(3 * layout.plaintext_per_record() + 10);
    const Bytes body = encrypt(ikm, plain, h);
    expect_failure(decrypt(test_key(2), body), Error::authentication_failed, 0);

    Bytes salted = body;
    salted[3] ^= 1;
    expect_failure(decrypt(ikm, salted), Error::authentication_failed, 0);

    Bytes swapped = body;
    std::swap_ranges(swapped.begin() + 21 + 50, swapped.begin() + 21 + 100,
                     swapped.begin() + 21 + 100);
    expect_failure(decrypt(ikm, swapped), Error::authentication_failed, 1);
    swapped = body;
    std::swap_ranges(swapped.begin() + 21, swapped.begin() + 21 + 50, swapped.begin() + 21 + 50);
    expect_failure(decrypt(ikm, swapped), Error::authentication_failed, 0);
}

// Bodies that end early: the last record removed (so the body ends on a full record whose
// delimiter says more follow), a header with no record, a last record cut below the
// minimum record size.
TEST(EceErrors, TruncatedBodies) {
    const Key ikm = test_key();
    const Header h = test_header(50);
    const Layout layout = Layout::of(h);
    const Bytes plain = pattern(3 * layout.plaintext_per_record() + 10);
    const Bytes body = encrypt(ikm, plain, h);
    const ByteSpan all(body);
    expect_failure(decrypt(ikm, all.first(layout.record_offset(3))), Error::truncated, 3);
    expect_failure(decrypt(ikm, all.first(layout.record_offset(1))), Error::truncated, 1);
    expect_failure(decrypt(ikm, all.first(21)), Error::truncated, 0);
    for (std::size_t keep = 1; keep < 17; ++keep) {
        expect_failure(decrypt(ikm, all.first(layout.record_offset(3) + keep)), Error::truncated, 3);
    }
    // A cut that leaves a record-sized remnant cannot be told from corruption: the remnant
    // fails authentication.
    expect_failure(decrypt(ikm, all.first(body.size() - 1)), Error::authentication_failed, 3);

    // An exact multiple whose delimiter-only record was dropped is truncated too.
    const Bytes exact = encrypt(ikm, pattern(2 * layout.plaintext_per_record()), h);
    expect_failure(decrypt(ikm, ByteSpan(exact).first(exact.size() - 17)), Error::truncated, 2);
}

// A short final record whose delimiter says more follow is a cut body, not a valid end.
TEST(EceErrors, ShortRecordWithMoreDelimiterIsTruncated) {
    const Key ikm = test_key();
    const Header h = test_header(50);
    const Bytes rec = reference_record(ikm, h.salt, 0, concat({as_bytes("hi"), Bytes{1}}));
    expect_failure(decrypt(ikm, concat({serialize_header(h), rec})), Error::truncated, 0);
    Decoder d(ikm, h);
    Bytes out(33);
    expect_failure(d.decrypt_record(0, rec, out), Error::truncated, 0);
}

// A record that authenticates but has no delimiter (all zeros), or a delimiter other than
// 1 or 2 (with or without padding after it), is bad padding.
TEST(EceErrors, BadDelimiterOrPadding) {
    const Key ikm = test_key();
    const Header h = test_header(30);
    const Bytes hdr = serialize_header(h);
    const Bytes cases[] = {
        Bytes(5, 0),                                  // no delimiter at all
        Bytes{},                                      // an empty plaintext: 16-byte record
        concat({as_bytes("abc"), Bytes{3}}),          // delimiter 3
        concat({as_bytes("abc"), Bytes{0xff, 0, 0}}), // delimiter 0xff, then padding
        concat({as_bytes("abc"), Bytes{2, 0, 7}}),    // non-zero byte after the delimiter
    };
    for (std::size_t k = 0; k < std::size(cases); ++k) {
        SCOPED_TRACE(k);
        const Bytes rec = reference_record(ikm, h.salt, 0, cases[k]);
        if (rec.size() < 17) {
            expect_failure(decrypt(ikm, concat({hdr, rec})), Error::truncated, 0);
            continue;
        }
        // The last case's final byte 7 is taken as the delimiter: still bad padding.
        expect_failure(decrypt(ikm, concat({hdr, rec})), Error::bad_padding, 0);
    }
    // In a full middle record as well.
    const Bytes full_zero = reference_record(ikm, h.salt, 0, Bytes(14, 0));
    ASSERT_EQ(full_zero.size(), 30u);
    expect_failure(decrypt(ikm, concat({hdr, full_zero})), Error::bad_padding, 0);
}

// A body shorter than its header, or one whose header is out of range, is malformed.
TEST(EceErrors, MalformedHeader) {
    const Key ikm = test_key();
    const Bytes body = encrypt(ikm, pattern(10), test_header(64, "abcd"));
    for (std::size_t n : {0, 1, 20, 21, 24}) {
        expect_failure(decrypt(ikm, ByteSpan(body).first(n)), Error::malformed_header, 0);
    }
    Bytes bad_rs = body;
    bad_rs[19] = 17;
    bad_rs[18] = 0;
    expect_failure(decrypt(ikm, bad_rs), Error::malformed_header, 0);
    bad_rs[16] = 0x01;  // 16 MiB + 17: past kMaxRecordSize
    bad_rs[19] = 0x11;
    expect_failure(decrypt(ikm, bad_rs), Error::malformed_header, 0);
}

// decrypt_record refuses a record longer than the record size and one too short to hold a
// tag and delimiter; after a failed authentication `out` holds no plaintext.
TEST(EceErrors, DecryptRecordBoundsAndWipe) {
    const Key ikm = test_key();
    const Header h = test_header(64);
    Decoder d(ikm, h);
    Bytes out(47, 0xee);
    expect_failure(d.decrypt_record(0, Bytes(65, 0), out), Error::trailing_data, 0);
    expect_failure(d.decrypt_record(4, Bytes(16, 0), out), Error::truncated, 4);
    expect_failure(d.decrypt_record(4, Bytes{}, out), Error::truncated, 4);

    Encoder e(ikm, h);
    const Bytes plain = pattern(47, 1);
    Bytes rec(64);
    e.encrypt_record(0, plain, false, rec);
    expect_failure(d.decrypt_record(1, rec, out), Error::authentication_failed, 1);
    EXPECT_TRUE(std::all_of(out.begin(), out.end(), [](std::uint8_t v) { return v == 0; }));
    auto ok = d.decrypt_record(0, rec, out);
    ASSERT_TRUE(ok);
    EXPECT_EQ(out, plain);
}

// Every error has a one-line message that names its record where one applies.
TEST(EceErrors, MessagesNameTheRecord) {
    for (Error e : {Error::authentication_failed, Error::bad_padding, Error::truncated,
                    Error::trailing_data}) {
        const std::string m = Failure{e, 42}.message();
        EXPECT_NE(m.find("42"), std::string::npos) << m;
        EXPECT_EQ(m.find('\n'), std::string::npos);
    }
    EXPECT_FALSE((Failure{Error::malformed_header, 0}.message().empty()));
    EXPECT_NE((Failure{Error::truncated, 1}.message()), (Failure{Error::trailing_data, 1}.message()));
}

}  // namespace
}  // namespace satload::crypto::ece
