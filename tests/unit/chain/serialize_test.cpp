// Pins down CompactSize at every width boundary: the shortest form is written and read back;
// a longer-than-needed form of each width is refused as non-canonical; values above Bitcoin
// Core's MAX_SIZE are refused; truncated forms consume nothing.
#include "chain/serialize.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace satload::chain {
namespace {

using test::hex;
using test::unhex;

// Boundary values and their canonical encodings.
TEST(CompactSize, CanonicalBoundaries) {
    struct Case {
        std::uint64_t value;
        std::string_view encoding;
    };
    constexpr Case kCases[] = {
        {0, "00"},
        {0xfc, "fc"},
        {0xfd, "fdfd00"},
        {0xffff, "fdffff"},
        {0x10000, "fe00000100"},
        {kMaxCompactSize, "fe00000002"},
    };
    for (const auto& c : kCases) {
        ByteWriter w;
        w.compact_size(c.value);
        EXPECT_EQ(hex(w.data()), c.encoding) << c.value;
        EXPECT_EQ(compact_size_bytes(c.value), w.data().size());
        const Bytes b = unhex(c.encoding);
        ByteReader r(b);
        const auto n = r.compact_size();
        EXPECT_FALSE(n.error.has_value()) << c.value;
        EXPECT_EQ(n.value, c.value);
        EXPECT_TRUE(r.at_end());
    }
}

// Longer forms of small values, values past MAX_SIZE, and truncation.
TEST(CompactSize, Refusals) {
    using E = ByteReader::CompactSizeError;
    struct Case {
        std::string_view encoding;
        E error;
    };
    constexpr Case kCases[] = {
        {"fdfc00", E::non_canonical},
        {"feffff0000", E::non_canonical},  // 0xffff in five bytes
        {"ffffffffff00000000", E::non_canonical},
        {"fe01000002", E::too_large},  // MAX_SIZE + 1
        {"ff0000000001000000", E::too_large},
        {"fd00", E::truncated},
        {"fe000000", E::truncated},
        {"ff00000000000000", E::truncated},
        {"", E::truncated},
    };
    for (const auto& c : kCases) {
        const Bytes b = unhex(c.encoding);
        ByteReader r(b);
        const auto n = r.compact_size();
        ASSERT_TRUE(n.error.has_value()) << c.encoding;
        EXPECT_EQ(*n.error, c.error) << c.encoding;
        if (c.error == E::truncated) {
            EXPECT_EQ(r.offset(), 0u) << c.encoding;
        }
    }
}

}  // namespace
}  // namespace satload::chain
