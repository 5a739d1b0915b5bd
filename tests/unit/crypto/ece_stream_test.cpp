// Pins down the incremental decoder: any split of a body into chunks gives the same
// plaintext and the same errors as the whole-buffer decoder, and failures are sticky.
#include <gtest/gtest.h>

#include <random>

#include "crypto/ece.h"
#include "crypto/ece_test_util.h"

namespace satload::crypto::ece {
namespace {

using namespace testing;  // NOLINT: test helpers only

Key stream_key() {
    Key k{};
    k.fill(0x42);
    return k;
}

Header stream_header(std::uint32_t record_size, std::string_view key_id) {
    Header h;
    h.salt.fill(0x17);
    h.record_size = record_size;
    h.key_id.assign(key_id.begin(), key_id.end());
    return h;
}

// Feeds `body` in chunks whose sizes come from `next_size`, then finishes.
template <class NextSize>
EceResult<Bytes> stream_decrypt(const Key& ikm, ByteSpan body, NextSize next_size) {
    StreamDecoder decoder(ikm);
    Bytes out = {0xaa};  // push appends: pre-existing content must survive
    while (!body.empty()) {
        const std::size_t n = std::min<std::size_t>(next_size(), body.size());
        if (auto r = decoder.push(body.first(n), out); !r) return fail(r.error());
        body = body.subspan(n);
    }
    if (auto r = decoder.finish(out); !r) return fail(r.error());
    EXPECT_EQ(out.front(), 0xaa);
    out.erase(out.begin());
    return out;
}

// Random chunk sizes (including empty chunks, chunks smaller than the header and chunks
// spanning several records) reproduce the plaintext for many sizes and record sizes. The
// seed is printed so a failure can be replayed.
TEST(EceStream, RandomChunksReproducePlaintext) {
    const std::uint32_t seed = std::random_device{}();
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937 rng(seed);
    const Key ikm = stream_key();
    for (std::uint32_t rs : {18u, 40u, 1000u, kDefaultRecordSize}) {
        const Header h = stream_header(rs, rs == 40 ? "kid" : "");
        const std::size_t per = rs - 17;
        for (std::size_t size : {std::size_t{0}, std::size_t{1}, per, per + 1, 3 * per, 4 * per + 7}) {
            SCOPED_TRACE("rs " + std::to_string(rs) + " size " + std::to_string(size));
            const Bytes plain = pattern(size, 5);
            const Bytes body = encrypt(ikm, plain, h);
            for (int round = 0; round < 5; ++round) {
                std::uniform_int_distribution<std::size_t> dist(0, 2 * rs + 3);
                auto r = stream_decrypt(ikm, body, [&] { return dist(rng); });
                ASSERT_TRUE(r) << r.error().message();
                EXPECT_TRUE(*r == plain);
            }
        }
    }
}

// One byte at a time, the header (with a key id) and every record reassemble correctly.
TEST(EceStream, OneByteAtATime) {
    const Key ikm = stream_key();
    const Header h = stream_header(50, "a-key-id");
    const Bytes plain = pattern(200, 9);
    auto r = stream_decrypt(ikm, encrypt(ikm, plain, h), [] { return std::size_t{1}; });
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(*r, plain);
}

// A bad record is reported by push() as soon as it is complete, before finish().
TEST(EceStream, AuthenticationFailureIsReportedByPush) {
    const Key ikm = stream_key();
    const Header h = stream_header(50, "");
    Bytes body = encrypt(ikm, pattern(200), h);
    body[21 + 50 + 3] ^= 1;  // record 1
    StreamDecoder d(ikm);
    Bytes out;
    ASSERT_TRUE(d.push(ByteSpan(body).first(21 + 50), out));
    EXPECT_EQ(out.size(), 33u);  // record 0 delivered
    auto r = d.push(ByteSpan(body).subspan(21 + 50, 50), out);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Error::authentication_failed);
    EXPECT_EQ(r.error().record, 1u);
    EXPECT_EQ(out.size(), 33u);  // nothing from the bad record
}

// Failures are sticky: later pushes and finish() return the first error.
TEST(EceStream, FailureIsSticky) {
    const Key ikm = stream_key();
    Bytes body = encrypt(ikm, pattern(200), stream_header(50, ""));
    body[21] ^= 1;
    StreamDecoder d(ikm);
    Bytes out;
    auto r = d.push(body, out);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Error::authentication_failed);
    auto again = d.push(ByteSpan(body).first(1), out);
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, Error::authentication_failed);
    auto fin = d.finish(out);
    ASSERT_FALSE(fin);
    EXPECT_EQ(fin.error().code, Error::authentication_failed);
    EXPECT_EQ(fin.error().record, 0u);
}

// The end-of-input errors: input ending inside the header, on a record boundary without a
// last record, and data pushed after the last record.
TEST(EceStream, EndOfInputErrors) {
    const Key ikm = stream_key();
    const Header h = stream_header(50, "id");
    const Bytes body = encrypt(ikm, pattern(66), h);  // 66 = 2 * 33: three records
    const std::size_t header_bytes = h.size();
    {
        StreamDecoder d(ikm);
        Bytes out;
        ASSERT_TRUE(d.push(ByteSpan(body).first(header_bytes - 1), out));
        auto r = d.finish(out);
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().code, Error::malformed_header);
    }
    {
        StreamDecoder d(ikm);
        Bytes out;
        ASSERT_TRUE(d.push(ByteSpan(body).first(header_bytes + 100), out));
        auto r = d.finish(out);
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().code, Error::truncated);
        EXPECT_EQ(r.error().record, 2u);
        EXPECT_EQ(out.size(), 66u);  // the records before the cut were delivered
    }
    {
        // The last record here is full-sized (as other encoders write exact multiples), so
        // the decoder knows the body is over the moment it decrypts it.
        Encoder e(ikm, h);
        Bytes full = serialize_header(h);
        Bytes rec(50);
        e.encrypt_record(0, pattern(33), true, rec);
        full.insert(full.end(), rec.begin(), rec.end());
        StreamDecoder d(ikm);
        Bytes out;
        ASSERT_TRUE(d.push(full, out));
        EXPECT_EQ(out, pattern(33));
        auto r = d.push(Bytes{0}, out);
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().code, Error::trailing_data);
        EXPECT_EQ(r.error().record, 1u);
    }
}

}  // namespace
}  // namespace satload::crypto::ece
