// Pins down the strict codecs: RFC 4648 vectors, and refusal of every non-canonical form.
#include "core/encoding.h"

#include <gtest/gtest.h>

#include "core/ids.h"
#include "core/problem.h"

namespace satload {
namespace {

TEST(Encoding, Rfc4648Base64Vectors) {
    const std::pair<std::string, std::string> vectors[] = {
        {"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},        {"foo", "Zm9v"},
        {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
    };
    for (const auto& [plain, encoded] : vectors) {
        EXPECT_EQ(base64_encode(as_bytes(plain)), encoded);
        const auto back = base64_decode(encoded);
        ASSERT_TRUE(back) << encoded;
        EXPECT_EQ(as_chars(*back), plain);
    }
}

TEST(Encoding, Base64UrlHasNoPaddingAndUrlAlphabet) {
    const Bytes data = {0xfb, 0xff, 0xbf};
    EXPECT_EQ(base64url_encode(data), "-_-_");
    EXPECT_EQ(base64url_encode(as_bytes("f")), "Zg");
    ASSERT_TRUE(base64url_decode("-_-_"));
    EXPECT_EQ(*base64url_decode("-_-_"), data);
}

TEST(Encoding, Base64UrlRefusesNonCanonicalText) {
    EXPECT_FALSE(base64url_decode("Zg=="));  // padding
    EXPECT_FALSE(base64url_decode("+/+/"));  // standard alphabet
    EXPECT_FALSE(base64url_decode("Zh"));    // non-zero trailing bits
    EXPECT_FALSE(base64url_decode("Z"));     // impossible length
    EXPECT_FALSE(base64url_decode("Zg\n"));
}

TEST(Encoding, HexRoundTripAndRefusal) {
    const Bytes data = {0x00, 0x7f, 0xab, 0xff};
    EXPECT_EQ(hex_encode(data), "007fabff");
    EXPECT_EQ(*hex_decode("007FABFF"), data);
    EXPECT_FALSE(hex_decode("abc"));
    EXPECT_FALSE(hex_decode("zz"));
}

TEST(Ids, OnlyCanonicalIdsAreAccepted) {
    FileIdBytes f{};
    f[0] = 1;
    const std::string id = file_id_text(f);
    EXPECT_EQ(id.size(), kFileIdChars);
    EXPECT_TRUE(is_file_id(id));
    EXPECT_FALSE(is_file_id(id.substr(1)));
    EXPECT_FALSE(is_file_id("../../../etc/passwd...."));
    std::string bad_tail = id;
    bad_tail.back() = 'B';  // sets the unused low bits
    EXPECT_FALSE(is_file_id(bad_tail));
    UploadIdBytes u{};
    EXPECT_TRUE(is_upload_id(upload_id_text(u)));
    EXPECT_FALSE(is_upload_id(id));
}

TEST(Problem, RendersStableJson) {
    const std::string body = problem_json(Problem::checksum_mismatch, "say \"hi\"\n");
    EXPECT_EQ(problem_info(Problem::checksum_mismatch).status, 460);
    EXPECT_NE(body.find(R"("type":"https://satload.dev/problems/checksum-mismatch")"),
              std::string::npos);
    EXPECT_NE(body.find(R"("detail":"say \"hi\"\n")"), std::string::npos);
}

}  // namespace
}  // namespace satload

#include "core/checksum.h"

namespace satload {
namespace {

// XXH3-128 of the empty input and of "abc" as Debian's `xxhsum -H2` prints them; streaming in
// pieces gives the same value as one update.
TEST(Checksum, Xxh3KnownValuesAndStreaming) {
    Xxh3Checksum c;
    EXPECT_EQ(c.finish_hex(), "99aa06d3014798d86001c324468d497f");
    c.update(as_bytes("abc"));
    const std::string whole = c.finish_hex();
    EXPECT_EQ(whole, "06b05ab6733a618578af5f94892f3950");
    c.update(as_bytes("a"));
    c.update(as_bytes("bc"));
    EXPECT_EQ(c.finish_hex(), whole);
}

// assign() takes another checksum's state: the copy goes on from the same prefix, and the
// original is left as it was.
TEST(Checksum, Xxh3AssignContinuesFromTheSamePrefix) {
    Xxh3Checksum original;
    original.update(as_bytes("a"));
    Xxh3Checksum copy;
    copy.update(as_bytes("something else"));
    copy.assign(original);
    copy.update(as_bytes("bc"));
    EXPECT_EQ(copy.finish_hex(), "06b05ab6733a618578af5f94892f3950");
    original.update(as_bytes("bc"));
    EXPECT_EQ(original.finish_hex(), "06b05ab6733a618578af5f94892f3950");
}

}  // namespace
}  // namespace satload

namespace satload {
namespace {

// The dash test matches the text: exactly the ids whose first base64url digit is '-'.
TEST(FileIds, DashTestMatchesTheText) {
    for (int first = 0; first < 256; ++first) {
        FileIdBytes b{};
        b[0] = static_cast<std::uint8_t>(first);
        EXPECT_EQ(file_id_text_starts_with_dash(b), file_id_text(b).front() == '-') << first;
    }
}

}  // namespace
}  // namespace satload
