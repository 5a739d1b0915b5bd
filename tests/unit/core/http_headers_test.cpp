// Pins down the header grammars the server trusts: sizes, tus fields and byte ranges,
// including the hostile and malformed forms each must refuse.
#include "core/http_headers.h"

#include <gtest/gtest.h>

namespace satload {
namespace {

TEST(ParseDecimal, AcceptsPlainDigitsOnly) {
    EXPECT_EQ(parse_decimal("0"), 0u);
    EXPECT_EQ(parse_decimal("1234"), 1234u);
    EXPECT_EQ(parse_decimal("9999999999999999999"), 9999999999999999999ull);
    EXPECT_FALSE(parse_decimal(""));
    EXPECT_FALSE(parse_decimal("-1"));
    EXPECT_FALSE(parse_decimal("+1"));
    EXPECT_FALSE(parse_decimal(" 1"));
    EXPECT_FALSE(parse_decimal("1e3"));
    EXPECT_FALSE(parse_decimal("18446744073709551616"));  // 20 digits: refused, no overflow
}

TEST(UploadMetadata, ParsesPairsAndRefusesDuplicatesAndBadBase64) {
    const auto pairs = parse_upload_metadata("meta YWJj,flag,name  ZA==");
    ASSERT_TRUE(pairs);
    ASSERT_EQ(pairs->size(), 3u);
    EXPECT_EQ((*pairs)[0], (std::pair<std::string, std::string>{"meta", "abc"}));
    EXPECT_EQ((*pairs)[1].second, "");
    EXPECT_EQ((*pairs)[2].second, "d");
    EXPECT_TRUE(parse_upload_metadata("")->empty());
    EXPECT_FALSE(parse_upload_metadata("a YQ==,a YQ=="));
    EXPECT_FALSE(parse_upload_metadata("a !!!"));
    EXPECT_FALSE(parse_upload_metadata("a YQ==,,b"));
    std::string many;
    for (std::size_t i = 0; i <= kMaxMetadataPairs; ++i) many += "k" + std::to_string(i) + ",";
    many.pop_back();
    EXPECT_FALSE(parse_upload_metadata(many));
}

// A rename rewrites one pair of an upload's metadata: the others stay as they were (a flag
// without a value too), and metadata without the key or that does not parse is refused.
TEST(UploadMetadata, ReplacesOneValue) {
    EXPECT_EQ(replace_upload_metadata_value("meta YWJj,flag,name ZA==", "meta", "xyz"), "meta eHl6,flag,name ZA==");
    EXPECT_EQ(replace_upload_metadata_value("name ZA==,meta YWJj", "meta", "d"), "name ZA==,meta ZA==");
    EXPECT_FALSE(replace_upload_metadata_value("name ZA==", "meta", "x"));
    EXPECT_FALSE(replace_upload_metadata_value("meta !!!", "meta", "x"));
}

TEST(UploadChecksum, ParsesAlgorithmAndDigest) {
    const auto c = parse_upload_checksum("SHA256 AAECAw==");
    ASSERT_TRUE(c);
    EXPECT_EQ(c->algorithm, "sha256");
    EXPECT_EQ(c->digest, (Bytes{0, 1, 2, 3}));
    EXPECT_FALSE(parse_upload_checksum("sha256"));
    EXPECT_FALSE(parse_upload_checksum("sha256 ***"));
    EXPECT_FALSE(parse_upload_checksum(" AAEC"));
}

TEST(UploadConcat, PartialAndFinal) {
    EXPECT_TRUE(parse_upload_concat("partial")->partial);
    const auto f = parse_upload_concat("final;/files/a http://h/files/b");
    ASSERT_TRUE(f);
    EXPECT_FALSE(f->partial);
    EXPECT_EQ(f->parts, (std::vector<std::string>{"/files/a", "http://h/files/b"}));
    EXPECT_FALSE(parse_upload_concat("final;"));
    EXPECT_FALSE(parse_upload_concat("whole"));
}

TEST(Range, SingleRangesResolveAgainstTheSize) {
    auto r = parse_range("bytes=0-0", 100);
    EXPECT_EQ(r.result, RangeResult::satisfiable);
    EXPECT_EQ(r.range.first, 0u);
    EXPECT_EQ(r.range.last, 0u);
    r = parse_range("bytes=99-", 100);
    EXPECT_EQ(r.result, RangeResult::satisfiable);
    EXPECT_EQ(r.range.length(), 1u);
    r = parse_range("bytes=-10", 100);
    EXPECT_EQ(r.range.first, 90u);
    EXPECT_EQ(r.range.last, 99u);
    r = parse_range("bytes=-1000", 100);  // a suffix longer than the body is the whole body
    EXPECT_EQ(r.range.first, 0u);
    r = parse_range("bytes=10-5000", 100);  // a last byte past the end is clamped
    EXPECT_EQ(r.range.last, 99u);
}

TEST(Range, UnsatisfiableMalformedAndIgnored) {
    EXPECT_EQ(parse_range("bytes=100-", 100).result, RangeResult::unsatisfiable);
    EXPECT_EQ(parse_range("bytes=-0", 100).result, RangeResult::unsatisfiable);
    EXPECT_EQ(parse_range("bytes=0-0", 0).result, RangeResult::unsatisfiable);
    EXPECT_EQ(parse_range("bytes=5-1", 100).result, RangeResult::malformed);
    EXPECT_EQ(parse_range("bytes=a-b", 100).result, RangeResult::malformed);
    EXPECT_EQ(parse_range("bytes=1", 100).result, RangeResult::malformed);
    EXPECT_EQ(parse_range("bytes=0-1,5-6", 100).result, RangeResult::none);
    EXPECT_EQ(parse_range("items=0-1", 100).result, RangeResult::none);
}

}  // namespace
}  // namespace satload
