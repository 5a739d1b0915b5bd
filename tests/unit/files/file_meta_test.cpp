// Pins down the server's checks of a file's replacement metadata: the size limit is exactly
// what fits in an upload's Upload-Metadata, and only base64url RFC 8188 bodies pass.
#include "files/file_meta.h"

#include <gtest/gtest.h>

#include <string>

#include "core/encoding.h"
#include "core/http_headers.h"
#include "crypto/ece.h"
#include "crypto/keys.h"

namespace satload::files {
namespace {

// The upload's default limit (UploadLimits::max_metadata_bytes).
constexpr std::size_t kLimitBytes = 16 * 1024;

// Base64url text of `size` bytes that start with a valid RFC 8188 header.
std::string body_text(std::size_t size) {
    crypto::ece::Header header;
    header.salt.fill(7);
    header.record_size = 8192;
    Bytes body = crypto::ece::serialize_header(header);
    body.resize(size, 0x5a);
    return base64url_encode(body);
}

// Whether an upload could carry `meta`: its Upload-Metadata pair parses and fits the limit.
bool upload_could_carry(const std::string& meta, std::size_t limit_bytes) {
    const std::string header = "meta " + base64_encode(as_bytes(meta));
    return header.size() <= limit_bytes && parse_upload_metadata(header).has_value();
}

// The largest metadata is the largest an upload could carry, under the default limit (where
// the tus value limit binds) and under a small one (where the header's size binds); one more
// character could not have been uploaded.
TEST(FileMeta, LimitIsWhatAnUploadCouldCarry) {
    for (const std::size_t limit : {kLimitBytes, std::size_t{1000}}) {
        const std::size_t max = max_meta_chars(limit);
        EXPECT_TRUE(upload_could_carry(std::string(max, 'A'), limit)) << limit;
        EXPECT_FALSE(upload_could_carry(std::string(max + 1, 'A'), limit)) << limit;
    }
    EXPECT_GE(max_meta_chars(kLimitBytes), 8192u);  // the clients' kMaxMetadataTextChars
    EXPECT_EQ(max_meta_chars(5), 0u);
    EXPECT_EQ(max_meta_chars(0), 0u);
}

// Real encrypted metadata passes; so does any body of the right shape up to the limit, and
// one character past it is refused with the limit named.
TEST(FileMeta, AcceptsBodiesUpToTheLimit) {
    crypto::FileSecret secret{};
    secret.fill(3);
    const crypto::FileKeys keys = crypto::derive_file_keys(secret);
    crypto::ece::Header header;
    header.record_size = 8192;
    const std::string json = R"({"name":"a.txt","size":5,"type":"text/plain"})";
    const std::string real =
        base64url_encode(crypto::ece::encrypt(keys.metadata_ikm, as_bytes(json), header));
    EXPECT_EQ(meta_problem(real, kLimitBytes), std::nullopt);

    const std::size_t max = max_meta_chars(kLimitBytes);
    // Base64url of n bytes is 4n/3 characters rounded up: find the sizes around the limit.
    std::size_t bytes = max * 3 / 4;
    while (body_text(bytes + 1).size() <= max) ++bytes;
    ASSERT_LE(body_text(bytes).size(), max);
    EXPECT_EQ(meta_problem(body_text(bytes), kLimitBytes), std::nullopt);
    const std::string too_big = body_text(bytes + 1);
    ASSERT_GT(too_big.size(), max);
    const auto problem = meta_problem(too_big, kLimitBytes);
    ASSERT_TRUE(problem);
    EXPECT_NE(problem->find(std::to_string(max)), std::string::npos) << *problem;
}

// Text that is not base64url, a body too short for a header and one record, and a header
// with an impossible record size are refused; an empty text too.
TEST(FileMeta, RefusesWhatIsNotAnEncryptedBody) {
    const std::size_t min_body = crypto::ece::kHeaderBaseBytes + crypto::ece::kTagBytes + 1;
    EXPECT_EQ(meta_problem(body_text(min_body), kLimitBytes), std::nullopt);
    EXPECT_TRUE(meta_problem(body_text(min_body - 1), kLimitBytes));
    EXPECT_TRUE(meta_problem("", kLimitBytes));
    EXPECT_TRUE(meta_problem(body_text(100) + "=", kLimitBytes));  // padding
    EXPECT_TRUE(meta_problem("abc+def/ghi", kLimitBytes));         // standard alphabet
    EXPECT_TRUE(meta_problem("not base64 at all!", kLimitBytes));
    Bytes bad_record_size(100, 0);  // record size 0 in the header
    EXPECT_TRUE(meta_problem(base64url_encode(bad_record_size), kLimitBytes));
}

}  // namespace
}  // namespace satload::files
