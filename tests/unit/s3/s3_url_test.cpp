// Pins down the blob store URL: s3://BUCKET?endpoint=http://HOST:PORT&region=R, its defaults
// and every refusal (wrong scheme, bad bucket, unknown parameter, non-http endpoint).
#include "s3/s3_blob_store.h"

#include <gtest/gtest.h>

namespace satload::s3 {
namespace {

// The documented form parses into bucket, host, port and region; region defaults.
TEST(S3Url, Parses) {
    auto c = parse_s3_url("s3://satload?endpoint=http://127.0.0.1:7480&region=eu-west-3");
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_EQ(c->endpoint.bucket, "satload");
    EXPECT_EQ(c->endpoint.host, "127.0.0.1");
    EXPECT_EQ(c->endpoint.port, 7480);
    EXPECT_EQ(c->endpoint.region, "eu-west-3");
    EXPECT_EQ(c->part_size_bytes, kDefaultPartBytes);

    c = parse_s3_url("s3://my.bucket-1?endpoint=http://rgw.example");
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_EQ(c->endpoint.port, 80);
    EXPECT_EQ(c->endpoint.region, "us-east-1");
}

// Anything else is refused with a message, never guessed.
TEST(S3Url, Refusals) {
    for (const char* url : {
             "http://satload?endpoint=http://127.0.0.1:7480",        // scheme
             "s3://Satload?endpoint=http://127.0.0.1:7480",          // uppercase bucket
             "s3://ab?endpoint=http://127.0.0.1:7480",               // too short
             "s3://satload",                                         // no endpoint
             "s3://satload?endpoint=https://127.0.0.1:7480",         // TLS not built yet
             "s3://satload?endpoint=http://127.0.0.1:7480/x",        // endpoint path
             "s3://satload/prefix?endpoint=http://127.0.0.1:7480",   // bucket path
             "s3://satload?endpoint=http://127.0.0.1:7480&acl=x",    // unknown parameter
             "s3://satload?endpoint=http://127.0.0.1:7480&region=",  // empty region
             "not a url",
         }) {
        auto c = parse_s3_url(url);
        EXPECT_FALSE(c) << url;
        if (!c) {
            EXPECT_FALSE(c.error().message.empty());
        }
    }
}

// Part and copy-part sizes outside S3's limits and the memory cap are refused before any
// request.
TEST(S3Url, PartSizeLimits) {
    auto c = parse_s3_url("s3://satload?endpoint=http://127.0.0.1:1");
    ASSERT_TRUE(c);
    c->part_size_bytes = kMinPartBytes - 1;
    EXPECT_FALSE(S3BlobStore::open(*c, Credentials("a", "b")));
    c->part_size_bytes = kMaxPartBytes + 1;
    EXPECT_FALSE(S3BlobStore::open(*c, Credentials("a", "b")));
    c->part_size_bytes = kDefaultPartBytes;
    c->copy_part_bytes = kMinPartBytes - 1;
    auto refused = S3BlobStore::open(*c, Credentials("a", "b"));
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().message.find("copy parts"), std::string::npos);
}

}  // namespace
}  // namespace satload::s3
