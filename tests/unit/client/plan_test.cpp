// Pins down how transfers are cut: upload parts cover the body exactly, start and end on
// record boundaries, are near-equal, and collapse to one for small files; download segments
// hold whole records. Also the ciphertext reader: any byte range equals the same slice of the
// whole-body encryption, so parts and resumed chunks are byte-identical to a one-shot upload.
#include "client/plan.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include "client/ciphertext_reader.h"
#include "client/test_util.h"
#include "crypto/keys.h"

namespace satload::client {
namespace {

namespace ece = crypto::ece;

void expect_cover(const std::vector<BodyRange>& parts, const ece::Layout& layout,
                  std::uint64_t plaintext) {
    ASSERT_FALSE(parts.empty());
    std::uint64_t at = 0, record = 0;
    for (const auto& p : parts) {
        EXPECT_EQ(p.begin_bytes, at);
        EXPECT_EQ(p.first_record, record);
        EXPECT_LT(p.begin_bytes, p.end_bytes);
        // Every boundary but the body's end is a record boundary.
        if (p.end_record < layout.record_count(plaintext)) {
            EXPECT_EQ(p.end_bytes, layout.record_offset(p.end_record));
        }
        at = p.end_bytes;
        record = p.end_record;
    }
    EXPECT_EQ(at, layout.ciphertext_size(plaintext));
    EXPECT_EQ(record, layout.record_count(plaintext));
}

// Large bodies get the requested number of parts, sizes within one record of each other.
TEST(PlanParts, SplitsOnRecordBoundariesIntoNearEqualParts) {
    const ece::Layout layout{ece::kHeaderBaseBytes, ece::kDefaultRecordSize};
    for (const std::uint64_t size : {1ull << 30, (1ull << 30) + 12345, 100ull << 20}) {
        const auto parts = plan_parts(layout, size, 4, kDefaultMinPartBytes);
        ASSERT_EQ(parts.size(), 4u) << size;
        expect_cover(parts, layout, size);
        std::uint64_t lo = UINT64_MAX, hi = 0;
        for (const auto& p : parts) {
            lo = std::min(lo, p.end_record - p.first_record);
            hi = std::max(hi, p.end_record - p.first_record);
        }
        EXPECT_LE(hi - lo, 1u);
    }
}

// Small files go up as one upload; medium ones in as many parts as fit the minimum size.
TEST(PlanParts, UsesFewerPartsForSmallFiles) {
    const ece::Layout layout{ece::kHeaderBaseBytes, ece::kDefaultRecordSize};
    EXPECT_EQ(plan_parts(layout, 0, 4, kDefaultMinPartBytes).size(), 1u);
    EXPECT_EQ(plan_parts(layout, 1, 4, kDefaultMinPartBytes).size(), 1u);
    EXPECT_EQ(plan_parts(layout, 31ull << 20, 4, kDefaultMinPartBytes).size(), 1u);
    EXPECT_EQ(plan_parts(layout, 40ull << 20, 4, kDefaultMinPartBytes).size(), 2u);
    EXPECT_EQ(plan_parts(layout, 40ull << 20, 1, kDefaultMinPartBytes).size(), 1u);
    // Never more parts than records.
    const ece::Layout tiny{ece::kHeaderBaseBytes, 100};
    const auto parts = plan_parts(tiny, 100, 16, 1);
    EXPECT_EQ(parts.size(), tiny.record_count(100));
    expect_cover(parts, tiny, 100);
    for (const std::uint64_t size : {0ull, 1ull, 82ull, 83ull, 84ull, 1000ull, 8300ull}) {
        for (unsigned n = 1; n <= 16; ++n) expect_cover(plan_parts(tiny, size, n, 50), tiny, size);
    }
}

// Segments are runs of whole records after the header, the last one possibly shorter.
TEST(PlanSegments, CoversTheRecordsInWholeRecords) {
    const ece::Layout layout{ece::kHeaderBaseBytes, 1000};
    const std::uint64_t size = 983 * 10 + 5;  // 11 records
    const auto segments = plan_segments(layout, size, 4);
    ASSERT_EQ(segments.size(), 3u);
    EXPECT_EQ(segments[0].begin_bytes, ece::kHeaderBaseBytes);
    EXPECT_EQ(segments[0].end_record, 4u);
    EXPECT_EQ(segments[2].first_record, 8u);
    EXPECT_EQ(segments[2].end_record, 11u);
    EXPECT_EQ(segments[2].end_bytes, layout.ciphertext_size(size));
    EXPECT_EQ(segments[2].end_bytes - segments[2].begin_bytes, 2 * 1000u + 5 + 17);
}

// Reading the body in arbitrary pieces yields exactly ece::encrypt's output.
TEST(CiphertextReader, AnyRangeMatchesTheWholeBodyEncryption) {
    testing::TempDir dir;
    const std::uint32_t record_size = 100;  // 83 plaintext bytes per record
    for (const std::size_t size : {0u, 1u, 83u, 166u, 1000u, 5003u}) {
        const Bytes plain = testing::pattern_bytes(size, static_cast<std::uint32_t>(size));
        const auto path = dir.path() / "src";
        testing::write_bytes(path, plain);
        crypto::FileSecret secret;
        secret.fill(3);
        const auto keys = crypto::derive_file_keys(secret);
        ece::Header header;
        header.salt.fill(9);
        header.record_size = record_size;
        const Bytes whole = ece::encrypt(keys.content_ikm, plain, header);
        const int fd = ::open(path.c_str(), O_RDONLY);
        ASSERT_GE(fd, 0);
        CiphertextReader reader(fd, size, keys.content_ikm, header);
        ASSERT_EQ(reader.body_bytes(), whole.size());
        // Whole body at once, then odd-sized pieces that start and end inside records.
        Bytes out(whole.size());
        ASSERT_TRUE(reader.read(0, out));
        EXPECT_EQ(out, whole) << size;
        for (const std::size_t piece : {1u, 7u, 50u, 100u, 163u}) {
            Bytes joined;
            for (std::uint64_t at = 0; at < whole.size(); at += piece) {
                Bytes part(std::min<std::size_t>(piece, whole.size() - at));
                ASSERT_TRUE(reader.read(at, part));
                joined.insert(joined.end(), part.begin(), part.end());
            }
            EXPECT_EQ(joined, whole) << size << " in pieces of " << piece;
        }
        ::close(fd);
    }
}

// A file that shrank after planning is reported, not padded with garbage.
TEST(CiphertextReader, ReportsAShrunkenFile) {
    testing::TempDir dir;
    const auto path = dir.path() / "src";
    testing::write_bytes(path, testing::pattern_bytes(500, 1));
    crypto::FileSecret secret{};
    const auto keys = crypto::derive_file_keys(secret);
    ece::Header header;
    header.record_size = 100;
    const int fd = ::open(path.c_str(), O_RDONLY);
    ASSERT_GE(fd, 0);
    CiphertextReader reader(fd, 1000, keys.content_ikm, header);
    Bytes out(reader.body_bytes());
    auto r = reader.read(0, out);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::file_changed);
    ::close(fd);
}

}  // namespace
}  // namespace satload::client
